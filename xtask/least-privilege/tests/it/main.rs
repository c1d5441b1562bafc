//! Every function's real handler under its own role, as the stacks crate synthesizes it, with
//! IAM enforced by an emulator of the test process's own (docs/testing.md). A refusal fails the
//! test with the function, the step, and the actions and resources the role lacks.

mod cleanup;
mod enforced;
mod http;
mod pipeline;
mod role;
mod websocket;
mod world;
