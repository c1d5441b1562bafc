"""Small templates with the resource types and shapes of Mumble's stacks (data, app, web).

One file over 500 lines: the three templates refer to each other's exports and are kept together.
"""

from __future__ import annotations

from typing import Any


def app(
    name: str, cors_origin: str = "http://127.0.0.1:5173", threshold: int = 1
) -> dict[str, Any]:
    function_arn = {"Fn::GetAtt": ["HealthFunction", "Arn"]}
    return {
        "Description": f"{name} app",
        "Parameters": {
            "ArtifactsBucket": {"Type": "String"},
            "HealthCodeKey": {"Type": "String"},
        },
        "Resources": {
            "AlarmTopic": {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": "alarms"}},
            "AlarmEmail": {
                "Type": "AWS::SNS::Subscription",
                "Properties": {
                    "TopicArn": {"Ref": "AlarmTopic"},
                    "Protocol": "email",
                    "Endpoint": "ops@example.com",
                },
            },
            "DeadLetters": {
                "Type": "AWS::SQS::Queue",
                "Properties": {"QueueName": f"{name}-dead-letters"},
            },
            "UserPool": {
                "Type": "AWS::Cognito::UserPool",
                "Properties": {
                    "UserPoolName": f"{name}-users",
                    "UsernameAttributes": ["email"],
                    "AutoVerifiedAttributes": ["email"],
                    "Policies": {
                        "PasswordPolicy": {
                            "MinimumLength": 12,
                            "RequireLowercase": True,
                            "RequireNumbers": True,
                            "RequireSymbols": False,
                            "RequireUppercase": True,
                        }
                    },
                    "Schema": [
                        {
                            "Name": "email",
                            "AttributeDataType": "String",
                            "Required": True,
                            "Mutable": True,
                        }
                    ],
                },
            },
            "UserPoolClient": {
                "Type": "AWS::Cognito::UserPoolClient",
                "Properties": {
                    "UserPoolId": {"Ref": "UserPool"},
                    "ClientName": f"{name}-site",
                    "GenerateSecret": False,
                    "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
                    "PreventUserExistenceErrors": "ENABLED",
                },
            },
            "HealthRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": f"{name}-health",
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"Service": "lambda.amazonaws.com"},
                                "Action": "sts:AssumeRole",
                            }
                        ],
                    },
                },
            },
            "HealthLogGroup": {
                "Type": "AWS::Logs::LogGroup",
                "Properties": {"LogGroupName": f"/aws/lambda/{name}-health", "RetentionInDays": 14},
            },
            "HealthFunction": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "FunctionName": f"{name}-health",
                    "Runtime": "provided.al2023",
                    "Handler": "bootstrap",
                    "Architectures": ["x86_64"],
                    "MemorySize": 128,
                    "Timeout": 10,
                    "Role": {"Fn::GetAtt": ["HealthRole", "Arn"]},
                    "Code": {
                        "S3Bucket": {"Ref": "ArtifactsBucket"},
                        "S3Key": {"Ref": "HealthCodeKey"},
                    },
                    "Environment": {"Variables": {"MUMBLE_STAGE": "local"}},
                },
            },
            "HealthEventInvokeConfig": {
                "Type": "AWS::Lambda::EventInvokeConfig",
                "Properties": {
                    "FunctionName": {"Ref": "HealthFunction"},
                    "Qualifier": "$LATEST",
                    "MaximumRetryAttempts": 2,
                    "DestinationConfig": {
                        "OnFailure": {"Destination": {"Fn::GetAtt": ["DeadLetters", "Arn"]}}
                    },
                },
            },
            "HttpApi": {
                "Type": "AWS::ApiGatewayV2::Api",
                "Properties": {
                    "Name": f"{name}-http",
                    "ProtocolType": "HTTP",
                    "CorsConfiguration": {
                        "AllowOrigins": [cors_origin],
                        "AllowMethods": ["GET", "POST"],
                        "AllowHeaders": ["authorization", "content-type"],
                        "MaxAge": 600,
                    },
                },
            },
            "HttpApiAuthorizer": {
                "Type": "AWS::ApiGatewayV2::Authorizer",
                "Properties": {
                    "ApiId": {"Ref": "HttpApi"},
                    "Name": "cognito",
                    "AuthorizerType": "JWT",
                    "IdentitySource": ["$request.header.Authorization"],
                    "JwtConfiguration": {
                        "Audience": [{"Ref": "UserPoolClient"}],
                        "Issuer": {"Fn::GetAtt": ["UserPool", "ProviderURL"]},
                    },
                },
            },
            "HealthIntegration": {
                "Type": "AWS::ApiGatewayV2::Integration",
                "Properties": {
                    "ApiId": {"Ref": "HttpApi"},
                    "IntegrationType": "AWS_PROXY",
                    "IntegrationUri": function_arn,
                    "PayloadFormatVersion": "2.0",
                },
            },
            "GetHealthRoute": {
                "Type": "AWS::ApiGatewayV2::Route",
                "Properties": {
                    "ApiId": {"Ref": "HttpApi"},
                    "RouteKey": "GET /api/v1/health",
                    "Target": {"Fn::Sub": "integrations/${HealthIntegration}"},
                    "AuthorizationType": "NONE",
                },
            },
            "GetMeRoute": {
                "Type": "AWS::ApiGatewayV2::Route",
                "Properties": {
                    "ApiId": {"Ref": "HttpApi"},
                    "RouteKey": "GET /api/v1/me",
                    "Target": {"Fn::Sub": "integrations/${HealthIntegration}"},
                    "AuthorizationType": "JWT",
                    "AuthorizerId": {"Ref": "HttpApiAuthorizer"},
                },
            },
            "GetHealthPermission": {
                "Type": "AWS::Lambda::Permission",
                "Properties": {
                    "FunctionName": {"Ref": "HealthFunction"},
                    "Action": "lambda:InvokeFunction",
                    "Principal": "apigateway.amazonaws.com",
                    "SourceArn": {
                        "Fn::Sub": "arn:${AWS::Partition}:execute-api:${AWS::Region}"
                        ":${AWS::AccountId}:${HttpApi}/*/GET/api/v1/health"
                    },
                },
            },
            "HttpApiStage": {
                "Type": "AWS::ApiGatewayV2::Stage",
                "Properties": {
                    "ApiId": {"Ref": "HttpApi"},
                    "StageName": "$default",
                    "AutoDeploy": True,
                    "DefaultRouteSettings": {
                        "ThrottlingBurstLimit": 100,
                        "ThrottlingRateLimit": 50,
                    },
                },
            },
            "WebSocketApi": {
                "Type": "AWS::ApiGatewayV2::Api",
                "Properties": {
                    "Name": f"{name}-websocket",
                    "ProtocolType": "WEBSOCKET",
                    "RouteSelectionExpression": "$request.body.action",
                },
            },
            "WebSocketIntegration": {
                "Type": "AWS::ApiGatewayV2::Integration",
                "Properties": {
                    "ApiId": {"Ref": "WebSocketApi"},
                    "IntegrationType": "AWS_PROXY",
                    "IntegrationUri": {
                        "Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path"
                        "/2015-03-31/functions/${HealthFunction.Arn}/invocations"
                    },
                    "TimeoutInMillis": 29000,
                },
            },
            "WebSocketConnectRoute": {
                "Type": "AWS::ApiGatewayV2::Route",
                "Properties": {
                    "ApiId": {"Ref": "WebSocketApi"},
                    "RouteKey": "$connect",
                    "Target": {"Fn::Sub": "integrations/${WebSocketIntegration}"},
                    "AuthorizationType": "NONE",
                },
            },
            "WebSocketStage": {
                "Type": "AWS::ApiGatewayV2::Stage",
                "DependsOn": ["WebSocketConnectRoute"],
                "Properties": {
                    "ApiId": {"Ref": "WebSocketApi"},
                    "StageName": "local",
                    "AutoDeploy": True,
                },
            },
            "CleanupSchedule": {
                "Type": "AWS::Events::Rule",
                "Properties": {
                    "Name": f"{name}-cleanup",
                    "ScheduleExpression": "rate(1 hour)",
                    "State": "ENABLED",
                    "Targets": [{"Id": "cleanup", "Arn": function_arn}],
                },
            },
            "HealthErrorsAlarm": {
                "Type": "AWS::CloudWatch::Alarm",
                "Properties": {
                    "AlarmName": f"{name}-health-errors",
                    "AlarmDescription": "health returns errors",
                    "Namespace": "AWS/Lambda",
                    "MetricName": "Errors",
                    "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": "HealthFunction"}}],
                    "Statistic": "Sum",
                    "Period": 300,
                    "EvaluationPeriods": 1,
                    "Threshold": threshold,
                    "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                    "TreatMissingData": "notBreaching",
                    "AlarmActions": [{"Ref": "AlarmTopic"}],
                },
            },
        },
        "Outputs": {
            "HttpApiUrl": {"Value": {"Fn::GetAtt": ["HttpApi", "ApiEndpoint"]}},
            "WebSocketUrl": {"Value": {"Fn::Sub": "${WebSocketApi.ApiEndpoint}/local"}},
            "UserPoolId": {"Value": {"Ref": "UserPool"}},
            "UserPoolClientId": {"Value": {"Ref": "UserPoolClient"}},
            "AlarmTopicArn": {"Value": {"Ref": "AlarmTopic"}},
        },
    }


def data(name: str, export_prefix: str, retention: int = 14) -> dict[str, Any]:
    bucket_arn = {"Fn::GetAtt": ["MediaBucket", "Arn"]}
    return {
        "Resources": {
            "UsersTable": {
                "Type": "AWS::DynamoDB::Table",
                "DeletionPolicy": "Delete",
                "Properties": {
                    "TableName": f"{name}-users",
                    "BillingMode": "PAY_PER_REQUEST",
                    "AttributeDefinitions": [{"AttributeName": "userId", "AttributeType": "S"}],
                    "KeySchema": [{"AttributeName": "userId", "KeyType": "HASH"}],
                    "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
                    "SSESpecification": {"SSEEnabled": True},
                    "TimeToLiveSpecification": {"AttributeName": "expiresAt", "Enabled": True},
                },
            },
            "MediaBucket": {
                "Type": "AWS::S3::Bucket",
                "Properties": {
                    "VersioningConfiguration": {"Status": "Enabled"},
                    "PublicAccessBlockConfiguration": {
                        "BlockPublicAcls": True,
                        "BlockPublicPolicy": True,
                        "IgnorePublicAcls": True,
                        "RestrictPublicBuckets": True,
                    },
                    "BucketEncryption": {
                        "ServerSideEncryptionConfiguration": [
                            {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                        ]
                    },
                    "CorsConfiguration": {
                        "CorsRules": [
                            {
                                "AllowedOrigins": ["http://127.0.0.1:5173"],
                                "AllowedMethods": ["PUT", "GET", "HEAD"],
                                "AllowedHeaders": ["content-type", "x-amz-*"],
                                "ExposedHeaders": ["ETag"],
                                "MaxAge": 600,
                            }
                        ]
                    },
                    "LifecycleConfiguration": {
                        "Rules": [
                            {
                                "Id": "ExpireRawAudio",
                                "Status": "Enabled",
                                "Prefix": "audio/",
                                "ExpirationInDays": 7,
                            },
                            {
                                "Id": "ExpireNoncurrentVersions",
                                "Status": "Enabled",
                                "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
                                "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
                            },
                        ]
                    },
                    "NotificationConfiguration": {
                        "EventBridgeConfiguration": {"EventBridgeEnabled": True}
                    },
                },
            },
            "AccessLogs": {
                "Type": "AWS::Logs::LogGroup",
                "Properties": {"LogGroupName": f"/{name}/access", "RetentionInDays": retention},
            },
            "MediaBucketPolicy": {
                "Type": "AWS::S3::BucketPolicy",
                "Properties": {
                    "Bucket": {"Ref": "MediaBucket"},
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Sid": "DenyInsecureTransport",
                                "Effect": "Deny",
                                "Principal": "*",
                                "Action": "s3:*",
                                "Resource": [bucket_arn, {"Fn::Sub": "${MediaBucket.Arn}/*"}],
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        ],
                    },
                },
            },
        },
        "Outputs": {
            "UsersTableName": {
                "Value": {"Ref": "UsersTable"},
                "Export": {"Name": f"{export_prefix}-UsersTableName"},
            },
            "MediaBucketName": {
                "Value": {"Ref": "MediaBucket"},
                "Export": {"Name": f"{export_prefix}-MediaBucketName"},
            },
        },
    }


def importer(name: str, export_prefix: str) -> dict[str, Any]:
    """An app-like consumer of the data stack's exports (the image-created rule does this)."""
    return {
        "Resources": {
            "ImageCreatedRule": {
                "Type": "AWS::Events::Rule",
                "Properties": {
                    "Name": f"{name}-image-created",
                    "EventPattern": {
                        "source": ["aws.s3"],
                        "detail-type": ["Object Created"],
                        "detail": {
                            "bucket": {
                                "name": [{"Fn::ImportValue": f"{export_prefix}-MediaBucketName"}]
                            },
                            "object": {"key": [{"prefix": "images/"}]},
                        },
                    },
                    "State": "ENABLED",
                },
            },
        },
        "Outputs": {
            "UsersTable": {"Value": {"Fn::ImportValue": f"{export_prefix}-UsersTableName"}},
        },
    }


def web(name: str, comment: str = "site") -> dict[str, Any]:
    return {
        "Resources": {
            "SiteBucket": {
                "Type": "AWS::S3::Bucket",
                "Properties": {"VersioningConfiguration": {"Status": "Enabled"}},
            },
            "OriginAccessControl": {
                "Type": "AWS::CloudFront::OriginAccessControl",
                "Properties": {
                    "OriginAccessControlConfig": {
                        "Name": f"{name}-oac",
                        "OriginAccessControlOriginType": "s3",
                        "SigningBehavior": "always",
                        "SigningProtocol": "sigv4",
                    }
                },
            },
            "SecurityHeaders": {
                "Type": "AWS::CloudFront::ResponseHeadersPolicy",
                "Properties": {
                    "ResponseHeadersPolicyConfig": {
                        "Name": f"{name}-security-headers",
                        "SecurityHeadersConfig": {
                            "StrictTransportSecurity": {
                                "AccessControlMaxAgeSec": 63072000,
                                "IncludeSubdomains": True,
                                "Override": True,
                            },
                            "ContentTypeOptions": {"Override": True},
                            "FrameOptions": {"FrameOption": "DENY", "Override": True},
                        },
                    }
                },
            },
            "Distribution": {
                "Type": "AWS::CloudFront::Distribution",
                "Properties": {
                    "DistributionConfig": {
                        "Comment": comment,
                        "Enabled": True,
                        "HttpVersion": "http2and3",
                        "IPV6Enabled": True,
                        "DefaultRootObject": "index.html",
                        "Origins": [
                            {
                                "Id": "site",
                                "DomainName": {"Fn::GetAtt": ["SiteBucket", "RegionalDomainName"]},
                                "S3OriginConfig": {},
                                "OriginAccessControlId": {
                                    "Fn::GetAtt": ["OriginAccessControl", "Id"]
                                },
                            }
                        ],
                        "DefaultCacheBehavior": {
                            "TargetOriginId": "site",
                            "ViewerProtocolPolicy": "redirect-to-https",
                            "Compress": True,
                            "AllowedMethods": ["GET", "HEAD"],
                            "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",
                            "ResponseHeadersPolicyId": {"Ref": "SecurityHeaders"},
                        },
                        "CustomErrorResponses": [
                            {
                                "ErrorCode": 403,
                                "ResponseCode": 200,
                                "ResponsePagePath": "/index.html",
                            },
                            {
                                "ErrorCode": 404,
                                "ResponseCode": 200,
                                "ResponsePagePath": "/index.html",
                            },
                        ],
                        "ViewerCertificate": {"CloudFrontDefaultCertificate": True},
                    }
                },
            },
            "SiteBucketPolicy": {
                "Type": "AWS::S3::BucketPolicy",
                "Properties": {
                    "Bucket": {"Ref": "SiteBucket"},
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"Service": "cloudfront.amazonaws.com"},
                                "Action": "s3:GetObject",
                                "Resource": {"Fn::Sub": "${SiteBucket.Arn}/*"},
                                "Condition": {
                                    "StringEquals": {
                                        "AWS:SourceArn": {
                                            "Fn::Sub": "arn:${AWS::Partition}:cloudfront"
                                            "::${AWS::AccountId}:distribution/${Distribution}"
                                        }
                                    }
                                },
                            }
                        ],
                    },
                },
            },
        },
        "Outputs": {
            "SiteBucketName": {"Value": {"Ref": "SiteBucket"}},
            "DistributionId": {"Value": {"Ref": "Distribution"}},
            "DistributionDomainName": {"Value": {"Fn::GetAtt": ["Distribution", "DomainName"]}},
            "SiteUrl": {"Value": {"Fn::Sub": "https://${Distribution.DomainName}"}},
        },
    }
