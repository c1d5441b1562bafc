//! The one declaration of Mumble's API routes: HTTP API routes, OpenAPI and the local gateway read it.

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

/// A query or header parameter; path parameters come from `{name}` in the path.
#[derive(Clone, Copy, Debug)]
pub struct Param {
    pub name: &'static str,
    pub location: In,
    pub required: bool,
    /// JSON Schema type: `string`, `number` or `integer`.
    pub schema_type: &'static str,
    pub description: &'static str,
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
    pub params: &'static [Param],
    /// Name of the request body schema (in [`crate::openapi`]).
    pub request: Option<&'static str>,
    pub status: u16,
    /// Name of the response body schema; `None` for an empty body.
    pub response: Option<&'static str>,
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
        params: &[],
        request: None,
        status: 200,
        response: Some("Health"),
    },
    Route {
        method: Method::Post,
        path: "/api/v1/audio/upload-url",
        function: "audio-upload",
        auth: true,
        operation_id: "createUploadUrl",
        summary: "A presigned URL to upload one recording",
        params: &[],
        request: Some("UploadUrlRequest"),
        status: 200,
        response: Some("UploadUrl"),
    },
    Route {
        method: Method::Get,
        path: "/api/v1/weather",
        function: "weather",
        auth: true,
        operation_id: "getWeather",
        summary: "Current weather at a location",
        params: &[
            Param {
                name: "lat",
                location: In::Query,
                required: true,
                schema_type: "number",
                description: "Latitude, -90 to 90",
            },
            Param {
                name: "lon",
                location: In::Query,
                required: true,
                schema_type: "number",
                description: "Longitude, -180 to 180",
            },
        ],
        request: None,
        status: 200,
        response: Some("Weather"),
    },
    Route {
        method: Method::Get,
        path: "/api/v1/images",
        function: "gallery",
        auth: true,
        operation_id: "listImages",
        summary: "The caller's images, newest first",
        params: &[
            Param {
                name: "limit",
                location: In::Query,
                required: false,
                schema_type: "integer",
                description: "Page size, 1 to 100",
            },
            Param {
                name: "cursor",
                location: In::Query,
                required: false,
                schema_type: "string",
                description: "Opaque cursor from the previous page's `nextCursor`",
            },
        ],
        request: None,
        status: 200,
        response: Some("ImagePage"),
    },
    Route {
        method: Method::Get,
        path: "/api/v1/images/{id}",
        function: "gallery",
        auth: true,
        operation_id: "getImage",
        summary: "One of the caller's images",
        params: &[],
        request: None,
        status: 200,
        response: Some("Image"),
    },
    Route {
        method: Method::Delete,
        path: "/api/v1/images/{id}",
        function: "gallery",
        auth: true,
        operation_id: "deleteImage",
        summary: "Deletes one of the caller's images and its files",
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
        params: &[],
        request: None,
        status: 200,
        response: Some("Profile"),
    },
    Route {
        method: Method::Put,
        path: "/api/v1/me",
        function: "profile",
        auth: true,
        operation_id: "updateProfile",
        summary: "Updates the caller's profile",
        params: &[],
        request: Some("ProfileUpdate"),
        status: 200,
        response: Some("Profile"),
    },
    Route {
        method: Method::Post,
        path: "/api/v1/generate",
        function: "generate",
        auth: true,
        operation_id: "generateImage",
        summary: "Starts turning an uploaded recording into an image",
        params: &[Param {
            name: "Idempotency-Key",
            location: In::Header,
            required: false,
            schema_type: "string",
            description: "Repeating a key within 24 hours returns the same job",
        }],
        request: Some("GenerateRequest"),
        status: 202,
        response: Some("JobAccepted"),
    },
    Route {
        method: Method::Get,
        path: "/api/v1/jobs/{id}",
        function: "jobs",
        auth: true,
        operation_id: "getJob",
        summary: "A generation job's state",
        params: &[],
        request: None,
        status: 200,
        response: Some("Job"),
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
