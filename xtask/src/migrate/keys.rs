//! Everything the migration knows about the stage's key schemas (from the contract) and about its
//! own bookkeeping items, in one place.

use aws_sdk_dynamodb::types::AttributeValue;
use mumble_contract::Table;
use std::collections::HashMap;

pub type Item = HashMap<String, AttributeValue>;

/// The users table's partition key.
pub const USER_ID: &str = Table::Users.key().partition;
/// The images table's partition and sort keys.
pub const IMAGE_ID: &str = Table::Images.key().partition;
pub const CREATED_AT: &str = Table::Images.key().sort_key();
/// The images table's index of a user's images, and its partition key.
pub use mumble_contract::tables::USER_INDEX;
pub const OWNER: &str = Table::Images.indexes()[0].key.partition;

/// The migration's own items live in the users table under keys no Cognito `sub` (a UUID) can
/// take: one per legacy user (its new id: the legacy id → new id map), and one for the last run.
pub const LEDGER_PREFIX: &str = "migration#user#";
pub const RUN_KEY: &str = "migration#run";
/// Put while an account is being made (its Cognito steps are not one call): a run killed between
/// them finds the mark and finishes the account, where an account someone made on the new site
/// has none.
pub const PENDING_ACCOUNT_PREFIX: &str = "migration#account#";

/// Attributes the migration adds to the records it writes, and to its ledger items.
pub const FINGERPRINT: &str = "migrationFingerprint";
pub const LEGACY_ID: &str = "legacyId";
pub const NEW_USER_ID: &str = "newUserId";
/// On the run item: the latest `createdAt`/`updatedAt` among the documents of the last
/// completed run (see [`super::Run::checkpoint`]).
pub const CHECKPOINT: &str = "checkpoint";
pub const EMAIL: &str = "email";

pub fn ledger_key(legacy_id: &str) -> String {
    format!("{LEDGER_PREFIX}{legacy_id}")
}

pub fn pending_account_key(email: &str) -> Item {
    user_key(&format!("{PENDING_ACCOUNT_PREFIX}{email}"))
}

pub fn user_key(user_id: &str) -> Item {
    HashMap::from([(USER_ID.to_owned(), AttributeValue::S(user_id.to_owned()))])
}

pub fn image_key(image_id: &str, created_at: &str) -> Item {
    HashMap::from([
        (IMAGE_ID.to_owned(), AttributeValue::S(image_id.to_owned())),
        (
            CREATED_AT.to_owned(),
            AttributeValue::S(created_at.to_owned()),
        ),
    ])
}

/// A string attribute of an item.
pub fn string<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
}

/// The new image id for a legacy image: a UUID derived from its id, the same on every run.
pub fn image_id(legacy_id: &str) -> String {
    // A fixed namespace of our own: the ids are UUIDs like the ones the new Mumble makes.
    const NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x6d75_6d62_6c65_4d49_4752_4154_494f_4e00);
    uuid::Uuid::new_v5(&NAMESPACE, format!("image:{legacy_id}").as_bytes()).to_string()
}
