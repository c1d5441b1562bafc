//! Matching a request to one route of the HTTP API, as API Gateway's router does.

use std::collections::HashMap;

use axum::http::Method;

/// One HTTP API route: `GET /api/v1/images/{id}` served by function `gallery`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRoute {
    pub method: Method,
    /// The path template, with `{name}` for a path parameter.
    pub path: String,
    /// The function (crate) name that serves it.
    pub function: String,
    /// Whether the JWT authorizer guards it.
    pub auth: bool,
}

impl HttpRoute {
    /// API Gateway's route key, as handlers see it in `requestContext.routeKey`.
    pub fn key(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    /// The path parameters when `path` matches this route's template.
    fn captures(&self, path: &str) -> Option<HashMap<String, String>> {
        let mut template = self.path.split('/');
        let mut actual = path.split('/');
        let mut params = HashMap::new();
        loop {
            match (template.next(), actual.next()) {
                (None, None) => return Some(params),
                (Some(want), Some(got)) => {
                    match want.strip_prefix('{').and_then(|w| w.strip_suffix('}')) {
                        // A parameter matches one non-empty segment, never a slash.
                        Some(name) if !got.is_empty() => {
                            params.insert(name.to_owned(), got.to_owned());
                        }
                        Some(_) => return None,
                        None if want == got => {}
                        None => return None,
                    }
                }
                _ => return None,
            }
        }
    }
}

/// What the router found for a request.
#[derive(Debug, PartialEq, Eq)]
pub struct Matched<'a> {
    pub route: &'a HttpRoute,
    pub path_parameters: HashMap<String, String>,
}

/// Every route of the HTTP API.
#[derive(Debug, Clone, Default)]
pub struct RouteTable {
    routes: Vec<HttpRoute>,
}

impl RouteTable {
    pub fn new(routes: Vec<HttpRoute>) -> Self {
        Self { routes }
    }

    /// The route for `method` and `path`; API Gateway answers 404 when none matches, whatever the
    /// method, so there is no separate "method not allowed" case.
    pub fn find(&self, method: &Method, path: &str) -> Option<Matched<'_>> {
        self.routes
            .iter()
            .filter(|route| route.method == *method)
            .find_map(|route| {
                route.captures(path).map(|path_parameters| Matched {
                    route,
                    path_parameters,
                })
            })
    }

    /// The HTTP methods some route accepts on `path` (for answering CORS preflights).
    pub fn methods(&self) -> Vec<Method> {
        let mut methods: Vec<Method> = Vec::new();
        for route in &self.routes {
            if !methods.contains(&route.method) {
                methods.push(route.method.clone());
            }
        }
        methods
    }

    /// The HTTP API's routes as `stacks::routes` declares them for API Gateway.
    pub fn declared() -> Self {
        let routes = stacks::routes::ROUTES
            .iter()
            .map(|route| HttpRoute {
                method: Method::from_bytes(route.method.as_str().as_bytes()).unwrap_or(Method::GET),
                path: route.path.to_owned(),
                function: route.function.to_owned(),
                auth: route.auth,
            })
            .collect();
        Self { routes }
    }

    /// The names of the functions behind the routes.
    pub fn functions(&self) -> impl Iterator<Item = &str> {
        self.routes.iter().map(|route| route.function.as_str())
    }
}

/// One route of the WebSocket API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebSocketRoute {
    /// `$connect`, `$disconnect`, `generateImage`, maybe `$default`.
    pub key: String,
    /// Whether the function's answer goes back to the client (a route response).
    pub replies: bool,
}

/// The WebSocket API's routes as `stacks::routes` declares them.
pub fn declared_websocket_routes() -> Vec<WebSocketRoute> {
    stacks::routes::WEBSOCKET_ROUTES
        .iter()
        .map(|route| WebSocketRoute {
            key: route.key.to_owned(),
            replies: route.replies,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(method: Method, path: &str, function: &str) -> HttpRoute {
        HttpRoute {
            method,
            path: path.to_owned(),
            function: function.to_owned(),
            auth: true,
        }
    }

    fn table() -> RouteTable {
        RouteTable::new(vec![
            route(Method::GET, "/api/v1/images", "gallery"),
            route(Method::GET, "/api/v1/images/{id}", "gallery"),
            route(Method::DELETE, "/api/v1/images/{id}", "gallery"),
            route(Method::GET, "/api/v1/jobs/{id}", "jobs"),
        ])
    }

    #[test]
    fn the_declared_routes_include_the_authorized_gallery_and_the_open_health_check() {
        let table = RouteTable::declared();
        let health = table
            .find(&Method::GET, "/api/v1/health")
            .expect("health route");
        assert!(!health.route.auth);
        let image = table
            .find(&Method::GET, "/api/v1/images/abc")
            .expect("image route");
        assert_eq!(image.route.function, "gallery");
        assert!(image.route.auth);
        let generate = declared_websocket_routes()
            .into_iter()
            .find(|r| r.key == "generateImage");
        assert!(
            generate.is_some_and(|route| route.replies),
            "generateImage answers the client"
        );
    }

    #[test]
    fn a_template_captures_its_parameter() {
        let table = table();
        let found = table
            .find(&Method::DELETE, "/api/v1/images/img-42")
            .expect("route");
        assert_eq!(found.route.function, "gallery");
        assert_eq!(found.route.key(), "DELETE /api/v1/images/{id}");
        assert_eq!(
            found.path_parameters.get("id").map(String::as_str),
            Some("img-42")
        );
    }

    #[test]
    fn a_literal_path_has_no_parameters() {
        let table = table();
        let found = table.find(&Method::GET, "/api/v1/images").expect("route");
        assert_eq!(found.route.key(), "GET /api/v1/images");
        assert!(found.path_parameters.is_empty());
    }

    #[test]
    fn unknown_paths_methods_and_extra_segments_do_not_match() {
        let table = table();
        assert_eq!(table.find(&Method::POST, "/api/v1/images"), None);
        assert_eq!(table.find(&Method::GET, "/api/v1/images/a/b"), None);
        assert_eq!(table.find(&Method::GET, "/api/v1/images/"), None);
        assert_eq!(table.find(&Method::GET, "/api/v1/nothing"), None);
    }
}
