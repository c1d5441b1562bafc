//! The facts the stacks, the functions and the operator CLI share, each written once.
//!
//! `stacks` renders them into CloudFormation, `lambdas/core` reads them at a cold start, and
//! `xtask` reads them back from a deployed stage; a mismatch between two sides is a compile error
//! or a failing test, never a surprise on AWS or in the browser.
//!
//! | fact | here | written by | read by |
//! |---|---|---|---|
//! | a stage's stacks | [`Part`] | `stacks::synth` | `xtask` |
//! | stack outputs | [`Output`] | the stacks (`stacks::stacks::*`) | `xtask` (deploy, dev, cdn, ...) |
//! | function environment | [`env::vars`] | `stacks::functions::environment` | `mumble_core::config::Env` |
//! | tables: keys, indexes, TTL | [`Table`] | the data stack | the stores in `mumble_core`, test setup, benches |
//! | IAM actions of each adapter operation | [`iam`] | the function roles (`stacks::functions`) | the adapters in `mumble_core` |
//! | HTTP bodies, queries and their limits | [`api`] | the functions | `stacks::openapi`, the local gateway's check, the site |

pub mod api;
pub mod env;
pub mod iam;
pub mod outputs;
pub mod tables;

pub use outputs::{Output, Part};
pub use tables::{Index, KeySchema, Table};
