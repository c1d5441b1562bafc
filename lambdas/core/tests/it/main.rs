//! Integration tests of the shared core: adapters against the local emulator, the JWT verifier
//! against a local JWKS server, and the request/error helpers every handler relies on.

mod config;
mod errors;
mod identity;
mod jwt;
mod openai;
mod requests;
mod secrets;
mod store;
mod telemetry;
