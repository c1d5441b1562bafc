//! The cost formulas against figures worked out by hand from the published prices.
//!
//! One file over 500 lines: every test shares the hand-set profile at its top.

use serde_json::{Value, json};

use super::estimate::{Estimate, Template};
use super::*;

fn close(actual: f64, expected: f64) -> bool {
    (actual - expected).abs() <= 1e-6_f64.max(expected.abs() * 1e-6)
}

/// The default profile with the numbers these tests compute by hand, whatever the file says.
fn usage() -> Usage {
    let mut usage = Usage::load("prod", false, None).unwrap();
    usage.monthly_active_users = 1000.0;
    usage.pictures_per_user = 10.0;
    usage.recording_seconds = 30.0;
    usage.visits_per_user = 10.0;
    usage.gallery_views_per_user = 6.0;
    usage.images_kept_per_user = 40.0;
    let per = &mut usage.invocations;
    per.per_picture = [
        ("audio-upload", 1.0),
        ("generate", 1.0),
        ("jobs", 4.0),
        ("worker", 1.0),
        ("image-processor", 1.0),
        ("websocket", 2.0),
    ]
    .into_iter()
    .map(|(name, count)| (name.to_owned(), count))
    .collect();
    per.per_visit = [("profile".to_owned(), 1.0)].into();
    per.per_gallery_view = [("gallery".to_owned(), 2.0)].into();
    usage.duration_ms.insert("worker".into(), 20_000.0);
    usage.picture.websocket_messages = 6.0;
    usage.picture.websocket_minutes = 1.0;
    usage.picture.dynamodb_writes = [("images".to_owned(), 4.0)].into();
    usage.picture.dynamodb_reads = Default::default();
    usage.gallery_view.dynamodb_reads = [("images".to_owned(), 5.0)].into();
    usage.visit.dynamodb_reads = Default::default();
    usage.picture.audio_kilobytes_per_second = 4.0;
    usage.picture.image_kilobytes = 1800.0;
    usage.picture.thumbnail_kilobytes = 40.0;
    usage.picture.s3_writes = 3.0;
    usage.picture.s3_reads = 2.0;
    usage.gallery_view.thumbnails = 12.0;
    usage.gallery_view.images_opened = 1.0;
    usage.visit.site_requests = 12.0;
    usage.visit.site_kilobytes = 150.0;
    usage.storage.image_item_kilobytes = 2.0;
    usage.logs.kilobytes_per_invocation = 1.2;
    usage.logs.compression = 0.15;
    usage.operations.cdn_invalidation_paths = 40.0;
    usage
}

/// One template holding `resources`.
fn template(resources: Value) -> Vec<Template> {
    vec![Template {
        stack: "mumble-test-app".into(),
        document: json!({ "Resources": resources }),
    }]
}

fn run(resources: Value, usage: &Usage, free_tier: bool) -> Estimate {
    let prices = PriceTable::builtin().unwrap();
    estimate::estimate(&template(resources), usage, &prices, free_tier).unwrap()
}

/// The cost of one price in an estimate.
fn cost(estimate: &Estimate, price: &str) -> f64 {
    estimate
        .lines
        .iter()
        .filter(|line| line.price == price)
        .map(|line| line.usd)
        .sum()
}

fn worker(memory: u32, architecture: &str, providers: &str) -> Value {
    json!({
        "WorkerFunction": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "MemorySize": memory,
                "Architectures": [architecture],
                "TracingConfig": { "Mode": "Active" },
                "Environment": { "Variables": {
                    "MUMBLE_PROVIDERS": providers,
                    "OPENAI_API_KEY_PARAM": "/mumble/test/openai-api-key",
                    "OPENWEATHER_API_KEY_PARAM": "/mumble/test/openweather-api-key"
                }}
            }
        }
    })
}

#[test]
fn lambda_bills_requests_gigabyte_seconds_by_architecture_traces_and_the_ai_calls() {
    let usage = usage();
    // 1,000 users × 10 pictures = 10,000 worker runs of 20 s.
    let x86 = run(worker(1024, "x86_64", "openai"), &usage, false);
    assert!(close(cost(&x86, "lambda.requests"), 10_000.0 * 0.20 / 1e6)); // $0.002
    // 10,000 × 20 s × 1 GB = 200,000 GB-s at $0.0000166667
    assert!(close(
        cost(&x86, "lambda.duration.x86_64"),
        200_000.0 * 0.0000166667
    ));
    assert!(close(cost(&x86, "xray.traces"), 10_000.0 * 5.0 / 1e6)); // $0.05
    // 10,000 recordings of half a minute at $0.006 a minute: $30
    assert!(close(cost(&x86, "openai.whisper"), 10_000.0 * 0.5 * 0.006));
    // 10,000 DALL-E 3 images, standard 1024x1024, at $0.04: $400
    assert!(close(cost(&x86, "openai.dalle3.standard.1024"), 400.0));
    // 10,000 weather calls are inside the Free plan's 1,000,000
    assert_eq!(cost(&x86, "openweather.calls"), 0.0);

    // arm64 at 512 MB: 10,000 × 20 s × 0.5 GB = 100,000 GB-s at $0.0000133334
    let arm = run(worker(512, "arm64", "openai"), &usage, false);
    assert!(close(
        cost(&arm, "lambda.duration.arm64"),
        100_000.0 * 0.0000133334
    ));
    assert_eq!(cost(&arm, "lambda.duration.x86_64"), 0.0);

    // The free tier's 400,000 GB-s and 1,000,000 requests cover it all.
    let free = run(worker(1024, "x86_64", "openai"), &usage, true);
    assert_eq!(cost(&free, "lambda.duration.x86_64"), 0.0);
    assert_eq!(cost(&free, "lambda.requests"), 0.0);

    // Offline stand-ins call no provider.
    let offline = run(worker(1024, "x86_64", "offline"), &usage, false);
    assert_eq!(cost(&offline, "openai.dalle3.standard.1024"), 0.0);
    assert_eq!(cost(&offline, "openai.whisper"), 0.0);
}

#[test]
fn a_rate_schedule_sets_the_invocations_of_its_target() {
    let mut usage = usage();
    usage.duration_ms.insert("cleanup".into(), 1000.0);
    let estimate = run(
        json!({
            "CleanupFunction": { "Type": "AWS::Lambda::Function", "Properties": { "MemorySize": 1024 } },
            "CleanupSchedule": { "Type": "AWS::Events::Rule", "Properties": {
                "ScheduleExpression": "rate(1 hour)",
                "Targets": [{ "Id": "cleanup", "Arn": { "Fn::GetAtt": ["CleanupFunction", "Arn"] } }]
            }}
        }),
        &usage,
        false,
    );
    // 30 days × 24 hours = 720 runs of 1 s at 1 GB
    let requests = estimate
        .lines
        .iter()
        .find(|line| line.price == "lambda.requests")
        .unwrap();
    assert_eq!(requests.quantity, 720.0);
    assert!(close(
        cost(&estimate, "lambda.duration.x86_64"),
        720.0 * 0.0000166667
    ));
}

#[test]
fn api_gateway_bills_http_requests_and_websocket_messages_and_minutes() {
    let estimate = run(
        json!({
            "HttpApi": { "Type": "AWS::ApiGatewayV2::Api", "Properties": { "ProtocolType": "HTTP" } },
            "WebSocketApi": { "Type": "AWS::ApiGatewayV2::Api", "Properties": { "ProtocolType": "WEBSOCKET" } }
        }),
        &usage(),
        false,
    );
    // HTTP functions: 10,000 pictures × (1 upload URL + 1 generate + 4 polls) + 10,000 visits × 1
    // profile + 6,000 gallery views × 2 = 82,000 requests at $1 per million
    assert!(close(cost(&estimate, "apigateway.http.requests"), 0.082));
    // 10,000 pictures × 6 messages = 60,000 at $1 per million
    assert!(close(
        cost(&estimate, "apigateway.websocket.messages"),
        0.06
    ));
    // 10,000 pictures × 1 minute = 10,000 minutes at $0.25 per million
    assert!(close(
        cost(&estimate, "apigateway.websocket.minutes"),
        0.0025
    ));
}

#[test]
fn dynamodb_bills_request_units_storage_and_point_in_time_recovery() {
    let table = |pitr: bool| {
        json!({ "ImagesTable": { "Type": "AWS::DynamoDB::Table", "Properties": {
            "BillingMode": "PAY_PER_REQUEST",
            "PointInTimeRecoverySpecification": { "PointInTimeRecoveryEnabled": pitr }
        }}})
    };
    let estimate = run(table(true), &usage(), false);
    // 10,000 pictures × 4 write units = 40,000 at $0.625 per million
    assert!(close(cost(&estimate, "dynamodb.writes"), 0.025));
    // 6,000 gallery views × 5 read units = 30,000 at $0.125 per million
    assert!(close(cost(&estimate, "dynamodb.reads"), 0.00375));
    // 1,000 users × 40 images × 2 KB = 0.08 GB: $0.25 and $0.20 a GB-month
    assert!(close(cost(&estimate, "dynamodb.storage"), 0.08 * 0.25));
    assert!(close(cost(&estimate, "dynamodb.pitr"), 0.08 * 0.20));
    let without = run(table(false), &usage(), false);
    assert_eq!(cost(&without, "dynamodb.pitr"), 0.0);
}

#[test]
fn s3_bills_storage_requests_and_transfer_with_audio_kept_as_the_lifecycle_says() {
    let bucket = |days: u32| {
        json!({ "MediaBucket": { "Type": "AWS::S3::Bucket", "Properties": {
            "LifecycleConfiguration": { "Rules": [
                { "Id": "ExpireRawAudio", "Status": "Enabled", "Prefix": "audio/", "ExpirationInDays": days }
            ]}
        }}})
    };
    let estimate = run(bucket(30), &usage(), false);
    // audio: 10,000 × 30 s × 4 KB = 1.2 GB kept 30 days; images: 1,000 × 40 × (1,800 + 40) KB
    // = 73.6 GB; 74.8 GB at $0.023
    assert!(close(cost(&estimate, "s3.storage"), 74.8 * 0.023));
    // 10,000 × 3 PUTs at $0.005 per 1,000
    assert!(close(cost(&estimate, "s3.writes"), 0.15));
    // 10,000 × 2 + 6,000 views × (12 thumbnails + 1 image) = 98,000 GETs at $0.0004 per 1,000
    assert!(close(cost(&estimate, "s3.reads"), 98.0 * 0.0004));
    // 6,000 × (12 × 40 + 1,800) KB = 13.68 GB at $0.09
    assert!(close(cost(&estimate, "s3.transfer_out"), 13.68 * 0.09));
    // Audio kept 7 days: 1.2 × 7 / 30 = 0.28 GB instead of 1.2
    let week = run(bucket(7), &usage(), false);
    assert!(close(cost(&week, "s3.storage"), (73.6 + 0.28) * 0.023));
    // The free tier's 100 GB of transfer cover the 13.68 GB.
    let free = run(bucket(30), &usage(), true);
    assert_eq!(cost(&free, "s3.transfer_out"), 0.0);
}

#[test]
fn cloudfront_bills_transfer_requests_and_invalidation_paths_beyond_the_free_thousand() {
    let distribution =
        json!({ "Distribution": { "Type": "AWS::CloudFront::Distribution", "Properties": {} } });
    let estimate = run(distribution.clone(), &usage(), false);
    // 10,000 visits × 12 requests = 120,000 at $0.01 per 10,000
    assert!(close(cost(&estimate, "cloudfront.requests"), 0.12));
    // 10,000 × 150 KB = 1.5 GB at $0.085
    assert!(close(
        cost(&estimate, "cloudfront.transfer_out"),
        1.5 * 0.085
    ));
    assert_eq!(cost(&estimate, "cloudfront.invalidations"), 0.0);
    let mut busy = usage();
    busy.operations.cdn_invalidation_paths = 1200.0;
    // 200 paths beyond the first 1,000 at $0.005
    let estimate = run(distribution, &busy, false);
    assert!(close(cost(&estimate, "cloudfront.invalidations"), 1.0));
}

#[test]
fn cognito_bills_monthly_active_users_by_tier_after_the_free_ten_thousand() {
    let pool = |tier: Option<&str>| {
        let properties = match tier {
            Some(tier) => json!({ "UserPoolTier": tier }),
            None => json!({}),
        };
        json!({ "UserPool": { "Type": "AWS::Cognito::UserPool", "Properties": properties } })
    };
    // Essentials (the default): 1,000 × $0.015
    assert!(close(
        run(pool(None), &usage(), false).total(),
        1000.0 * 0.015
    ));
    // Lite: 1,000 × $0.0055
    assert!(close(
        run(pool(Some("LITE")), &usage(), false).total(),
        1000.0 * 0.0055
    ));
    assert_eq!(run(pool(None), &usage(), true).total(), 0.0);
    let mut many = usage();
    many.monthly_active_users = 15_000.0;
    // 5,000 users beyond the free 10,000
    assert!(close(run(pool(None), &many, true).total(), 5000.0 * 0.015));
}

#[test]
fn cloudwatch_bills_logs_by_retention_and_alarms_beyond_the_free_ten() {
    let log_group = |days: u32| {
        json!({ "WorkerLogGroup": { "Type": "AWS::Logs::LogGroup", "Properties": {
            "LogGroupName": "/aws/lambda/mumble-test-worker", "RetentionInDays": days
        }}})
    };
    let estimate = run(log_group(90), &usage(), false);
    // 10,000 runs × 1.2 KB = 0.012 GB ingested at $0.50; stored compressed to 15 % for three
    // months: 0.012 × 0.15 × 3 = 0.0054 GB-months at $0.03
    assert!(close(cost(&estimate, "cloudwatch.logs.ingested"), 0.006));
    assert!(close(
        cost(&estimate, "cloudwatch.logs.stored"),
        0.0054 * 0.03
    ));
    let week = run(log_group(7), &usage(), false);
    assert!(close(
        cost(&week, "cloudwatch.logs.stored"),
        0.012 * 0.15 * 7.0 / 30.0 * 0.03
    ));

    let alarms: serde_json::Map<String, Value> = (0..34)
        .map(|n| {
            (
                format!("Alarm{n}"),
                json!({ "Type": "AWS::CloudWatch::Alarm", "Properties": {} }),
            )
        })
        .collect();
    // 34 alarms at $0.10, or 24 beyond the free 10
    assert!(close(
        run(Value::Object(alarms.clone()), &usage(), false).total(),
        3.40
    ));
    assert!(close(
        run(Value::Object(alarms), &usage(), true).total(),
        2.40
    ));
}

#[test]
fn sns_and_sqs_bill_the_alarm_notifications_and_dead_letters() {
    let mut usage = usage();
    usage.operations.alarm_notifications = 3000.0;
    usage.operations.dead_letters = 2_000_000.0;
    let estimate = run(
        json!({
            "AlarmTopic": { "Type": "AWS::SNS::Topic", "Properties": {} },
            "AlarmEmail": { "Type": "AWS::SNS::Subscription", "Properties": { "Protocol": "email" } },
            "DeadLetterQueue": { "Type": "AWS::SQS::Queue", "Properties": {} }
        }),
        &usage,
        true,
    );
    // 2,000 e-mails beyond the free 1,000 at $2 per 100,000
    assert!(close(cost(&estimate, "sns.email"), 0.04));
    // 1,000,000 requests beyond the free million at $0.40 per million
    assert!(close(cost(&estimate, "sqs.requests"), 0.40));
}

#[test]
fn every_resource_type_of_every_stage_has_a_price_or_is_free() {
    let table = PriceTable::builtin().unwrap();
    let mut stages = crate::stage::all_with_personal().unwrap();
    // The fixture that sets every optional setting (hosted zone, GitHub role, alarm e-mail).
    let fixture = crate::tools::workspace_root().join("stacks/tests/it/fixtures/full.yaml");
    stages.push(
        stacks::Settings::load(fixture)
            .unwrap()
            .stage("live")
            .unwrap(),
    );
    for stage in &stages {
        for template in synthesized(stage) {
            for (id, resource) in template.document["Resources"].as_object().unwrap() {
                let kind = resource["Type"].as_str().unwrap();
                assert!(
                    table.resource_types.contains_key(kind),
                    "{} {id}: {kind} has no entry under `resource_types` in {}",
                    template.stack,
                    prices::PATH
                );
            }
        }
        // And the estimate runs on the whole stage.
        let inputs = Inputs::load(stage, None, false).unwrap();
        inputs.estimate(&synthesized(stage)).unwrap();
    }
}

#[test]
fn every_priced_type_has_a_formula() {
    let table = PriceTable::builtin().unwrap();
    for (kind, rule) in &table.resource_types {
        if rule.prices.is_empty() {
            continue;
        }
        assert!(
            estimate::PRICED_TYPES.contains(&kind.as_str()),
            "{kind} lists prices in {} but the estimate has no formula for it",
            prices::PATH
        );
    }
    for kind in estimate::PRICED_TYPES {
        assert!(
            table
                .resource_types
                .get(*kind)
                .is_some_and(|rule| !rule.prices.is_empty()),
            "the estimate prices {kind}, but {} does not list its prices",
            prices::PATH
        );
    }
}

#[test]
fn an_unknown_resource_type_is_an_error_naming_the_table() {
    let prices = PriceTable::builtin().unwrap();
    let error = estimate::estimate(
        &template(
            json!({ "Cache": { "Type": "AWS::ElastiCache::CacheCluster", "Properties": {} } }),
        ),
        &usage(),
        &prices,
        false,
    )
    .unwrap_err()
    .to_string();
    assert!(error.contains("AWS::ElastiCache::CacheCluster"), "{error}");
    assert!(error.contains(prices::PATH), "{error}");
}

fn prod() -> (Inputs, Vec<Template>) {
    let stage = crate::stage::resolve("prod").unwrap();
    let inputs = Inputs::load(&stage, None, false).unwrap();
    (inputs, synthesized(&stage))
}

#[test]
fn prod_at_the_default_profile_is_what_the_hand_computation_says() {
    let (inputs, templates) = prod();
    let usage = &inputs.usage;
    assert_eq!(
        usage.monthly_active_users, 300.0,
        "the default profile changed: redo the sums below"
    );
    assert_eq!(
        usage.pictures_per_user, 8.0,
        "the default profile changed: redo the sums below"
    );
    // 300 users × 8 = 2,400 pictures; 300 × 10 = 3,000 visits; 300 × 6 = 1,800 gallery views.
    let hand = [
        2400.0 * 0.04,        // DALL-E 3 images: $96.00
        2400.0 * 0.5 * 0.006, // Whisper, 30 s each: $7.20
        300.0 * 0.015,        // Cognito Essentials: $4.50
        35.0 * 0.10,          // 35 alarms (33 of the functions, dead letters, provider cap): $3.50
        3.0,                  // the stage's dashboard: $3.00
        // media: 300 × 40 × 1,840 KB + 2,400 × 30 s × 4 KB (kept 30 days) = 22.368 GB,
        // plus 0.3 GB of artifacts
        (22.368 + 0.3) * 0.023,                       // $0.52
        1800.0 * (12.0 * 40.0 + 1800.0) / 1e6 * 0.09, // gallery transfer, 4.104 GB: $0.37
        2400.0 * 25.0 * 0.5 * 0.0000166667,           // worker, 25 s at 512 MB: $0.50
        2400.0 * 1.5 * 1.0 * 0.0000166667,            // image processor, 1.5 s at 1 GB: $0.06
        // traces: 2,400 × 10 + 3,000 + 1,800 × 2 + 720 cleanup runs = 31,320
        31_320.0 * 5.0 / 1e6, // X-Ray: $0.16
    ]
    .iter()
    .sum::<f64>();
    // What is left (HTTP API, logs, CloudFront, DynamoDB, the other functions) is a few cents
    // each: together under 50 cents.
    let total = inputs.estimate(&templates).unwrap().total();
    assert!(
        total >= hand && total <= hand + 0.50,
        "prod at the default profile: estimated {total:.2}, by hand {hand:.2} + under 0.50"
    );
}

#[test]
fn the_break_even_is_the_first_user_count_above_the_host() {
    // $5 fixed and 2 cents a user pass $45 above 2,000 users.
    let found = break_even(45.0, |users| Ok(5.0 + 0.02 * users)).unwrap();
    assert_eq!(found, Some(2001.0));
    assert_eq!(break_even(45.0, |_| Ok(50.0)).unwrap(), Some(0.0));
    assert_eq!(break_even(45.0, |_| Ok(1.0)).unwrap(), None);
}

#[test]
fn prods_break_even_matches_its_per_user_rate() {
    let (inputs, templates) = prod();
    let report = Report::new("prod", &inputs, &templates).unwrap();
    let users = report.host.break_even_monthly_active_users.unwrap();
    let at = |users: f64| {
        inputs
            .estimate_at(&templates, users)
            .unwrap()
            .infrastructure()
    };
    assert!(at(users) > 45.0 && at(users - 1.0) <= 45.0, "{users}");
    // By hand: $6.51 a month whatever the users (35 alarms, the dashboard, 0.3 GB of artifacts,
    // the hourly cleanup), and per user 2.11 cents: Cognito 1.5, media storage 40 × 1.84 MB at $0.023
    // (0.17), gallery transfer 6 × 2.28 MB at $0.09 (0.12), Lambda compute 8 × 12.5 GB-s for the
    // worker and 8 × 1.5 for the image processor (0.19), X-Ray 102 traces (0.05), and the rest
    // (CloudFront, S3 requests, logs, DynamoDB, API Gateway: 0.08):
    // (45 - 6.51) / 0.0211 ≈ 1,824 users.
    let hand = (45.0 - 6.51) / 0.0211;
    assert!(
        (users - hand).abs() / hand < 0.05,
        "break-even at {users} users, by hand {hand:.0}"
    );
    let text = report.to_string();
    assert!(text.contains("break-even: above"), "{text}");
    assert!(text.contains("EC2 host: $45.00"), "{text}");
}

#[test]
fn the_report_names_the_three_biggest_items_and_totals_per_service() {
    let (inputs, templates) = prod();
    let report = Report::new("prod", &inputs, &templates).unwrap();
    assert_eq!(report.biggest.len(), 3);
    assert_eq!(report.biggest[0].price, "openai.dalle3.standard.1024");
    assert_eq!(report.biggest[1].price, "openai.whisper");
    let services: f64 = report.services.iter().map(|service| service.usd).sum();
    assert!(close(services, report.total_usd));
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["services"][0]["service"], "OpenAI");
    assert_eq!(json["host"]["hostUsd"], 45.0);
    let text = report.to_string();
    assert!(text.contains("biggest: DALL-E 3 images"), "{text}");
    assert!(text.contains("WorkerFunction"), "{text}");
}

#[test]
fn the_free_tier_makes_the_stage_cheaper() {
    let stage = crate::stage::resolve("prod").unwrap();
    let templates = synthesized(&stage);
    let list = Inputs::load(&stage, None, false).unwrap();
    let free = Inputs::load(&stage, None, true).unwrap();
    let (list, free) = (
        list.estimate(&templates).unwrap(),
        free.estimate(&templates).unwrap(),
    );
    // Cognito's 300 users and 10 of the 34 alarms are free: at least $5.50 less.
    assert!(
        free.total() <= list.total() - 5.50,
        "{} vs {}",
        free.total(),
        list.total()
    );
}

#[test]
fn the_chart_parses_and_names_both_lines() {
    let (inputs, templates) = prod();
    let report = Report::new("prod", &inputs, &templates).unwrap();
    let svg = chart::svg(&report, &inputs, &templates).unwrap();
    let document = roxmltree::Document::parse(&svg).unwrap();
    let line = |id: &str| {
        document
            .descendants()
            .find(|node| node.has_tag_name("polyline") && node.attribute("id") == Some(id))
            .unwrap_or_else(|| panic!("no polyline {id}"))
    };
    let title = |node: roxmltree::Node| {
        node.children()
            .find(|child| child.has_tag_name("title"))
            .and_then(|title| title.text())
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(title(line("serverless")), "serverless stage prod");
    assert!(title(line("ec2-host")).starts_with("EC2 host"));
    let texts: Vec<&str> = document
        .descendants()
        .filter(|node| node.has_tag_name("text"))
        .filter_map(|node| node.text())
        .collect();
    assert!(texts.contains(&"serverless stage prod"), "{texts:?}");
    assert!(
        texts.iter().any(|text| text.starts_with("EC2 host")),
        "{texts:?}"
    );
    assert!(
        texts
            .iter()
            .any(|text| text.starts_with("profile: 300 users")),
        "{texts:?}"
    );
    assert!(texts.contains(&"EC2 host ($45.00 a month)"), "{texts:?}");
    assert!(
        texts.iter().any(|text| text.starts_with("break-even")),
        "{texts:?}"
    );
    // Both lines span the same users: 61 points each.
    let points = |id: &str| line(id).attribute("points").unwrap().split(' ').count();
    assert_eq!(points("serverless"), 61);
    assert_eq!(points("ec2-host"), 61);
}

#[test]
fn a_memory_change_shows_as_a_cost_change_and_no_change_as_none() {
    let usage = usage();
    let prices = PriceTable::builtin().unwrap();
    let before = estimate::estimate(
        &template(worker(512, "x86_64", "openai")),
        &usage,
        &prices,
        false,
    )
    .unwrap();
    let after = estimate::estimate(
        &template(worker(1024, "x86_64", "openai")),
        &usage,
        &prices,
        false,
    )
    .unwrap();
    let change = CostChange::between(&before, &after);
    // 10,000 runs × 20 s × 0.5 GB more = 100,000 GB-s at $0.0000166667
    assert!(close(change.delta_usd, 100_000.0 * 0.0000166667));
    assert_eq!(change.changes.len(), 1);
    let text = change.to_string();
    assert!(
        text.contains(
            "WorkerFunction compute (x86_64) 512 MB x86_64 → 1024 MB x86_64: +$1.67/month"
        ),
        "{text}"
    );
    let same = CostChange::between(&after, &after);
    assert!(!same.is_noticeable());
    assert!(same.to_string().contains("cost: no change"), "{same}");
}
