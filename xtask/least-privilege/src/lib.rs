//! Nothing to link: this crate holds the tests that run each function's real handler under the
//! role the stacks crate synthesizes for it, against an emulator with IAM enforced
//! (`tests/it/`, described in docs/testing.md).
