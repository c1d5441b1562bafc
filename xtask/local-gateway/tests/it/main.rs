//! The local gateway end to end on 127.0.0.1, with stand-in functions: what a browser and the
//! worker's pusher see.

mod conformance;
mod fixture;
mod http_api;
mod site;
mod websocket;
