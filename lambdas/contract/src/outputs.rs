//! A stage's stacks and the outputs each one writes: the only way to name an output.
//!
//! The stacks write an output with `Output::X`, other stacks import it by the same value, and
//! `xtask` reads it back from a deployed stage by the same value; no output name is ever typed.

/// The stacks of a stage, in deploy order (destroy in reverse).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Part {
    /// The artifacts bucket (and the GitHub deploy role), in the stage's region.
    Bootstrap,
    /// The site's certificate, in us-east-1 as CloudFront requires; only for stages with a domain.
    Cert,
    /// Tables and the media bucket.
    Data,
    /// Functions, APIs, user pool, schedules, alarms.
    App,
    /// The site bucket and its CloudFront distribution.
    Web,
}

impl Part {
    pub const ALL: [Part; 5] = [
        Part::Bootstrap,
        Part::Cert,
        Part::Data,
        Part::App,
        Part::Web,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Part::Bootstrap => "bootstrap",
            Part::Cert => "cert",
            Part::Data => "data",
            Part::App => "app",
            Part::Web => "web",
        }
    }
}

impl std::fmt::Display for Part {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

macro_rules! outputs {
    ($($(#[$doc:meta])* $name:ident: $part:ident, $exported:expr, $description:literal;)*) => {
        /// Every output of every stack of a stage.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Output {
            $($(#[$doc])* $name,)*
        }

        impl Output {
            pub const ALL: &'static [Output] = &[$(Output::$name),*];

            /// The output's name in its template (the variant's name).
            pub const fn name(self) -> &'static str {
                match self {
                    $(Output::$name => stringify!($name),)*
                }
            }

            /// The stack that writes it.
            pub const fn part(self) -> Part {
                match self {
                    $(Output::$name => Part::$part,)*
                }
            }

            /// Whether another stack imports it (so the writing stack exports it).
            pub const fn exported(self) -> bool {
                match self {
                    $(Output::$name => $exported,)*
                }
            }

            pub const fn description(self) -> &'static str {
                match self {
                    $(Output::$name => $description,)*
                }
            }
        }
    };
}

outputs! {
    ArtifactsBucketName: Bootstrap, false, "Bucket the deploy uploads function zips to";
    /// Only with a GitHub repository in the stage settings.
    DeployRoleArn: Bootstrap, false, "Role GitHub Actions assume to deploy this stage";
    /// Only with a GitHub repository in the stage settings.
    CloudFormationRoleArn: Bootstrap, false, "Role the deploy hands to CloudFormation";
    CertificateArn: Cert, false, "ARN of the site's certificate";
    UsersTableName: Data, true, "Name of the users table";
    UsersTableArn: Data, true, "ARN of the users table";
    ImagesTableName: Data, true, "Name of the images table";
    ImagesTableArn: Data, true, "ARN of the images table";
    JobsTableName: Data, true, "Name of the jobs table";
    JobsTableArn: Data, true, "ARN of the jobs table";
    ConnectionsTableName: Data, true, "Name of the connections table";
    ConnectionsTableArn: Data, true, "ARN of the connections table";
    MediaBucketName: Data, true, "Name of the media bucket";
    MediaBucketArn: Data, true, "ARN of the media bucket";
    HttpApiUrl: App, true, "Base URL of the HTTP API (routes under /api/v1)";
    WebSocketUrl: App, true, "URL browsers open WebSocket connections to";
    WebSocketManagementUrl: App, false, "Endpoint of the API Gateway Management API for pushing to connections";
    UserPoolId: App, false, "Cognito user pool";
    UserPoolClientId: App, false, "Cognito app client of the site";
    AlarmTopicArn: App, false, "SNS topic alarms notify";
    SiteBucketName: Web, false, "Bucket the site is published to";
    DistributionId: Web, false, "CloudFront distribution to invalidate";
    DistributionDomainName: Web, false, "CloudFront's name for the site";
    SiteUrl: Web, false, "Where the site is served";
}

impl Output {
    /// The output with this name, for reading a deployed stack's outputs back.
    pub fn from_name(name: &str) -> Option<Output> {
        Output::ALL
            .iter()
            .copied()
            .find(|output| output.name() == name)
    }
}

impl std::fmt::Display for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_back_to_the_same_output() {
        for output in Output::ALL {
            assert_eq!(Output::from_name(output.name()), Some(*output));
        }
        assert_eq!(Output::from_name("NoSuchOutput"), None);
    }
}
