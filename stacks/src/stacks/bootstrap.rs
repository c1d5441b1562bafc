//! The artifacts bucket the deploy uploads function zips to, the stage's permissions boundary and,
//! when the stage names a GitHub repository, the OIDC trust and roles that let that repository's
//! workflows deploy the stage.
//!
//! Why the CloudFormation role cannot reach account administrator: every role it creates or
//! changes must carry the stage's boundary (the `iam:PermissionsBoundary` condition), the boundary
//! only allows what functions do with this stage's data, and the role may not touch the bootstrap
//! roles or the boundary at all (explicit deny), so a change set cannot widen any of them. Names
//! are scoped by `mumble-{stage}-`; stage names have no `-`, so no stage's pattern covers another
//! stage's names. Resources AWS names by id (APIs, user pools, distributions, certificates) carry
//! the `mumble:stage` tag from the stack, and both roles are denied those of any other stage.
//!
//! One file over 500 lines: the boundary, the CloudFormation role and the deploy role are read
//! against each other in every security review, so they stay side by side.

use mumble_contract::Output;

use super::{STAGE_TAG, arn, boundary_arn, boundary_name, output};
use crate::Part;
use crate::cfn::iam::{PolicyDocument, Principal, Statement, deny_insecure_transport};
use crate::cfn::{Expr, Resource, Template};
use crate::resources::iam::{InlinePolicy, ManagedPolicy, OidcProvider, Role};
use crate::resources::s3::{
    AbortIncompleteMultipartUpload, Bucket, BucketPolicy, Lifecycle, LifecycleRule,
    NoncurrentVersionExpiration,
};
use crate::settings::Stage;

pub fn template(stage: &Stage) -> Template {
    let mut t = Template::new(format!("Mumble {}: artifacts bucket", stage.name));
    let mut bucket = Bucket::private().versioned();
    let mut noncurrent = LifecycleRule::new("ExpireOldArtifacts");
    noncurrent.noncurrent_version_expiration = Some(NoncurrentVersionExpiration {
        noncurrent_days: stage.noncurrent_version_expiry_days,
    });
    noncurrent.abort_incomplete_multipart_upload = Some(AbortIncompleteMultipartUpload {
        days_after_initiation: 1,
    });
    bucket.lifecycle_configuration = Some(Lifecycle {
        rules: vec![noncurrent],
    });
    let bucket = t.add(
        "ArtifactsBucket",
        Resource::new(bucket).stateful(stage.protected),
    );
    t.add(
        "ArtifactsBucketPolicy",
        BucketPolicy {
            bucket: Expr::r#ref(&bucket),
            policy_document: PolicyDocument::new(vec![deny_insecure_transport(Expr::get_att(
                &bucket, "Arn",
            ))]),
        },
    );
    t.add(
        "PermissionsBoundary",
        ManagedPolicy {
            managed_policy_name: boundary_name(stage),
            description: format!(
                "The most any role of stage {} may do, whatever its own policies say",
                stage.name
            ),
            policy_document: PolicyDocument::new(boundary_statements(stage)),
        },
    );
    output(
        &mut t,
        stage,
        Output::ArtifactsBucketName,
        Expr::r#ref(&bucket),
    );
    if let Some(repository) = &stage.github_repository {
        t.description = format!(
            "Mumble {}: artifacts bucket and GitHub deploy role",
            stage.name
        );
        github_deploy(&mut t, stage, repository);
    }
    t
}

/// GitHub Actions in `repository`, running in the GitHub environment named after the stage,
/// may assume the deploy role. That role can only drive this stage's stacks, upload artifacts and
/// the site, and hand CloudFormation a role whose powers are limited to this stage's resources.
fn github_deploy(t: &mut Template, stage: &Stage, repository: &str) {
    let name = &stage.name;
    let provider = t.add(
        "GitHubOidcProvider",
        OidcProvider {
            url: "https://token.actions.githubusercontent.com",
            client_id_list: vec!["sts.amazonaws.com"],
        },
    );
    let cfn_role = t.add(
        "CloudFormationRole",
        Role {
            role_name: Some(format!("mumble-{name}-cloudformation")),
            description: format!("What CloudFormation may do to deploy stage {name}"),
            assume_role_policy_document: PolicyDocument::new(vec![
                Statement::allow(&["sts:AssumeRole"], vec![])
                    .principal(Principal::service("cloudformation.amazonaws.com")),
            ]),
            policies: vec![InlinePolicy {
                policy_name: "deploy-stage-resources".into(),
                policy_document: PolicyDocument::new(cloudformation_statements(stage)),
            }],
            // Made by an administrator with the rest of this stack; the deny below keeps it as made.
            permissions_boundary: None,
        },
    );
    // `*` region: the certificate stack lives in us-east-1.
    let stacks = || {
        vec![arn(&format!(
            "cloudformation:*:${{AWS::AccountId}}:stack/mumble-{name}-*/*"
        ))]
    };
    let mut change = vec![
        "cloudformation:CreateChangeSet",
        "cloudformation:CreateStack",
        "cloudformation:UpdateStack",
    ];
    if !stage.protected {
        change.push("cloudformation:DeleteStack");
    }
    let deploy = vec![
        Statement::allow(
            &[
                "cloudformation:DescribeChangeSet",
                "cloudformation:ExecuteChangeSet",
                "cloudformation:DeleteChangeSet",
                "cloudformation:ListChangeSets",
                "cloudformation:DescribeStacks",
                "cloudformation:DescribeStackEvents",
                "cloudformation:DescribeStackResources",
                // `destroy` and `recover` list a stack's resources (its buckets, what failed).
                "cloudformation:ListStackResources",
                "cloudformation:GetTemplate",
                "cloudformation:UpdateTerminationProtection",
                // The `mumble:stage` tag every change set puts on its stack.
                "cloudformation:TagResource",
            ],
            stacks(),
        )
        .sid("FollowStageStacks"),
        // Changes run as the CloudFormation role, never with the deploy role's own permissions.
        Statement::allow(&change, stacks())
            .sid("ChangeStageStacks")
            .when(
                "StringEquals",
                "cloudformation:RoleArn",
                Expr::get_att(&cfn_role, "Arn"),
            ),
        Statement::allow(&["iam:PassRole"], vec![Expr::get_att(&cfn_role, "Arn")])
            .sid("HandRoleToCloudFormation")
            .when(
                "StringEquals",
                "iam:PassedToService",
                "cloudformation.amazonaws.com",
            ),
        Statement::allow(
            &["s3:PutObject", "s3:GetObject"],
            vec![Expr::sub("${ArtifactsBucket.Arn}/*")],
        )
        .sid("UploadArtifacts"),
        Statement::allow(
            &["s3:ListBucket"],
            vec![
                Expr::get_att("ArtifactsBucket", "Arn"),
                arn(&format!("s3:::mumble-{name}-{}-sitebucket-*", Part::Web)),
            ],
        )
        .sid("ListBuckets"),
        Statement::allow(
            &["s3:PutObject", "s3:GetObject", "s3:DeleteObject"],
            vec![arn(&format!(
                "s3:::mumble-{name}-{}-sitebucket-*/*",
                Part::Web
            ))],
        )
        .sid("PublishSite"),
        // Releases: old release records are pruned; a rollback copies old site versions back
        // and sets each function's code to the key its release names.
        Statement::allow(
            &["s3:DeleteObject"],
            vec![Expr::sub("${ArtifactsBucket.Arn}/releases/*")],
        )
        .sid("PruneReleases"),
        Statement::allow(
            &["s3:ListBucketVersions"],
            vec![arn(&format!(
                "s3:::mumble-{name}-{}-sitebucket-*",
                Part::Web
            ))],
        )
        .sid("ListSiteVersions"),
        Statement::allow(
            &["s3:GetObjectVersion"],
            vec![arn(&format!(
                "s3:::mumble-{name}-{}-sitebucket-*/*",
                Part::Web
            ))],
        )
        .sid("RestoreSiteVersions"),
        Statement::allow(
            &[
                "lambda:UpdateFunctionCode",
                "lambda:GetFunctionConfiguration",
                // Callers invoke `live`: new code reaches them as a version the alias moves to.
                "lambda:PublishVersion",
                "lambda:UpdateAlias",
            ],
            vec![arn(&format!(
                "lambda:${{AWS::Region}}:${{AWS::AccountId}}:function:mumble-{name}-*"
            ))],
        )
        .sid("RestoreFunctionCode"),
        Statement::allow(
            &[
                "cloudfront:CreateInvalidation",
                "cloudfront:GetInvalidation",
            ],
            vec![arn("cloudfront::${AWS::AccountId}:distribution/*")],
        )
        .sid("InvalidateSite"),
    ];
    let mut deploy = deploy;
    if stage.traffic_shifting.deployment_config().is_some() {
        // The deploy follows the CodeDeploy deployments its stack update starts.
        deploy.push(
            Statement::allow(
                &["codedeploy:ListDeployments", "codedeploy:GetDeployment"],
                vec![arn(&format!(
                    "codedeploy:${{AWS::Region}}:${{AWS::AccountId}}:deploymentgroup:{}/*",
                    crate::functions::codedeploy_application_name(name)
                ))],
            )
            .sid("FollowTrafficShifting"),
        );
        deploy.push(
            Statement::allow(
                &["lambda:GetAlias"],
                vec![arn(&format!(
                    "lambda:${{AWS::Region}}:${{AWS::AccountId}}:function:mumble-{name}-*"
                ))],
            )
            .sid("ReadShiftedWeights"),
        );
    }
    if !stage.protected {
        // `destroy` empties the stage's buckets (every version) so CloudFormation can delete them.
        deploy.push(
            Statement::allow(
                &["s3:ListBucketVersions"],
                vec![arn(&format!("s3:::mumble-{name}-*"))],
            )
            .sid("ListStageBucketVersions"),
        );
        deploy.push(
            Statement::allow(
                &["s3:DeleteObject", "s3:DeleteObjectVersion"],
                vec![arn(&format!("s3:::mumble-{name}-*/*"))],
            )
            .sid("EmptyStageBuckets"),
        );
    }
    deploy.extend(guard_statements(stage));
    let role = t.add(
        "DeployRole",
        Role {
            role_name: Some(format!("mumble-{name}-deploy")),
            description: format!("GitHub Actions of {repository} deploying stage {name}"),
            assume_role_policy_document: PolicyDocument::new(vec![
                Statement::allow(&["sts:AssumeRoleWithWebIdentity"], vec![])
                    .principal(Principal::Federated(Expr::r#ref(&provider)))
                    .when(
                        "StringEquals",
                        "token.actions.githubusercontent.com:aud",
                        "sts.amazonaws.com",
                    )
                    .when(
                        "StringEquals",
                        "token.actions.githubusercontent.com:sub",
                        format!("repo:{repository}:environment:{name}"),
                    ),
            ]),
            policies: vec![InlinePolicy {
                policy_name: "deploy-stage".into(),
                policy_document: PolicyDocument::new(deploy),
            }],
            permissions_boundary: None,
        },
    );
    output(t, stage, Output::DeployRoleArn, Expr::get_att(&role, "Arn"));
    output(
        t,
        stage,
        Output::CloudFormationRoleArn,
        Expr::get_att(&cfn_role, "Arn"),
    );
}

/// What CloudFormation needs to create, update and delete this stage's resources, scoped to
/// names starting `mumble-{stage}-` wherever the service names resources that way.
fn cloudformation_statements(stage: &Stage) -> Vec<Statement> {
    let s = &stage.name;
    let stage_roles = || arn(&format!("iam::${{AWS::AccountId}}:role/mumble-{s}-*"));
    let in_region = |service: &str, resource: &str| {
        arn(&format!(
            "{service}:${{AWS::Region}}:${{AWS::AccountId}}:{resource}"
        ))
    };
    let mut statements = vec![
        Statement::allow(
            &["lambda:*"],
            vec![in_region("lambda", &format!("function:mumble-{s}-*"))],
        )
        .sid("Functions"),
        Statement::allow(
            &["logs:*"],
            vec![
                in_region("logs", &format!("log-group:/aws/lambda/mumble-{s}-*")),
                in_region("logs", &format!("log-group:/aws/apigateway/mumble-{s}-*")),
            ],
        )
        .sid("LogGroups"),
        // Creating a role, or changing what it may do, only with the stage's boundary attached.
        Statement::allow(
            &[
                "iam:CreateRole",
                "iam:PutRolePolicy",
                "iam:DeleteRolePolicy",
                "iam:AttachRolePolicy",
                "iam:DetachRolePolicy",
                "iam:PutRolePermissionsBoundary",
            ],
            vec![stage_roles()],
        )
        .sid("BoundedFunctionRoles")
        .when(
            "StringEquals",
            "iam:PermissionsBoundary",
            boundary_arn(stage),
        ),
        Statement::allow(
            &[
                "iam:GetRole",
                "iam:GetRolePolicy",
                "iam:ListRolePolicies",
                "iam:ListAttachedRolePolicies",
                "iam:DeleteRole",
                "iam:UpdateRole",
                "iam:UpdateRoleDescription",
                "iam:UpdateAssumeRolePolicy",
                "iam:TagRole",
                "iam:UntagRole",
            ],
            vec![stage_roles()],
        )
        .sid("FunctionRoles"),
        Statement::allow(&["iam:PassRole"], vec![stage_roles()])
            .sid("HandRolesToFunctions")
            .when(
                "StringEquals",
                "iam:PassedToService",
                "lambda.amazonaws.com",
            ),
        Statement::allow(
            &["dynamodb:*"],
            vec![in_region("dynamodb", &format!("table/mumble-{s}-*"))],
        )
        .sid("Tables"),
        Statement::allow(&["s3:*"], vec![arn(&format!("s3:::mumble-{s}-*"))]).sid("Buckets"),
        Statement::allow(&["sqs:*"], vec![in_region("sqs", &format!("mumble-{s}-*"))])
            .sid("Queues"),
        Statement::allow(&["sns:*"], vec![in_region("sns", &format!("mumble-{s}-*"))])
            .sid("AlarmTopic"),
        Statement::allow(
            &["cloudwatch:*"],
            vec![in_region("cloudwatch", &format!("alarm:mumble-{s}-*"))],
        )
        .sid("Alarms"),
        Statement::allow(
            &["events:*"],
            vec![in_region("events", &format!("rule/mumble-{s}-*"))],
        )
        .sid("Rules"),
        // API ids, user pool ids, distribution ids and certificate ids are chosen by AWS at
        // creation, so these can only be scoped to the account and region.
        Statement::allow(
            &["apigateway:*"],
            vec![arn("apigateway:${AWS::Region}::/*")],
        )
        .sid("Apis"),
        Statement::allow(
            &["cognito-idp:*"],
            vec![in_region("cognito-idp", "userpool/*")],
        )
        .sid("UserPool"),
        Statement::allow(
            &["cloudfront:*"],
            vec![
                arn("cloudfront::${AWS::AccountId}:distribution/*"),
                arn("cloudfront::${AWS::AccountId}:origin-access-control/*"),
                arn("cloudfront::${AWS::AccountId}:response-headers-policy/*"),
            ],
        )
        .sid("Distribution"),
        Statement::allow(
            &["acm:*"],
            vec![arn("acm:us-east-1:${AWS::AccountId}:certificate/*")],
        )
        .sid("Certificate"),
        // AWS authorizes these on `*` only: the resource has no ARN until it exists (the log group
        // handler lists groups to find its own).
        Statement::allow(
            &[
                "acm:RequestCertificate",
                "cloudfront:CreateDistribution",
                "cloudfront:CreateOriginAccessControl",
                "cloudfront:CreateResponseHeadersPolicy",
                "cognito-idp:CreateUserPool",
                "logs:DescribeLogGroups",
            ],
            vec![Expr::lit("*")],
        )
        .sid("CreateUnnamed"),
    ];
    if stage.traffic_shifting.deployment_config().is_some() {
        let application = crate::functions::codedeploy_application_name(s);
        statements.push(
            Statement::allow(
                &["codedeploy:*"],
                vec![
                    in_region("codedeploy", &format!("application:{application}")),
                    in_region("codedeploy", &format!("deploymentgroup:{application}/*")),
                ],
            )
            .sid("TrafficShifting"),
        );
        statements.push(
            Statement::allow(
                &["codedeploy:GetDeploymentConfig"],
                vec![in_region("codedeploy", "deploymentconfig:*")],
            )
            .sid("ReadDeploymentConfigs"),
        );
        statements.push(
            Statement::allow(&["codedeploy:StopDeployment"], vec![Expr::lit("*")])
                .sid("StopTrafficShifting"),
        );
        statements.push(
            Statement::allow(&["iam:PassRole"], vec![stage_roles()])
                .sid("HandRoleToCodeDeploy")
                .when(
                    "StringEquals",
                    "iam:PassedToService",
                    "codedeploy.amazonaws.com",
                ),
        );
    }
    statements.extend(guard_statements(stage));
    if let Some(zone) = stage
        .domain
        .as_ref()
        .and_then(|d| d.hosted_zone_id.as_ref())
    {
        statements.push(
            Statement::allow(
                &[
                    "route53:ChangeResourceRecordSets",
                    "route53:ListResourceRecordSets",
                    "route53:GetHostedZone",
                ],
                vec![arn(&format!("route53:::hostedzone/{zone}"))],
            )
            .sid("SiteRecords"),
        );
        statements.push(
            Statement::allow(&["route53:GetChange"], vec![arn("route53:::change/*")])
                .sid("SiteRecordChanges"),
        );
    }
    statements
}

/// IAM actions that change a role or a managed policy.
const IAM_CHANGES: [&str; 10] = [
    "iam:Create*",
    "iam:Delete*",
    "iam:Put*",
    "iam:Attach*",
    "iam:Detach*",
    "iam:Update*",
    "iam:Tag*",
    "iam:Untag*",
    "iam:SetDefaultPolicyVersion",
    "iam:AddRoleToInstanceProfile",
];

/// Services whose resources AWS names by id, so the stage is told by the `mumble:stage` tag.
const TAGGED_SERVICES: [&str; 4] = ["apigateway:*", "cognito-idp:*", "cloudfront:*", "acm:*"];

/// Denies both bootstrap roles: changing either of them or the boundary, and touching (or
/// tagging into existence) another stage's tagged resources. An explicit deny wins over every
/// allow, including any a later change set might add.
pub fn guard_statements(stage: &Stage) -> Vec<Statement> {
    let s = &stage.name;
    let tag = |key: &str| format!("aws:{key}/{STAGE_TAG}");
    vec![
        Statement::deny(
            &IAM_CHANGES,
            vec![
                arn(&format!("iam::${{AWS::AccountId}}:role/mumble-{s}-deploy")),
                arn(&format!(
                    "iam::${{AWS::AccountId}}:role/mumble-{s}-cloudformation"
                )),
                boundary_arn(stage),
            ],
        )
        .sid("KeepBootstrapRolesAndBoundary"),
        Statement::deny(&TAGGED_SERVICES, vec![Expr::lit("*")])
            .sid("NoOtherStagesResources")
            .when("StringNotEquals", tag("ResourceTag"), s.as_str())
            .when("Null", tag("ResourceTag"), "false"),
        Statement::deny(&TAGGED_SERVICES, vec![Expr::lit("*")])
            .sid("NoResourcesForOtherStages")
            .when("StringNotEquals", tag("RequestTag"), s.as_str())
            .when("Null", tag("RequestTag"), "false"),
    ]
}

/// The stage's permissions boundary: what the functions of the stage could ever need, on this
/// stage's resources only. Each function's own policy is narrower; this is the ceiling a change set
/// cannot raise.
fn boundary_statements(stage: &Stage) -> Vec<Statement> {
    let s = &stage.name;
    let in_region = |service: &str, resource: &str| {
        arn(&format!(
            "{service}:${{AWS::Region}}:${{AWS::AccountId}}:{resource}"
        ))
    };
    let mut statements = vec![
        Statement::allow(
            &["logs:CreateLogStream", "logs:PutLogEvents"],
            vec![in_region(
                "logs",
                &format!("log-group:/aws/lambda/mumble-{s}-*"),
            )],
        )
        .sid("WriteLogs"),
        // X-Ray accepts trace segments only on `*`.
        Statement::allow(
            &["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
            vec![Expr::lit("*")],
        )
        .sid("WriteTraces"),
        Statement::allow(
            &[
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
                "dynamodb:DeleteItem",
                "dynamodb:Query",
                "dynamodb:Scan",
                "dynamodb:BatchGetItem",
                "dynamodb:BatchWriteItem",
                "dynamodb:ConditionCheckItem",
            ],
            vec![in_region("dynamodb", &format!("table/mumble-{s}-*"))],
        )
        .sid("StageTables"),
        Statement::allow(
            &[
                "s3:GetObject",
                "s3:PutObject",
                "s3:DeleteObject",
                "s3:ListBucket",
            ],
            vec![
                arn(&format!("s3:::mumble-{s}-*")),
                arn(&format!("s3:::mumble-{s}-*/*")),
            ],
        )
        .sid("StageBuckets"),
        Statement::allow(
            &["ssm:GetParameter", "ssm:GetParameters"],
            vec![in_region("ssm", &format!("parameter/mumble/{s}/*"))],
        )
        .sid("StageSecrets"),
        Statement::allow(
            &["lambda:InvokeFunction"],
            vec![in_region("lambda", &format!("function:mumble-{s}-*"))],
        )
        .sid("StageFunctions"),
        Statement::allow(
            &["execute-api:ManageConnections"],
            vec![in_region("execute-api", &format!("*/{s}/*/@connections/*"))],
        )
        .sid("StageConnections"),
        Statement::allow(
            &["sqs:SendMessage"],
            vec![in_region("sqs", &format!("mumble-{s}-*"))],
        )
        .sid("StageQueues"),
    ];
    if stage.traffic_shifting.deployment_config().is_some() {
        // The role CodeDeploy shifts traffic with carries the boundary too.
        statements.push(
            Statement::allow(
                &[
                    "lambda:GetAlias",
                    "lambda:UpdateAlias",
                    "lambda:GetProvisionedConcurrencyConfig",
                ],
                vec![in_region(
                    "lambda",
                    &format!("function:mumble-{s}-*:{}", crate::functions::LIVE),
                )],
            )
            .sid("ShiftLiveAliases"),
        );
        statements.push(
            Statement::allow(
                &["cloudwatch:DescribeAlarms"],
                vec![in_region("cloudwatch", &format!("alarm:mumble-{s}-*"))],
            )
            .sid("WatchAlarms"),
        );
    }
    statements
}
