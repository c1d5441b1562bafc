//! The Lambda functions: what triggers each, how long it may run, and exactly what it may touch.

/// What invokes a function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FunctionKind {
    /// Behind the HTTP API (routes in [`crate::routes::ROUTES`]).
    Http,
    /// Invoked asynchronously by another function.
    Async,
    /// S3 `Object Created` events for one key prefix, delivered by EventBridge.
    ObjectCreated,
    /// Behind the WebSocket API.
    WebSocket,
    /// An EventBridge schedule.
    Schedule,
}

impl FunctionKind {
    /// Invoked asynchronously (by Lambda's event queue), so failures go to the dead-letter queue.
    pub fn is_async(self) -> bool {
        matches!(
            self,
            FunctionKind::Async | FunctionKind::ObjectCreated | FunctionKind::Schedule
        )
    }
}

/// The data stack's tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Table {
    Users,
    Images,
    Jobs,
    Connections,
}

impl Table {
    pub const ALL: [Table; 4] = [Table::Users, Table::Images, Table::Jobs, Table::Connections];

    /// The prefix of the data stack's outputs (`UsersTableName`, `UsersTableArn`).
    pub fn output_prefix(self) -> &'static str {
        match self {
            Table::Users => "UsersTable",
            Table::Images => "ImagesTable",
            Table::Jobs => "JobsTable",
            Table::Connections => "ConnectionsTable",
        }
    }

    /// The environment variable carrying the table's name.
    pub fn env(self) -> &'static str {
        match self {
            Table::Users => "USERS_TABLE",
            Table::Images => "IMAGES_TABLE",
            Table::Jobs => "JOBS_TABLE",
            Table::Connections => "CONNECTIONS_TABLE",
        }
    }
}

/// DynamoDB actions a function may take on one table.
#[derive(Clone, Copy, Debug)]
pub struct TableAccess {
    pub table: Table,
    pub actions: &'static [&'static str],
    /// Also the table's secondary indexes (for `Query` by user).
    pub indexes: bool,
}

/// S3 actions a function may take on one key prefix of the media bucket.
#[derive(Clone, Copy, Debug)]
pub struct MediaAccess {
    pub prefix: &'static str,
    pub actions: &'static [&'static str],
    /// Also `s3:ListBucket`, limited to this prefix.
    pub list: bool,
}

/// SSM SecureString parameters; functions get their names, never their values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Secret {
    OpenAi,
    OpenWeather,
}

impl Secret {
    /// The parameter name without the leading `/mumble/{stage}/`.
    pub fn parameter(self) -> &'static str {
        match self {
            Secret::OpenAi => "openai-api-key",
            Secret::OpenWeather => "openweather-api-key",
        }
    }

    /// The variable naming the parameter.
    pub fn env(self) -> &'static str {
        match self {
            Secret::OpenAi => "OPENAI_API_KEY_PARAM",
            Secret::OpenWeather => "OPENWEATHER_API_KEY_PARAM",
        }
    }

    /// The variable for the provider's base URL and its default.
    pub fn base_url(self) -> (&'static str, &'static str) {
        match self {
            Secret::OpenAi => ("OPENAI_BASE_URL", "https://api.openai.com/v1"),
            Secret::OpenWeather => ("OPENWEATHER_BASE_URL", "https://api.openweathermap.org"),
        }
    }
}

/// Everything else a function may need, each bringing its variable and, where needed, permission.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Uses {
    /// `WORKER_FUNCTION` and `lambda:InvokeFunction` on the worker.
    Worker,
    /// `WEBSOCKET_ENDPOINT` and `execute-api:ManageConnections` on the WebSocket API.
    WebSocketPush,
    /// `USER_POOL_ID` and `USER_POOL_CLIENT_ID`, to verify tokens outside the HTTP API's authorizer.
    UserPool,
    AllowedOrigins,
    MaxAudioBytes,
    AudioRetentionDays,
    JobTimeoutSeconds,
    Providers,
}

#[derive(Clone, Copy, Debug)]
pub struct FunctionSpec {
    /// Crate, package and binary name; the physical name is `mumble-{stage}-{name}`.
    pub name: &'static str,
    /// For logical ids and the `{Pascal}CodeKey` parameter.
    pub pascal: &'static str,
    pub description: &'static str,
    pub kind: FunctionKind,
    pub timeout_seconds: u32,
    pub tables: &'static [TableAccess],
    pub media: &'static [MediaAccess],
    pub secrets: &'static [Secret],
    pub uses: &'static [Uses],
}

impl FunctionSpec {
    /// The app stack parameter that carries the artifact key of this function's zip.
    pub fn code_key_parameter(&self) -> String {
        format!("{}CodeKey", self.pascal)
    }

    pub fn physical_name(&self, stage: &str) -> String {
        format!("mumble-{stage}-{}", self.name)
    }

    pub fn log_group_name(&self, stage: &str) -> String {
        format!("/aws/lambda/mumble-{stage}-{}", self.name)
    }

    pub fn uses(&self, what: Uses) -> bool {
        self.uses.contains(&what)
    }
}

/// Looks a function up by name.
pub fn function(name: &str) -> Option<&'static FunctionSpec> {
    FUNCTIONS.iter().find(|f| f.name == name)
}

const READ_WRITE_ITEM: &[&str] = &[
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
];

pub static FUNCTIONS: &[FunctionSpec] = &[
    FunctionSpec {
        name: "health",
        pascal: "Health",
        description: "Reports that the API is up",
        kind: FunctionKind::Http,
        timeout_seconds: 5,
        tables: &[],
        media: &[],
        secrets: &[],
        uses: &[],
    },
    FunctionSpec {
        name: "audio-upload",
        pascal: "AudioUpload",
        description: "Hands out presigned URLs for audio uploads",
        kind: FunctionKind::Http,
        timeout_seconds: 10,
        tables: &[],
        media: &[MediaAccess {
            prefix: "audio/",
            actions: &["s3:PutObject"],
            list: false,
        }],
        secrets: &[],
        uses: &[Uses::MaxAudioBytes],
    },
    FunctionSpec {
        name: "weather",
        pascal: "Weather",
        description: "Current weather for a location",
        kind: FunctionKind::Http,
        timeout_seconds: 15,
        tables: &[],
        media: &[],
        secrets: &[Secret::OpenWeather],
        uses: &[Uses::Providers],
    },
    FunctionSpec {
        name: "gallery",
        pascal: "Gallery",
        description: "Lists, shows and deletes the caller's images",
        kind: FunctionKind::Http,
        timeout_seconds: 10,
        tables: &[TableAccess {
            table: Table::Images,
            actions: &["dynamodb:GetItem", "dynamodb:Query", "dynamodb:DeleteItem"],
            indexes: true,
        }],
        media: &[
            MediaAccess {
                prefix: "images/",
                actions: &["s3:GetObject", "s3:DeleteObject"],
                list: false,
            },
            MediaAccess {
                prefix: "thumbnails/",
                actions: &["s3:GetObject", "s3:DeleteObject"],
                list: false,
            },
        ],
        secrets: &[],
        uses: &[],
    },
    FunctionSpec {
        name: "profile",
        pascal: "Profile",
        description: "Reads and updates the caller's profile",
        kind: FunctionKind::Http,
        timeout_seconds: 10,
        tables: &[TableAccess {
            table: Table::Users,
            actions: READ_WRITE_ITEM,
            indexes: false,
        }],
        media: &[],
        secrets: &[],
        uses: &[],
    },
    FunctionSpec {
        name: "generate",
        pascal: "Generate",
        description: "Queues an image generation job and starts the worker",
        kind: FunctionKind::Http,
        timeout_seconds: 10,
        tables: &[TableAccess {
            table: Table::Jobs,
            actions: READ_WRITE_ITEM,
            indexes: false,
        }],
        media: &[MediaAccess {
            prefix: "audio/",
            actions: &["s3:GetObject"],
            list: true,
        }],
        secrets: &[],
        uses: &[Uses::Worker, Uses::MaxAudioBytes, Uses::JobTimeoutSeconds],
    },
    FunctionSpec {
        name: "jobs",
        pascal: "Jobs",
        description: "Reports a job's state",
        kind: FunctionKind::Http,
        timeout_seconds: 10,
        tables: &[TableAccess {
            table: Table::Jobs,
            actions: &["dynamodb:GetItem"],
            indexes: false,
        }],
        media: &[],
        secrets: &[],
        uses: &[],
    },
    FunctionSpec {
        name: "worker",
        pascal: "Worker",
        description: "Turns a recording into an image: transcript, weather, prompt, image",
        kind: FunctionKind::Async,
        timeout_seconds: 300,
        tables: &[
            TableAccess {
                table: Table::Jobs,
                actions: &["dynamodb:GetItem", "dynamodb:UpdateItem"],
                indexes: false,
            },
            TableAccess {
                table: Table::Images,
                actions: &["dynamodb:PutItem"],
                indexes: false,
            },
            TableAccess {
                table: Table::Connections,
                actions: &["dynamodb:Query", "dynamodb:DeleteItem"],
                indexes: true,
            },
        ],
        media: &[
            MediaAccess {
                prefix: "audio/",
                actions: &["s3:GetObject"],
                list: false,
            },
            MediaAccess {
                prefix: "images/",
                actions: &["s3:PutObject"],
                list: false,
            },
        ],
        secrets: &[Secret::OpenAi, Secret::OpenWeather],
        uses: &[Uses::WebSocketPush, Uses::Providers],
    },
    FunctionSpec {
        name: "image-processor",
        pascal: "ImageProcessor",
        description: "Makes thumbnails and records image dimensions",
        kind: FunctionKind::ObjectCreated,
        timeout_seconds: 60,
        tables: &[TableAccess {
            table: Table::Images,
            actions: &["dynamodb:Query", "dynamodb:UpdateItem"],
            indexes: false,
        }],
        media: &[
            MediaAccess {
                prefix: "images/",
                actions: &["s3:GetObject"],
                list: false,
            },
            MediaAccess {
                prefix: "thumbnails/",
                actions: &["s3:PutObject"],
                list: false,
            },
        ],
        secrets: &[],
        uses: &[],
    },
    FunctionSpec {
        name: "websocket",
        pascal: "Websocket",
        description: "Accepts WebSocket connections and generation requests",
        kind: FunctionKind::WebSocket,
        timeout_seconds: 15,
        tables: &[
            TableAccess {
                table: Table::Connections,
                actions: &[
                    "dynamodb:GetItem",
                    "dynamodb:PutItem",
                    "dynamodb:DeleteItem",
                ],
                indexes: false,
            },
            TableAccess {
                table: Table::Jobs,
                actions: READ_WRITE_ITEM,
                indexes: false,
            },
        ],
        media: &[MediaAccess {
            prefix: "audio/",
            actions: &["s3:GetObject"],
            list: true,
        }],
        secrets: &[],
        uses: &[
            Uses::UserPool,
            Uses::AllowedOrigins,
            Uses::Worker,
            Uses::WebSocketPush,
            Uses::MaxAudioBytes,
            Uses::JobTimeoutSeconds,
        ],
    },
    FunctionSpec {
        name: "cleanup",
        pascal: "Cleanup",
        description: "Fails stuck jobs, deletes expired audio, drops stale connections",
        kind: FunctionKind::Schedule,
        timeout_seconds: 120,
        tables: &[
            TableAccess {
                table: Table::Jobs,
                actions: &["dynamodb:Scan", "dynamodb:UpdateItem"],
                indexes: false,
            },
            TableAccess {
                table: Table::Connections,
                actions: &["dynamodb:Scan", "dynamodb:DeleteItem"],
                indexes: false,
            },
        ],
        media: &[MediaAccess {
            prefix: "audio/",
            actions: &["s3:DeleteObject"],
            list: true,
        }],
        secrets: &[],
        uses: &[Uses::AudioRetentionDays, Uses::JobTimeoutSeconds],
    },
];
