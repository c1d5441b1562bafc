//! What every Mumble function shares: configuration, identity, errors, data adapters, HTTP clients.
//!
//! # The shape of a function crate
//!
//! Every function lives in `lambdas/{name}` with a ten-line `main.rs` and all logic in `lib.rs`:
//!
//! ```ignore
//! // src/main.rs
//! #[tokio::main]
//! async fn main() -> Result<(), lambda_http::Error> {
//!     mumble_core::telemetry::init();
//!     let sdk = mumble_core::aws::sdk_config()?;
//!     let deps = gallery::Deps::from_env(&sdk).await?;
//!     mumble_core::runtime::serve_http(&deps, gallery::handle).await
//! }
//! ```
//!
//! ```ignore
//! // src/lib.rs
//! pub struct Deps {
//!     pub images: Arc<dyn ImageStore>,   // ports, not SDK clients: tests and the local
//!     pub media: Arc<dyn MediaStore>,    // gateway swap them by assigning the public fields
//! }
//! impl Deps {
//!     pub async fn from_env(sdk: &SdkConfig) -> Result<Self, ConfigError> {
//!         Ok(Self {
//!             images: Arc::new(DynamoImages::new(aws::dynamodb_client(sdk), Env::require(vars::IMAGES_TABLE)?)),
//!             media: Arc::new(S3Media::new(aws::s3_client(sdk), Env::require(vars::MEDIA_BUCKET)?)),
//!         })
//!     }
//! }
//! pub async fn handle(deps: &Deps, req: Request) -> Response<Body> {
//!     respond(route(deps, &req).await)   // the one place an ApiError becomes HTTP
//! }
//! async fn route(deps: &Deps, req: &Request) -> Result<Response<Body>, ApiError> {
//!     let caller = Caller::from_request(req)?;          // 401 without authorizer claims
//!     let query: ListQuery = request::query(req)?;      // 400 naming the bad parameter
//!     ...
//!     Ok(response::ok(&page))
//! }
//! ```
//!
//! Rules the pattern encodes:
//! - [`config::Env`] is read only in `Deps::from_env`, once per cold start; a missing variable
//!   fails the cold start with a [`ConfigError`] naming it. Secrets come from SSM through
//!   [`secrets::SecretSource`] in `from_env` too, never from plaintext environment values.
//! - SDK clients are built once (`aws::*_client`) and moved into adapters; no global statics.
//! - Handlers return `Result<_, ApiError>` internally; [`error::respond`] maps it to the JSON
//!   error body (`{"error":{"code","message"}}`) and logs internal details, which never reach the
//!   caller. Bad input is always a 4xx, never a panic or a 5xx.
//! - Non-HTTP functions (worker, processor, cleanup) follow the same `Deps` + plain `async fn`
//!   shape with their typed event, and are served with `lambda_runtime::run` directly.
//! - Function crates enable the `services` feature (AWS, HTTP clients); `health` alone does
//!   without, so its build compiles no SDK. Only the worker enables `pipeline`.
//! - Integration tests use the dev-only crate `mumble-testing` (`xtask/testing`) for emulator
//!   clients, tables with the deployed key schemas, buckets, fixture requests and fake providers.

pub mod config;
pub mod error;
pub mod identity;
pub mod request;
pub mod response;
pub mod runtime;
pub mod secrets;
pub mod telemetry;
pub mod time;

// Feature `services`: what talks to AWS or a third party.
#[cfg(feature = "services")]
pub mod aws;
#[cfg(feature = "services")]
pub mod http;
#[cfg(feature = "services")]
pub mod jwt;
#[cfg(feature = "services")]
pub mod store;
#[cfg(feature = "services")]
pub mod weather;

// Starting the worker (generate, websocket); the worker's pipeline itself (feature `pipeline`).
#[cfg(feature = "services")]
pub mod generation;
#[cfg(feature = "pipeline")]
pub mod pipeline;

pub use config::{ConfigError, Env};
pub use error::{ApiError, respond};
pub use identity::Caller;
/// The facts the functions share with the stacks (tables, variables, outputs).
pub use mumble_contract as contract;
