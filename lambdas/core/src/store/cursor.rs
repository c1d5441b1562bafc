//! Opaque pagination cursors: the base64 of DynamoDB's `LastEvaluatedKey`, checked on the way
//! back in so a tampered or foreign cursor is a 400 rather than a query for someone else's data.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use super::StoreError;

type Key = HashMap<String, AttributeValue>;

/// The key of the last image on a page of the `UserIndex` query.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ImagePageKey {
    image_id: String,
    created_at: String,
    user_id: String,
}

pub(super) fn encode_image_cursor(last_key: &Key) -> Result<String, StoreError> {
    let key: ImagePageKey = serde_dynamo::from_item(last_key.clone())
        .map_err(|e| StoreError::backend("reading the page key", e))?;
    let json =
        serde_json::to_vec(&key).map_err(|e| StoreError::backend("encoding the cursor", e))?;
    Ok(URL_SAFE_NO_PAD.encode(json))
}

/// The start key for the page after `cursor`, which must belong to `user_id`.
pub(super) fn decode_image_cursor(cursor: &str, user_id: &str) -> Result<Key, StoreError> {
    if cursor.len() > 1024 {
        return Err(StoreError::InvalidCursor);
    }
    let json = URL_SAFE_NO_PAD
        .decode(cursor.trim())
        .map_err(|_| StoreError::InvalidCursor)?;
    let key: ImagePageKey = serde_json::from_slice(&json).map_err(|_| StoreError::InvalidCursor)?;
    let well_formed = key.user_id == user_id
        && !key.image_id.is_empty()
        && key.image_id.len() <= 64
        && chrono::DateTime::parse_from_rfc3339(&key.created_at).is_ok();
    if !well_formed {
        return Err(StoreError::InvalidCursor);
    }
    serde_dynamo::to_item(key).map_err(|e| StoreError::backend("building the start key", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(user: &str) -> Key {
        serde_dynamo::to_item(ImagePageKey {
            image_id: "img-1".into(),
            created_at: "2026-11-26T10:00:00.000Z".into(),
            user_id: user.into(),
        })
        .unwrap()
    }

    #[test]
    fn a_cursor_round_trips_for_its_owner() {
        let cursor = encode_image_cursor(&key("alice")).unwrap();
        assert_eq!(decode_image_cursor(&cursor, "alice").unwrap(), key("alice"));
    }

    #[test]
    fn another_users_cursor_is_rejected() {
        let cursor = encode_image_cursor(&key("alice")).unwrap();
        assert!(matches!(
            decode_image_cursor(&cursor, "bob"),
            Err(StoreError::InvalidCursor)
        ));
    }

    #[test]
    fn garbage_and_edited_cursors_are_rejected() {
        let cursor = encode_image_cursor(&key("alice")).unwrap();
        let mut edited = cursor.clone();
        edited.insert(3, 'x');
        for bad in ["", "!!!", "bm90IGpzb24", edited.as_str(), &"A".repeat(5000)] {
            assert!(
                matches!(
                    decode_image_cursor(bad, "alice"),
                    Err(StoreError::InvalidCursor)
                ),
                "{bad}"
            );
        }
    }
}
