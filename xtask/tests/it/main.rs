//! xtask's integration tests, one binary for the crate (each module is one area).

mod browser;
mod deploy;
mod deploy_role;
mod migrate;
mod observe;
mod releases;
mod secrets;
mod smoke;
mod traffic;
