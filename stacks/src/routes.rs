//! The one declaration of Mumble's API routes: HTTP API routes, OpenAPI and the local gateway read it.
//!
//! Each route names the contract types (`mumble_contract::api`) its function reads and answers;
//! the OpenAPI document takes their JSON Schemas from those types, limits included.

use mumble_contract::api;
use schemars::{JsonSchema, Schema, SchemaGenerator};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        }
    }
}

/// Where a request parameter travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum In {
    Query,
    Header,
}

/// A header parameter; path parameters come from `{name}` in the path, query parameters from the
/// route's `query` type.
#[derive(Clone, Copy, Debug)]
pub struct Param {
    pub name: &'static str,
    pub location: In,
    pub required: bool,
    /// The longest value accepted, in characters.
    pub max_chars: usize,
    pub description: &'static str,
}

/// The JSON Schema of a contract type, registered with the generator: a `$ref` to a named body.
pub type Shape = fn(&mut SchemaGenerator) -> Schema;

/// A request or response body of type `T`.
pub fn body<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<T>()
}

/// A query string of type `T`: its own object schema, whose properties become parameters.
pub fn query<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    T::json_schema(generator)
}

#[derive(Clone, Copy, Debug)]
pub struct Route {
    pub method: Method,
    pub path: &'static str,
    pub function: &'static str,
    /// Requires a Cognito token (the HTTP API's JWT authorizer).
    pub auth: bool,
    pub operation_id: &'static str,
    pub summary: &'static str,
    /// The query string's type ([`query`]), if the route reads one.
    pub query: Option<Shape>,
    pub params: &'static [Param],
    /// The request body's type ([`body`]), if the route reads one.
    pub request: Option<Shape>,
    pub status: u16,
    /// The success response body's type ([`body`]); `None` for an empty body.
    pub response: Option<Shape>,
}

impl Route {
    /// The API Gateway route key, e.g. `GET /api/v1/images/{id}`.
    pub fn key(&self) -> String {
        format!("{} {}", self.method.as_str(), self.path)
    }

    /// Names of the `{...}` path parameters.
    pub fn path_params(&self) -> impl Iterator<Item = &'static str> {
        self.path
            .split('/')
            .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
    }
}

pub const ROUTES: &[Route] = &[
    Route {
        method: Method::Get,
        path: "/api/v1/health",
        function: "health",
        auth: false,
        operation_id: "getHealth",
        summary: "Service status",
        query: None,
        params: &[],
        request: None,
        status: 200,
        response: Some(body::<api::Health>),
    },
    Route {
        method: Method::Post,
        path: "/api/v1/audio/upload-url",
        function: "audio-upload",
        auth: true,
        operation_id: "createUploadUrl",
        summary: "A presigned URL to upload one recording",
        query: None,
        params: &[],
        request: Some(body::<api::UploadUrlRequest>),
        status: 200,
        response: Some(body::<api::UploadUrl>),
    },
    Route {
        method: Method::Get,
        path: "/api/v1/weather",
        function: "weather",
        auth: true,
        operation_id: "getWeather",
        summary: "Current weather at a location",
        query: Some(query::<api::WeatherQuery>),
        params: &[],
        request: None,
        status: 200,
        response: Some(body::<api::CurrentWeather>),
    },
    Route {
        method: Method::Get,
        path: "/api/v1/images",
        function: "gallery",
        auth: true,
        operation_id: "listImages",
        summary: "The caller's images, newest first",
        query: Some(query::<api::ImageListQuery>),
        params: &[],
        request: None,
        status: 200,
        response: Some(body::<api::ImagePage>),
    },
    Route {
        method: Method::Get,
        path: "/api/v1/images/{id}",
        function: "gallery",
        auth: true,
        operation_id: "getImage",
        summary: "One of the caller's images",
        query: None,
        params: &[],
        request: None,
        status: 200,
        response: Some(body::<api::Image>),
    },
    Route {
        method: Method::Delete,
        path: "/api/v1/images/{id}",
        function: "gallery",
        auth: true,
        operation_id: "deleteImage",
        summary: "Deletes one of the caller's images and its files",
        query: None,
        params: &[],
        request: None,
        status: 204,
        response: None,
    },
    Route {
        method: Method::Get,
        path: "/api/v1/me",
        function: "profile",
        auth: true,
        operation_id: "getProfile",
        summary: "The caller's profile, created on first use",
        query: None,
        params: &[],
        request: None,
        status: 200,
        response: Some(body::<api::Profile>),
    },
    Route {
        method: Method::Put,
        path: "/api/v1/me",
        function: "profile",
        auth: true,
        operation_id: "updateProfile",
        summary: "Updates the caller's profile",
        query: None,
        params: &[],
        request: Some(body::<api::ProfileUpdate>),
        status: 200,
        response: Some(body::<api::Profile>),
    },
    Route {
        method: Method::Post,
        path: "/api/v1/generate",
        function: "generate",
        auth: true,
        operation_id: "generateImage",
        summary: "Starts turning an uploaded recording into an image",
        query: None,
        params: &[Param {
            name: "Idempotency-Key",
            location: In::Header,
            required: false,
            max_chars: api::IDEMPOTENCY_KEY_MAX_CHARS,
            description: "Repeating a key within 24 hours returns the same job",
        }],
        request: Some(body::<api::GenerateRequest>),
        status: 202,
        response: Some(body::<api::JobAccepted>),
    },
    Route {
        method: Method::Get,
        path: "/api/v1/jobs/{id}",
        function: "jobs",
        auth: true,
        operation_id: "getJob",
        summary: "A generation job's state",
        query: None,
        params: &[],
        request: None,
        status: 200,
        response: Some(body::<api::Job>),
    },
];

/// A WebSocket route; all go to the `websocket` function.
#[derive(Clone, Copy, Debug)]
pub struct WebSocketRoute {
    pub key: &'static str,
    pub function: &'static str,
    /// Needs a Cognito token, sent in the `token` query string since browsers cannot set headers
    /// on WebSockets; the websocket function verifies it on `$connect`.
    pub auth: bool,
    /// The function's return value is sent back to the client (the job id for `generateImage`).
    pub replies: bool,
}

pub const WEBSOCKET_ROUTES: &[WebSocketRoute] = &[
    WebSocketRoute {
        key: "$connect",
        function: "websocket",
        auth: true,
        replies: false,
    },
    WebSocketRoute {
        key: "$disconnect",
        function: "websocket",
        auth: false,
        replies: false,
    },
    WebSocketRoute {
        key: "generateImage",
        function: "websocket",
        auth: false,
        replies: true,
    },
];
