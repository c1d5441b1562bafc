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

pub use mumble_contract::Table;
use mumble_contract::env::{defaults, vars};
use mumble_contract::iam::{
    Grant, Resource, connections, images, jobs, media, push, secrets, users, worker,
};

/// SSM SecureString parameters; functions get their names, never their values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Secret {
    OpenAi,
    OpenWeather,
}

impl Secret {
    pub const ALL: [Secret; 2] = [Secret::OpenAi, Secret::OpenWeather];

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
            Secret::OpenAi => vars::OPENAI_API_KEY_PARAM,
            Secret::OpenWeather => vars::OPENWEATHER_API_KEY_PARAM,
        }
    }

    /// The variable for the provider's base URL and its default.
    pub fn base_url(self) -> (&'static str, &'static str) {
        match self {
            Secret::OpenAi => (vars::OPENAI_BASE_URL, defaults::OPENAI_BASE_URL),
            Secret::OpenWeather => (vars::OPENWEATHER_BASE_URL, defaults::OPENWEATHER_BASE_URL),
        }
    }

    /// The SSM parameter's full name in a stage: `/mumble/{stage}/{parameter}`.
    pub fn parameter_name(self, stage: &str) -> String {
        format!("/mumble/{stage}/{}", self.parameter())
    }
}

/// Settings a function reads, each bringing its variable. (What it may call, and the variables
/// naming those resources, follow from its grants.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Uses {
    /// `USER_POOL_ID` and `USER_POOL_CLIENT_ID`, to verify tokens outside the HTTP API's authorizer.
    UserPool,
    AllowedOrigins,
    MaxAudioBytes,
    AudioRetentionDays,
    JobTimeoutSeconds,
    Providers,
    /// `MAX_GENERATIONS_PER_USER_PER_DAY`: the quota checked where jobs start.
    GenerationQuota,
    /// `MAX_PROVIDER_CALLS_PER_DAY`: the stage's daily cap on paid provider calls.
    ProviderCap,
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
    /// The adapter operations its `Deps` use (`mumble_contract::iam`): its role is their sum.
    pub grants: &'static [&'static [Grant]],
    pub secrets: &'static [Secret],
    pub uses: &'static [Uses],
}

/// The alias every caller of a function invokes.
pub const LIVE: &str = "live";

/// The CodeDeploy application holding the stage's deployment groups.
pub fn codedeploy_application_name(stage: &str) -> String {
    format!("mumble-{stage}-functions")
}

impl FunctionSpec {
    /// The app stack parameter that carries the artifact key of this function's zip.
    pub fn code_key_parameter(&self) -> String {
        format!("{}CodeKey", self.pascal)
    }

    pub fn physical_name(&self, stage: &str) -> String {
        format!("mumble-{stage}-{}", self.name)
    }

    /// Logical id of the function's published version in the app stack: a deploy that replaces
    /// it moves the function's `live` alias (through CodeDeploy in a stage that shifts traffic).
    pub fn version_logical_id(&self) -> String {
        format!("{}Version", self.pascal)
    }

    /// `mumble-{stage}-{name}:live`: what every caller invokes (the alias moves to each new
    /// version, through CodeDeploy where the stage shifts traffic gradually).
    pub fn live_name(&self, stage: &str) -> String {
        format!("{}:{LIVE}", self.physical_name(stage))
    }

    /// The CodeDeploy deployment group that shifts traffic to the function's new versions (in
    /// stages whose `traffic_shifting` is not all-at-once).
    pub fn deployment_group_name(&self, stage: &str) -> String {
        self.physical_name(stage)
    }

    pub fn log_group_name(&self, stage: &str) -> String {
        format!("/aws/lambda/mumble-{stage}-{}", self.name)
    }

    pub fn uses(&self, what: Uses) -> bool {
        self.uses.contains(&what)
    }

    /// Every grant of every adapter operation the function uses.
    pub fn grants(&self) -> impl Iterator<Item = &'static Grant> + use<> {
        self.grants.iter().flat_map(|grants| grants.iter())
    }

    /// The tables the function reads or writes, each once, in the order of its grants.
    pub fn tables(&self) -> Vec<Table> {
        let mut tables = Vec::new();
        for grant in self.grants() {
            if let Resource::Table { table, .. } = grant.on
                && !tables.contains(&table)
            {
                tables.push(table);
            }
        }
        tables
    }

    /// Whether it touches the media bucket.
    pub fn uses_media(&self) -> bool {
        self.grants().any(|grant| {
            matches!(
                grant.on,
                Resource::MediaObjects { .. } | Resource::MediaListing { .. }
            )
        })
    }
}

/// Looks a function up by name.
pub fn function(name: &str) -> Option<&'static FunctionSpec> {
    FUNCTIONS.iter().find(|f| f.name == name)
}

pub static FUNCTIONS: &[FunctionSpec] = &[
    FunctionSpec {
        name: "health",
        pascal: "Health",
        description: "Reports that the API is up",
        kind: FunctionKind::Http,
        timeout_seconds: 5,
        grants: &[],
        secrets: &[],
        uses: &[],
    },
    FunctionSpec {
        name: "audio-upload",
        pascal: "AudioUpload",
        description: "Hands out presigned URLs for audio uploads",
        kind: FunctionKind::Http,
        timeout_seconds: 10,
        grants: &[&media::presign_put("audio/")],
        secrets: &[],
        uses: &[Uses::MaxAudioBytes],
    },
    FunctionSpec {
        name: "weather",
        pascal: "Weather",
        description: "Current weather for a location",
        kind: FunctionKind::Http,
        timeout_seconds: 15,
        grants: &[&[secrets::READ]],
        secrets: &[Secret::OpenWeather],
        uses: &[Uses::Providers],
    },
    FunctionSpec {
        name: "gallery",
        pascal: "Gallery",
        description: "Lists, shows and deletes the caller's images",
        kind: FunctionKind::Http,
        timeout_seconds: 10,
        grants: &[
            &[images::GET, images::LIST_BY_USER, images::DELETE],
            &media::presign_get("images/"),
            &media::presign_get("thumbnails/"),
            &media::delete("images/"),
            &media::delete("thumbnails/"),
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
        grants: &[&[users::GET, users::WRITE]],
        secrets: &[],
        uses: &[],
    },
    FunctionSpec {
        name: "generate",
        pascal: "Generate",
        description: "Queues an image generation job and starts the worker",
        kind: FunctionKind::Http,
        timeout_seconds: 10,
        grants: &[
            &[
                jobs::CREATE,
                jobs::ADVANCE,
                jobs::RELEASE_RECORDING,
                worker::START,
            ],
            &media::read("audio/"),
        ],
        secrets: &[],
        uses: &[
            Uses::MaxAudioBytes,
            Uses::JobTimeoutSeconds,
            Uses::GenerationQuota,
        ],
    },
    FunctionSpec {
        name: "jobs",
        pascal: "Jobs",
        description: "Reports a job's state",
        kind: FunctionKind::Http,
        timeout_seconds: 10,
        grants: &[&[jobs::GET]],
        secrets: &[],
        uses: &[],
    },
    FunctionSpec {
        name: "worker",
        pascal: "Worker",
        description: "Turns a recording into an image: transcript, weather, prompt, image",
        kind: FunctionKind::Async,
        timeout_seconds: 300,
        grants: &[
            &[
                jobs::GET,
                jobs::ADVANCE,
                jobs::SPEND_PROVIDER_BUDGET,
                images::PUT,
                connections::LIST_BY_USER,
                connections::DELETE,
                secrets::READ,
                push::SEND,
            ],
            &media::read("audio/"),
            &media::put("images/"),
        ],
        secrets: &[Secret::OpenAi, Secret::OpenWeather],
        uses: &[Uses::Providers, Uses::ProviderCap],
    },
    FunctionSpec {
        name: "image-processor",
        pascal: "ImageProcessor",
        description: "Makes thumbnails and records image dimensions",
        kind: FunctionKind::ObjectCreated,
        timeout_seconds: 60,
        grants: &[
            &[images::RECORD_DETAILS],
            &media::read("images/"),
            &media::put("thumbnails/"),
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
        grants: &[
            &[
                connections::PUT,
                connections::GET,
                connections::DELETE,
                jobs::CREATE,
                jobs::ADVANCE,
                jobs::RELEASE_RECORDING,
                worker::START,
            ],
            &media::read("audio/"),
        ],
        secrets: &[],
        uses: &[
            Uses::UserPool,
            Uses::AllowedOrigins,
            Uses::MaxAudioBytes,
            Uses::JobTimeoutSeconds,
            Uses::GenerationQuota,
        ],
    },
    FunctionSpec {
        name: "cleanup",
        pascal: "Cleanup",
        description: "Fails stuck jobs, deletes expired audio, drops stale connections",
        kind: FunctionKind::Schedule,
        timeout_seconds: 120,
        grants: &[
            &[
                jobs::SCAN,
                jobs::FAIL_IF_STUCK,
                connections::EXPIRED,
                connections::DELETE,
            ],
            &media::list("audio/"),
            &media::delete("audio/"),
        ],
        secrets: &[],
        uses: &[Uses::AudioRetentionDays, Uses::JobTimeoutSeconds],
    },
];
