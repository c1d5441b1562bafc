//! The estimate: every resource of a stage's templates, by type, turned into quantities of priced
//! units at a usage profile, then priced per account (the allowances apply once per price).
//!
//! One file over 500 lines: each resource type's formula sits next to the others so that they
//! read the usage profile the same way.

use std::collections::BTreeMap;

use anyhow::{Result, bail};
use serde::Serialize;
use serde_json::Value;
use stacks::functions::{FunctionKind, Secret, Table};

use super::prices::{self, PriceTable};
use super::usage::{Usage, table_name};

const KB_PER_GB: f64 = 1_000_000.0;
const DAYS_PER_MONTH: f64 = 30.0;
const MINUTES_PER_MONTH: f64 = DAYS_PER_MONTH * 24.0 * 60.0;

/// The resource types with a formula below; every other type is `free` in the price table.
pub const PRICED_TYPES: &[&str] = &[
    "AWS::Lambda::Function",
    "AWS::ApiGatewayV2::Api",
    "AWS::DynamoDB::Table",
    "AWS::S3::Bucket",
    "AWS::CloudFront::Distribution",
    "AWS::Cognito::UserPool",
    "AWS::Logs::LogGroup",
    "AWS::CloudWatch::Alarm",
    "AWS::CloudWatch::Dashboard",
    "AWS::SQS::Queue",
    "AWS::SNS::Topic",
    "AWS::SNS::Subscription",
];

/// One stack's template as CloudFormation reads it (synthesized, from `--templates`, or deployed).
#[derive(Debug, Clone)]
pub struct Template {
    pub stack: String,
    pub document: Value,
}

/// One priced quantity of one resource.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Line {
    pub service: String,
    pub stack: String,
    pub resource: String,
    pub resource_type: String,
    pub price: String,
    pub item: String,
    pub quantity: f64,
    pub unit: String,
    /// The setting that drives the figure (`1024 MB x86_64`, `90 days`), to show what changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(serialize_with = "super::serialize_usd")]
    pub usd: f64,
    /// Paid by the EC2 host just the same (the AI providers).
    pub also_on_host: bool,
}

/// A stage's monthly estimate.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Estimate {
    pub monthly_active_users: f64,
    pub free_tier: bool,
    pub lines: Vec<Line>,
}

/// One service's share.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceTotal {
    pub service: String,
    #[serde(serialize_with = "super::serialize_usd")]
    pub usd: f64,
}

impl Estimate {
    pub fn total(&self) -> f64 {
        self.lines.iter().map(|line| line.usd).sum()
    }

    /// What the EC2 host would not have cost: the total without the AI providers.
    pub fn infrastructure(&self) -> f64 {
        self.lines
            .iter()
            .filter(|line| !line.also_on_host)
            .map(|line| line.usd)
            .sum()
    }

    /// What the host pays just the same (the AI providers).
    pub fn shared_with_host(&self) -> f64 {
        self.total() - self.infrastructure()
    }

    /// Services from the most expensive down.
    pub fn services(&self) -> Vec<ServiceTotal> {
        let mut totals: BTreeMap<&str, f64> = BTreeMap::new();
        for line in &self.lines {
            *totals.entry(&line.service).or_default() += line.usd;
        }
        let mut services: Vec<ServiceTotal> = totals
            .into_iter()
            .map(|(service, usd)| ServiceTotal {
                service: service.to_owned(),
                usd,
            })
            .collect();
        services.sort_by(|a, b| b.usd.total_cmp(&a.usd).then(a.service.cmp(&b.service)));
        services
    }

    /// The `n` most expensive items, each priced unit summed over the resources that use it.
    pub fn biggest(&self, n: usize) -> Vec<Item> {
        let mut items: BTreeMap<&str, Item> = BTreeMap::new();
        for line in self.lines.iter().filter(|line| line.usd > 0.0) {
            let item = items.entry(&line.price).or_insert_with(|| Item {
                service: line.service.clone(),
                price: line.price.clone(),
                item: line.item.clone(),
                resources: Vec::new(),
                usd: 0.0,
            });
            item.usd += line.usd;
            item.resources.push(line.resource.clone());
        }
        let mut items: Vec<Item> = items.into_values().collect();
        items.sort_by(|a, b| b.usd.total_cmp(&a.usd));
        items.truncate(n);
        items
    }
}

/// One priced unit over all the resources that use it (e.g. every alarm).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Item {
    pub service: String,
    pub price: String,
    pub item: String,
    pub resources: Vec<String>,
    #[serde(serialize_with = "super::serialize_usd")]
    pub usd: f64,
}

impl std::fmt::Display for Item {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.resources.as_slice() {
            [one] => write!(f, "{} of {}", self.item, one),
            many => write!(f, "{} of {} resources", self.item, many.len()),
        }
    }
}

/// A quantity before pricing.
struct Demand {
    stack: String,
    resource: String,
    resource_type: String,
    price: &'static str,
    quantity: f64,
    detail: Option<String>,
}

/// The estimate of `templates` at `usage`.
pub fn estimate(
    templates: &[Template],
    usage: &Usage,
    table: &PriceTable,
    free_tier: bool,
) -> Result<Estimate> {
    let model = Model::new(templates, usage);
    let mut demands = Vec::new();
    for template in templates {
        let Some(resources) = template.document["Resources"].as_object() else {
            continue;
        };
        for (id, resource) in resources {
            let kind = resource["Type"].as_str().unwrap_or_default();
            let Some(rule) = table.resource_types.get(kind) else {
                bail!(
                    "{} has {id} of type {kind}, which has no price in {}; add its prices, or `{kind}: {{free: reason}}`",
                    template.stack,
                    prices::PATH
                );
            };
            if !rule.prices.is_empty() && !PRICED_TYPES.contains(&kind) {
                bail!(
                    "{}: `{kind}` lists prices, but the estimate has no formula for it; add one in {}",
                    prices::PATH,
                    file!()
                );
            }
            let mut add = |price: &'static str, quantity: f64, detail: Option<String>| {
                demands.push(Demand {
                    stack: template.stack.clone(),
                    resource: id.clone(),
                    resource_type: kind.to_owned(),
                    price,
                    quantity,
                    detail,
                });
            };
            model.resource(id, kind, &resource["Properties"], &mut add);
            if let Some(demand) = demands
                .iter()
                .rev()
                .take_while(|demand| demand.resource == *id && demand.stack == template.stack)
                .find(|demand| !rule.prices.iter().any(|price| price == demand.price))
            {
                bail!(
                    "{}: resource type `{kind}` must list price `{}` under `prices` (its formula uses it)",
                    prices::PATH,
                    demand.price
                );
            }
        }
    }
    price(demands, usage, table, free_tier)
}

/// Prices each demand: the allowances come off the account's total of each price, and the cost
/// is shared among the resources in proportion to their quantities.
fn price(
    demands: Vec<Demand>,
    usage: &Usage,
    table: &PriceTable,
    free_tier: bool,
) -> Result<Estimate> {
    let mut totals: BTreeMap<&str, f64> = BTreeMap::new();
    for demand in &demands {
        *totals.entry(demand.price).or_default() += demand.quantity;
    }
    let mut lines = Vec::with_capacity(demands.len());
    for demand in demands {
        let price = table.price(demand.price)?;
        let total = totals[demand.price];
        let usd = if total > 0.0 {
            price.cost(total, free_tier) * demand.quantity / total
        } else {
            0.0
        };
        lines.push(Line {
            service: price.service.clone(),
            stack: demand.stack,
            resource: demand.resource,
            resource_type: demand.resource_type,
            price: demand.price.to_owned(),
            item: price.item.clone(),
            quantity: demand.quantity,
            unit: price.unit.clone(),
            detail: demand.detail,
            usd,
            also_on_host: price.also_on_host,
        });
    }
    Ok(Estimate {
        monthly_active_users: usage.monthly_active_users,
        free_tier,
        lines,
    })
}

/// The usage profile turned into monthly counts, plus what the templates say about schedules.
struct Model<'a> {
    usage: &'a Usage,
    pictures: f64,
    visits: f64,
    gallery_views: f64,
    /// Invocations a month of scheduled functions, by function name.
    scheduled: BTreeMap<String, f64>,
}

impl<'a> Model<'a> {
    fn new(templates: &[Template], usage: &'a Usage) -> Model<'a> {
        let users = usage.monthly_active_users;
        let mut scheduled = BTreeMap::new();
        for template in templates {
            let Some(resources) = template.document["Resources"].as_object() else {
                continue;
            };
            for resource in resources.values() {
                if resource["Type"] != "AWS::Events::Rule" {
                    continue;
                }
                let properties = &resource["Properties"];
                let Some(per_month) = properties["ScheduleExpression"]
                    .as_str()
                    .and_then(runs_per_month)
                else {
                    continue;
                };
                for target in properties["Targets"].as_array().into_iter().flatten() {
                    if let Some(function) = target["Arn"]["Fn::GetAtt"][0]
                        .as_str()
                        .and_then(function_of)
                    {
                        *scheduled.entry(function.name.to_owned()).or_default() += per_month;
                    }
                }
            }
        }
        Model {
            usage,
            pictures: users * usage.pictures_per_user,
            visits: users * usage.visits_per_user,
            gallery_views: users * usage.gallery_views_per_user,
            scheduled,
        }
    }

    /// Invocations a month of one function.
    fn invocations(&self, function: &str) -> f64 {
        let per = &self.usage.invocations;
        let of = |map: &super::usage::ByName| map.get(function).copied().unwrap_or(0.0);
        self.pictures * of(&per.per_picture)
            + self.visits * of(&per.per_visit)
            + self.gallery_views * of(&per.per_gallery_view)
            + self.scheduled.get(function).copied().unwrap_or(0.0)
    }

    /// Requests a month through the HTTP API: the invocations of its functions.
    fn http_requests(&self) -> f64 {
        stacks::FUNCTIONS
            .iter()
            .filter(|function| function.kind == FunctionKind::Http)
            .map(|function| self.invocations(function.name))
            .sum()
    }

    /// Request units a month on one table.
    fn table_requests(&self, table: &str) -> (f64, f64) {
        let usage = self.usage;
        let of = |map: &super::usage::ByName| map.get(table).copied().unwrap_or(0.0);
        let writes = self.pictures * of(&usage.picture.dynamodb_writes);
        let reads = self.pictures * of(&usage.picture.dynamodb_reads)
            + self.gallery_views * of(&usage.gallery_view.dynamodb_reads)
            + self.visits * of(&usage.visit.dynamodb_reads);
        (writes, reads)
    }

    /// What one resource uses, by the formula of its type.
    fn resource(
        &self,
        id: &str,
        kind: &str,
        properties: &Value,
        add: &mut dyn FnMut(&'static str, f64, Option<String>),
    ) {
        let usage = self.usage;
        match kind {
            "AWS::Lambda::Function" => self.function(id, properties, add),
            "AWS::ApiGatewayV2::Api" => match properties["ProtocolType"].as_str() {
                Some("WEBSOCKET") => {
                    add(
                        "apigateway.websocket.messages",
                        self.pictures * usage.picture.websocket_messages,
                        None,
                    );
                    add(
                        "apigateway.websocket.minutes",
                        self.pictures * usage.picture.websocket_minutes,
                        None,
                    );
                }
                _ => add("apigateway.http.requests", self.http_requests(), None),
            },
            "AWS::DynamoDB::Table" => self.table(id, properties, add),
            "AWS::S3::Bucket" => self.bucket(id, properties, add),
            "AWS::CloudFront::Distribution" => {
                add(
                    "cloudfront.requests",
                    self.visits * usage.visit.site_requests,
                    None,
                );
                add(
                    "cloudfront.transfer_out",
                    self.visits * usage.visit.site_kilobytes / KB_PER_GB,
                    None,
                );
                add(
                    "cloudfront.invalidations",
                    usage.operations.cdn_invalidation_paths,
                    None,
                );
            }
            "AWS::Cognito::UserPool" => {
                let tier = properties["UserPoolTier"].as_str().unwrap_or("ESSENTIALS");
                let price = match tier {
                    "LITE" => "cognito.mau.lite",
                    "PLUS" => "cognito.mau.plus",
                    _ => "cognito.mau.essentials",
                };
                add(
                    price,
                    usage.monthly_active_users,
                    Some(tier.to_ascii_lowercase()),
                );
            }
            "AWS::Logs::LogGroup" => self.log_group(id, properties, add),
            "AWS::CloudWatch::Alarm" => add("cloudwatch.alarms", 1.0, None),
            "AWS::CloudWatch::Dashboard" => add("cloudwatch.dashboards", 1.0, None),
            "AWS::SQS::Queue" => add("sqs.requests", usage.operations.dead_letters, None),
            "AWS::SNS::Topic" => add("sns.requests", usage.operations.alarm_notifications, None),
            "AWS::SNS::Subscription" if properties["Protocol"] == "email" => {
                add("sns.email", usage.operations.alarm_notifications, None)
            }
            // Free types, and priced types this stage does not use (an SNS subscription by SMS
            // would need its own price first).
            _ => {}
        }
    }

    fn function(
        &self,
        id: &str,
        properties: &Value,
        add: &mut dyn FnMut(&'static str, f64, Option<String>),
    ) {
        let Some(function) = function_of(id) else {
            tracing::debug!(id, "not one of the stack's functions: no usage");
            return;
        };
        let invocations = self.invocations(function.name);
        let memory_mb = properties["MemorySize"].as_f64().unwrap_or(128.0);
        let architecture = properties["Architectures"][0].as_str().unwrap_or("x86_64");
        let duration_ms = self
            .usage
            .duration_ms
            .get(function.name)
            .copied()
            .unwrap_or(0.0);
        let gb_seconds = invocations * duration_ms / 1000.0 * memory_mb / 1024.0;
        add("lambda.requests", invocations, None);
        add(
            if architecture == "arm64" {
                "lambda.duration.arm64"
            } else {
                "lambda.duration.x86_64"
            },
            gb_seconds,
            Some(format!("{memory_mb} MB {architecture}")),
        );
        if properties["TracingConfig"]["Mode"] == "Active" {
            add("xray.traces", invocations, None);
        }
        let variables = &properties["Environment"]["Variables"];
        if variables["MUMBLE_PROVIDERS"] == "offline" {
            return;
        }
        let holds = |secret: Secret| variables.get(secret.env()).is_some();
        if holds(Secret::OpenAi) {
            add(
                "openai.whisper",
                invocations * self.usage.recording_seconds / 60.0,
                None,
            );
            add("openai.dalle3.standard.1024", invocations, None);
        }
        if holds(Secret::OpenWeather) {
            add("openweather.calls", invocations, None);
        }
    }

    fn table(
        &self,
        id: &str,
        properties: &Value,
        add: &mut dyn FnMut(&'static str, f64, Option<String>),
    ) {
        let Some(table) = Table::ALL
            .into_iter()
            .find(|table| table.logical_id() == id)
        else {
            return;
        };
        let usage = self.usage;
        let users = usage.monthly_active_users;
        let kilobytes = match table {
            Table::Users => users * usage.storage.user_item_kilobytes,
            Table::Images => {
                users * usage.images_kept_per_user * usage.storage.image_item_kilobytes
            }
            Table::Jobs => self.pictures * usage.storage.job_item_kilobytes,
            Table::Connections => 0.0,
        };
        let (writes, reads) = self.table_requests(&table_name(table));
        add("dynamodb.writes", writes, None);
        add("dynamodb.reads", reads, None);
        let gigabytes = kilobytes / KB_PER_GB;
        add("dynamodb.storage", gigabytes, None);
        if properties["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] == true {
            add("dynamodb.pitr", gigabytes, Some("PITR on".to_owned()));
        }
    }

    fn bucket(
        &self,
        id: &str,
        properties: &Value,
        add: &mut dyn FnMut(&'static str, f64, Option<String>),
    ) {
        let usage = self.usage;
        let picture = &usage.picture;
        match id {
            "MediaBucket" => {
                let audio_days = expiration_days(properties, "audio/").unwrap_or(DAYS_PER_MONTH);
                let audio_kilobytes = self.pictures
                    * usage.recording_seconds
                    * picture.audio_kilobytes_per_second
                    * audio_days
                    / DAYS_PER_MONTH;
                let image_kilobytes = usage.monthly_active_users
                    * usage.images_kept_per_user
                    * (picture.image_kilobytes + picture.thumbnail_kilobytes);
                let view = &usage.gallery_view;
                add(
                    "s3.storage",
                    (audio_kilobytes + image_kilobytes) / KB_PER_GB,
                    Some(format!("audio kept {audio_days} days")),
                );
                add("s3.writes", self.pictures * picture.s3_writes, None);
                add(
                    "s3.reads",
                    self.pictures * picture.s3_reads
                        + self.gallery_views * (view.thumbnails + view.images_opened),
                    None,
                );
                add(
                    "s3.transfer_out",
                    self.gallery_views
                        * (view.thumbnails * picture.thumbnail_kilobytes
                            + view.images_opened * picture.image_kilobytes)
                        / KB_PER_GB,
                    None,
                );
            }
            "SiteBucket" => add("s3.storage", usage.storage.site_megabytes / 1000.0, None),
            "ArtifactsBucket" => add(
                "s3.storage",
                usage.storage.artifacts_megabytes / 1000.0,
                None,
            ),
            _ => {}
        }
    }

    fn log_group(
        &self,
        id: &str,
        properties: &Value,
        add: &mut dyn FnMut(&'static str, f64, Option<String>),
    ) {
        let logs = &self.usage.logs;
        let name = properties["LogGroupName"].as_str().unwrap_or_default();
        let kilobytes = if let Some(function) = id.strip_suffix("LogGroup").and_then(|pascal| {
            stacks::FUNCTIONS
                .iter()
                .find(|function| function.pascal == pascal)
        }) {
            self.invocations(function.name) * logs.kilobytes_per_invocation
        } else if name.starts_with("/aws/apigateway/") {
            self.http_requests() * logs.kilobytes_per_access_log_entry
        } else {
            0.0
        };
        let ingested = kilobytes / KB_PER_GB;
        // Without a retention, logs are kept forever; a year stands for that.
        let days = properties["RetentionInDays"].as_f64().unwrap_or(365.0);
        add("cloudwatch.logs.ingested", ingested, None);
        add(
            "cloudwatch.logs.stored",
            ingested * logs.compression * days / DAYS_PER_MONTH,
            Some(format!("kept {days} days")),
        );
    }
}

/// The function behind a logical id (`WorkerFunction`, or `Worker` in a schedule's target).
fn function_of(id: &str) -> Option<&'static stacks::FunctionSpec> {
    let pascal = id.strip_suffix("Function").unwrap_or(id);
    stacks::FUNCTIONS
        .iter()
        .find(|function| function.pascal == pascal)
}

/// How often a `rate(...)` schedule runs in a month; `None` for expressions it cannot read.
fn runs_per_month(expression: &str) -> Option<f64> {
    let inner = expression.strip_prefix("rate(")?.strip_suffix(')')?;
    let (count, unit) = inner.trim().split_once(' ')?;
    let count: f64 = count.parse().ok()?;
    let minutes = match unit.trim_end_matches('s') {
        "minute" => 1.0,
        "hour" => 60.0,
        "day" => 24.0 * 60.0,
        _ => return None,
    };
    (count > 0.0).then(|| MINUTES_PER_MONTH / (count * minutes))
}

/// The expiration of the lifecycle rule for one key prefix.
fn expiration_days(properties: &Value, prefix: &str) -> Option<f64> {
    properties["LifecycleConfiguration"]["Rules"]
        .as_array()?
        .iter()
        .find(|rule| rule["Prefix"] == prefix && rule["Status"] == "Enabled")?["ExpirationInDays"]
        .as_f64()
}
