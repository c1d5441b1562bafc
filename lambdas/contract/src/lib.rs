//! The facts the stacks, the functions and the operator CLI share, each written once.
//!
//! `stacks` renders them into CloudFormation, `lambdas/core` reads them at a cold start, and
//! `xtask` reads them back from a deployed stage; a mismatch between two sides is a compile error
//! or a failing test, never a surprise on AWS or in the browser.
