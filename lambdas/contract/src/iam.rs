//! What each adapter of `mumble_core` may call on AWS, declared beside the adapter's contract.
//!
//! Every store, the secret source, the job starter and the pusher state here the IAM actions
//! each of their operations makes, on which of the stage's resources. A function's spec
//! (`stacks::functions`) lists the operations its `Deps` use, and its role is the sum of them, so
//! adding an SDK call means adding its action here, next to the operation's siblings. The tests
//! that run every function under its synthesized role with IAM enforced catch a forgotten one.

use crate::tables::Table;

/// One operation's permission: actions on one kind of the stage's resources.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Grant {
    pub actions: &'static [&'static str],
    pub on: Resource,
}

/// The stage resources a grant can name; the app stack turns each into ARNs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Resource {
    /// A table (`index: true`: its secondary indexes).
    Table { table: Table, index: bool },
    /// The media bucket's objects under a key prefix.
    MediaObjects { prefix: &'static str },
    /// Listing the media bucket, limited to a key prefix (`s3:prefix`): without it S3 answers a
    /// read of a missing object with 403 instead of 404.
    MediaListing { prefix: &'static str },
    /// The SSM parameters of the function's secrets.
    Secrets,
    /// The worker function, started asynchronously.
    Worker,
    /// The WebSocket API's connections.
    Connections,
}

const fn table(table: Table, actions: &'static [&'static str]) -> Grant {
    Grant {
        actions,
        on: Resource::Table {
            table,
            index: false,
        },
    }
}

const fn index(table: Table, actions: &'static [&'static str]) -> Grant {
    Grant {
        actions,
        on: Resource::Table { table, index: true },
    }
}

/// `ImageStore` (`mumble_core::store::images`) and the image processor's details store.
pub mod images {
    use super::*;
    pub const PUT: Grant = table(Table::Images, &["dynamodb:PutItem"]);
    /// The sort key is not known to callers: one partition is queried.
    pub const GET: Grant = table(Table::Images, &["dynamodb:Query"]);
    pub const LIST_BY_USER: Grant = index(Table::Images, &["dynamodb:Query"]);
    pub const DELETE: Grant = table(Table::Images, &["dynamodb:DeleteItem"]);
    /// The image processor finds an image's record (its sort key is not in the object key) and
    /// records the image's size and thumbnail.
    pub const RECORD_DETAILS: Grant =
        table(Table::Images, &["dynamodb:Query", "dynamodb:UpdateItem"]);
}

/// `UserStore` (`mumble_core::store::users`).
pub mod users {
    use super::*;
    pub const GET: Grant = table(Table::Users, &["dynamodb:GetItem"]);
    /// `create` and `save` both put the whole profile (`create` on condition it is new).
    pub const WRITE: Grant = table(Table::Users, &["dynamodb:PutItem"]);
}

/// `JobStore` (`mumble_core::store::jobs`).
pub mod jobs {
    use super::*;
    /// A new job, in one transaction with its idempotency key, its recording's claim and the
    /// user's daily count (an update); a repeated key reads the first job.
    pub const CREATE: Grant = table(
        Table::Jobs,
        &[
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:GetItem",
        ],
    );
    /// A job whose worker could not start gives its recording back.
    pub const RELEASE_RECORDING: Grant = table(Table::Jobs, &["dynamodb:DeleteItem"]);
    pub const GET: Grant = table(Table::Jobs, &["dynamodb:GetItem"]);
    pub const ADVANCE: Grant = table(Table::Jobs, &["dynamodb:UpdateItem"]);
    /// `stuck`, `audio_keys_in_use`: the hourly clean-up's scans.
    pub const SCAN: Grant = table(Table::Jobs, &["dynamodb:Scan"]);
    pub const FAIL_IF_STUCK: Grant = table(Table::Jobs, &["dynamodb:UpdateItem"]);
    /// The stage's daily budget of paid provider calls, a counter in the jobs table
    /// (`mumble_core::store::quota`).
    pub const SPEND_PROVIDER_BUDGET: Grant = table(Table::Jobs, &["dynamodb:UpdateItem"]);
}

/// `ConnectionStore` (`mumble_core::store::connections`).
pub mod connections {
    use super::*;
    pub const PUT: Grant = table(Table::Connections, &["dynamodb:PutItem"]);
    pub const GET: Grant = table(Table::Connections, &["dynamodb:GetItem"]);
    pub const DELETE: Grant = table(Table::Connections, &["dynamodb:DeleteItem"]);
    pub const LIST_BY_USER: Grant = index(Table::Connections, &["dynamodb:Query"]);
    pub const EXPIRED: Grant = table(Table::Connections, &["dynamodb:Scan"]);
}

/// `MediaStore` (`mumble_core::store::media`), per key prefix.
pub mod media {
    use super::*;

    const fn objects(prefix: &'static str, actions: &'static [&'static str]) -> Grant {
        Grant {
            actions,
            on: Resource::MediaObjects { prefix },
        }
    }

    const fn listing(prefix: &'static str) -> Grant {
        Grant {
            actions: &["s3:ListBucket"],
            on: Resource::MediaListing { prefix },
        }
    }

    /// A presigned URL works only with the signer's permission.
    pub const fn presign_put(prefix: &'static str) -> [Grant; 1] {
        [objects(prefix, &["s3:PutObject"])]
    }
    pub const fn presign_get(prefix: &'static str) -> [Grant; 1] {
        [objects(prefix, &["s3:GetObject"])]
    }
    /// `head` and `get` tell a missing object (404) from a forbidden one, which takes listing.
    pub const fn read(prefix: &'static str) -> [Grant; 2] {
        [objects(prefix, &["s3:GetObject"]), listing(prefix)]
    }
    pub const fn put(prefix: &'static str) -> [Grant; 1] {
        [objects(prefix, &["s3:PutObject"])]
    }
    /// `DeleteObjects` is authorized per object as `s3:DeleteObject`.
    pub const fn delete(prefix: &'static str) -> [Grant; 1] {
        [objects(prefix, &["s3:DeleteObject"])]
    }
    /// Finding what to delete under a prefix.
    pub const fn list(prefix: &'static str) -> [Grant; 1] {
        [listing(prefix)]
    }
}

/// `SecretSource` (`mumble_core::secrets`): one `GetParameters` call for all of a function's
/// secrets at its cold start. `GetParameters` is its own IAM action, apart from `GetParameter`.
pub mod secrets {
    use super::*;
    pub const READ: Grant = Grant {
        actions: &["ssm:GetParameters"],
        on: Resource::Secrets,
    };
}

/// `JobStarter` (`mumble_core::generation`): the worker, invoked asynchronously.
pub mod worker {
    use super::*;
    pub const START: Grant = Grant {
        actions: &["lambda:InvokeFunction"],
        on: Resource::Worker,
    };
}

/// `Pusher` (`mumble_core::pipeline::push`): messages to a user's open connections.
pub mod push {
    use super::*;
    pub const SEND: Grant = Grant {
        actions: &["execute-api:ManageConnections"],
        on: Resource::Connections,
    };
}
