//! The local gateway of `cargo xtask dev`: API Gateway, the WebSocket API and the AWS event
//! wiring, stood in for on 127.0.0.1 so every function runs in-process against the emulator.

pub mod answers;
pub mod conformance;
pub mod connections;
pub mod events;
pub mod functions;
pub mod gateway;
pub mod http_api;
pub mod management;
pub mod ports;
pub mod router;
pub mod routes;
pub mod secrets;
pub mod serve;
pub mod settings;
pub mod site;
pub mod telemetry;
pub mod verifier;
pub mod websocket;
pub mod wiring;
