//! CloudFormation mechanics the commands share: reading stacks (`stack`), following their
//! events until a change or a deletion ends (`events`), and change sets (`changeset`). `deploy`,
//! `rollback`, `destroy`, `recover`, `outputs` and `status` build on them; nothing here knows a
//! command.

pub mod changeset;
pub mod events;
pub mod stack;
