//! Typed properties of every CloudFormation resource type the stacks use.

pub mod acm;
pub mod apigw;
pub mod cloudfront;
pub mod cloudwatch;
pub mod codedeploy;
pub mod cognito;
pub mod dynamodb;
pub mod events;
pub mod iam;
pub mod lambda;
pub mod logs;
pub mod route53;
pub mod s3;
pub mod sns;
pub mod sqs;

use serde::Serialize;

/// Declares the `Properties` enum: one variant per resource type, tagged with its CloudFormation type name.
macro_rules! resource_types {
    ($($variant:ident($ty:ty) = $name:literal,)*) => {
        /// A resource's `Type` and `Properties`.
        #[derive(Clone, Debug, Serialize)]
        #[serde(tag = "Type", content = "Properties")]
        pub enum Properties {
            $(#[serde(rename = $name)] $variant($ty),)*
        }

        impl Properties {
            /// The CloudFormation type name, e.g. `AWS::S3::Bucket`.
            pub fn type_name(&self) -> &'static str {
                match self {
                    $(Properties::$variant(_) => $name,)*
                }
            }
        }

        $(impl From<$ty> for Properties {
            fn from(properties: $ty) -> Self {
                Properties::$variant(properties)
            }
        })*
    };
}

resource_types! {
    Certificate(acm::Certificate) = "AWS::CertificateManager::Certificate",
    Api(apigw::Api) = "AWS::ApiGatewayV2::Api",
    Authorizer(apigw::Authorizer) = "AWS::ApiGatewayV2::Authorizer",
    Integration(apigw::Integration) = "AWS::ApiGatewayV2::Integration",
    Route(apigw::Route) = "AWS::ApiGatewayV2::Route",
    RouteResponse(apigw::RouteResponse) = "AWS::ApiGatewayV2::RouteResponse",
    ApiStage(apigw::Stage) = "AWS::ApiGatewayV2::Stage",
    Distribution(cloudfront::Distribution) = "AWS::CloudFront::Distribution",
    OriginAccessControl(cloudfront::OriginAccessControl) = "AWS::CloudFront::OriginAccessControl",
    ResponseHeadersPolicy(cloudfront::ResponseHeadersPolicy) = "AWS::CloudFront::ResponseHeadersPolicy",
    Alarm(cloudwatch::Alarm) = "AWS::CloudWatch::Alarm",
    Dashboard(cloudwatch::Dashboard) = "AWS::CloudWatch::Dashboard",
    CodeDeployApplication(codedeploy::Application) = "AWS::CodeDeploy::Application",
    DeploymentGroup(codedeploy::DeploymentGroup) = "AWS::CodeDeploy::DeploymentGroup",
    UserPool(cognito::UserPool) = "AWS::Cognito::UserPool",
    UserPoolClient(cognito::UserPoolClient) = "AWS::Cognito::UserPoolClient",
    Table(dynamodb::Table) = "AWS::DynamoDB::Table",
    Rule(events::Rule) = "AWS::Events::Rule",
    Role(iam::Role) = "AWS::IAM::Role",
    OidcProvider(iam::OidcProvider) = "AWS::IAM::OIDCProvider",
    ManagedPolicy(iam::ManagedPolicy) = "AWS::IAM::ManagedPolicy",
    Function(lambda::Function) = "AWS::Lambda::Function",
    Permission(lambda::Permission) = "AWS::Lambda::Permission",
    EventInvokeConfig(lambda::EventInvokeConfig) = "AWS::Lambda::EventInvokeConfig",
    Version(lambda::Version) = "AWS::Lambda::Version",
    Alias(lambda::Alias) = "AWS::Lambda::Alias",
    LogGroup(logs::LogGroup) = "AWS::Logs::LogGroup",
    MetricFilter(logs::MetricFilter) = "AWS::Logs::MetricFilter",
    RecordSet(route53::RecordSet) = "AWS::Route53::RecordSet",
    Bucket(s3::Bucket) = "AWS::S3::Bucket",
    BucketPolicy(s3::BucketPolicy) = "AWS::S3::BucketPolicy",
    Topic(sns::Topic) = "AWS::SNS::Topic",
    Subscription(sns::Subscription) = "AWS::SNS::Subscription",
    Queue(sqs::Queue) = "AWS::SQS::Queue",
}
