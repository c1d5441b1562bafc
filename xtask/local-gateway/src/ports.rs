//! What the gateway calls: functions and the token verifier, as small traits so tests can swap them.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use lambda_http::{Body, Request, Response};
use serde_json::Value;

pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// An HTTP function's `handle`, with its dependencies already bound.
pub type HttpFunction = Arc<dyn Fn(Request) -> BoxFuture<Response<Body>> + Send + Sync>;

/// A function taking a JSON event (WebSocket, S3, worker) and answering with a JSON result
/// (`null` for functions that return nothing); `Err` is the function failing, as Lambda would
/// report it.
pub type EventFunction = Arc<dyn Fn(Value) -> BoxFuture<Result<Value, String>> + Send + Sync>;

/// HTTP functions by name (`gallery`, `health`, ...).
pub type HttpFunctions = HashMap<String, HttpFunction>;

/// Checks a Cognito token as API Gateway's JWT authorizer does and returns its claims as the
/// authorizer passes them on (every value a string); `Err` says why the token was refused.
pub trait TokenVerifier: Send + Sync {
    fn verify(&self, token: &str) -> BoxFuture<Result<HashMap<String, String>, String>>;
}
