//! The old documents as typed values, field by field as docs/migration.md describes; pure, so
//! every messy case is a unit test. A document that cannot be mapped is a [`Reject`] with a reason.

use bson::{Bson, Document};
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use mumble_core::weather::Weather;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// Why a document is not migrated; written to the rejects file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject(pub String);

/// The language the new Mumble assumes when the old one had none (the profile function's default).
pub const DEFAULT_LANGUAGE: &str = "zh-CN";
const MAX_DISPLAY_NAME: usize = 100;

/// A `users` document.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LegacyUser {
    pub id: String,
    /// Trimmed and lowercased: the old site treated `A@x.org` and `a@x.org` as two people.
    pub email: String,
    pub display_name: String,
    pub language: String,
    pub created_at: String,
    pub updated_at: String,
}

/// An `images` document.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LegacyImage {
    pub id: String,
    pub user_id: String,
    pub transcript: String,
    pub prompt: String,
    /// Relative to the uploads folder, checked not to leave it.
    pub image_path: Option<String>,
    /// Why there is no file to copy, when that is known from the document alone.
    pub missing: Option<String>,
    pub weather: Option<Weather>,
    pub created_at: String,
    pub deleted: bool,
    /// The later of `createdAt` and `updatedAt`: when the old site last touched it (an edit or a
    /// soft delete sets `updatedAt`). Not written, so not in the fingerprint.
    #[serde(skip)]
    pub changed_at: String,
}

impl LegacyUser {
    /// A fingerprint of everything the stage keeps of this user: equal means nothing to write.
    pub fn fingerprint(&self) -> String {
        fingerprint(self)
    }
}

impl LegacyImage {
    /// A fingerprint of the record as it would be written for `owner`, with the file's size.
    pub fn fingerprint(&self, owner: &str, file_len: Option<u64>) -> String {
        fingerprint(&(self, owner, file_len))
    }
}

fn fingerprint(value: &impl Serialize) -> String {
    let json = serde_json::to_vec(value).expect("plain data serializes");
    hex::encode(&Sha256::digest(&json)[..16])
}

/// The document's `_id` as text (an ObjectId's hex), for the rejects file and new ids.
pub fn id_of(doc: &Document) -> Option<String> {
    match doc.get("_id") {
        Some(Bson::ObjectId(oid)) => Some(oid.to_hex()),
        Some(Bson::String(s)) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Some(Bson::Int32(n)) => Some(n.to_string()),
        Some(Bson::Int64(n)) => Some(n.to_string()),
        _ => None,
    }
}

pub fn user(doc: &Document) -> Result<LegacyUser, Reject> {
    let id = id_of(doc).ok_or_else(|| Reject("no usable _id".into()))?;
    let email = match doc.get("email") {
        Some(Bson::String(s)) => s.trim().to_lowercase(),
        None | Some(Bson::Null) => return Err(Reject("no email".into())),
        Some(other) => return Err(Reject(format!("email is a {:?}", other.element_type()))),
    };
    if !is_email(&email) {
        return Err(Reject(format!("email {email:?} is not an e-mail address")));
    }
    let created = date(doc.get("createdAt"))
        .or_else(|| object_id_time(doc))
        .ok_or_else(|| Reject("no createdAt, and the _id is not an ObjectId to date it".into()))?;
    let updated = date(doc.get("updatedAt")).unwrap_or(created).max(created);
    let display_name = match text(doc.get("displayName")) {
        Some(name) if !name.trim().is_empty() => {
            name.trim().chars().take(MAX_DISPLAY_NAME).collect()
        }
        _ => email.split('@').next().unwrap_or_default().to_owned(),
    };
    Ok(LegacyUser {
        id,
        display_name,
        language: language(doc.get("language")),
        created_at: mumble_core::time::format(created),
        updated_at: mumble_core::time::format(updated),
        email,
    })
}

pub fn image(doc: &Document) -> Result<LegacyImage, Reject> {
    let id = id_of(doc).ok_or_else(|| Reject("no usable _id".into()))?;
    let user_id = match doc.get("userId") {
        Some(Bson::ObjectId(oid)) => oid.to_hex(),
        Some(Bson::String(s)) if !s.trim().is_empty() => s.trim().to_owned(),
        _ => return Err(Reject("no userId".into())),
    };
    let created = date(doc.get("createdAt"))
        .or_else(|| object_id_time(doc))
        .ok_or_else(|| Reject("no createdAt, and the _id is not an ObjectId to date it".into()))?;
    let changed = date(doc.get("updatedAt")).unwrap_or(created).max(created);
    let (image_path, missing) = match text(doc.get("imagePath")) {
        Some(path) if !path.trim().is_empty() => match relative_path(&path) {
            Some(path) => (Some(path), None),
            None => (
                None,
                Some(format!("imagePath {path:?} leaves the uploads folder")),
            ),
        },
        _ => match text(doc.get("imageUrl")) {
            Some(_) => (None, Some("only an imageUrl, which has expired".into())),
            None => (None, Some("neither imagePath nor imageUrl".into())),
        },
    };
    Ok(LegacyImage {
        id,
        user_id,
        transcript: text(doc.get("transcription")).unwrap_or_default(),
        prompt: text(doc.get("prompt")).unwrap_or_default(),
        image_path,
        missing,
        weather: weather(doc.get("weather")),
        created_at: mumble_core::time::format(created),
        deleted: flag(doc.get("deleted")),
        changed_at: mumble_core::time::format(changed),
    })
}

fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
        && !domain.contains('@')
        && s.len() <= 254
}

/// `zh` and `en` as the new site's tags; anything else the default.
fn language(value: Option<&Bson>) -> String {
    match text(value).map(|s| s.trim().to_lowercase()).as_deref() {
        Some(tag) if tag.starts_with("en") => "en".to_owned(),
        _ => DEFAULT_LANGUAGE.to_owned(),
    }
}

/// Text from a string, or a number written where text belongs.
fn text(value: Option<&Bson>) -> Option<String> {
    match value? {
        Bson::String(s) => Some(s.clone()),
        Bson::Int32(n) => Some(n.to_string()),
        Bson::Int64(n) => Some(n.to_string()),
        Bson::Double(n) => Some(n.to_string()),
        _ => None,
    }
}

fn number(value: Option<&Bson>) -> Option<f64> {
    let n = match value? {
        Bson::Double(n) => *n,
        Bson::Int32(n) => f64::from(*n),
        Bson::Int64(n) => *n as f64,
        Bson::String(s) => s.trim().trim_end_matches(['°', 'C']).trim().parse().ok()?,
        _ => return None,
    };
    n.is_finite().then_some(n)
}

fn flag(value: Option<&Bson>) -> bool {
    match value {
        Some(Bson::Boolean(b)) => *b,
        Some(Bson::Int32(n)) => *n != 0,
        Some(Bson::Int64(n)) => *n != 0,
        Some(Bson::String(s)) => matches!(s.trim().to_lowercase().as_str(), "true" | "1" | "yes"),
        _ => false,
    }
}

/// A date as BSON stores it, or as text (RFC 3339, `YYYY-MM-DD HH:MM:SS`, `YYYY-MM-DD`, all UTC),
/// or as a number of milliseconds (seconds when it is too small to be milliseconds).
pub fn date(value: Option<&Bson>) -> Option<DateTime<Utc>> {
    let at = match value? {
        Bson::DateTime(at) => Utc.timestamp_millis_opt(at.timestamp_millis()).single()?,
        Bson::Timestamp(ts) => Utc.timestamp_opt(i64::from(ts.time), 0).single()?,
        Bson::String(s) => parse_date_text(s.trim())?,
        Bson::Int32(n) => epoch(i64::from(*n))?,
        Bson::Int64(n) => epoch(*n)?,
        Bson::Double(n) if n.is_finite() => epoch(*n as i64)?,
        _ => return None,
    };
    // Before MongoDB existed or far in the future: a unit mistake, not a date.
    let plausible = Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).single()?
        ..Utc.with_ymd_and_hms(2100, 1, 1, 0, 0, 0).single()?;
    plausible.contains(&at).then_some(at)
}

fn epoch(n: i64) -> Option<DateTime<Utc>> {
    if n.abs() >= 100_000_000_000 {
        Utc.timestamp_millis_opt(n).single()
    } else {
        Utc.timestamp_opt(n, 0).single()
    }
}

fn parse_date_text(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(at) = DateTime::parse_from_rfc3339(s) {
        return Some(at.with_timezone(&Utc));
    }
    for pattern in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M:%S%.f",
    ] {
        if let Ok(at) = NaiveDateTime::parse_from_str(s, pattern) {
            return Some(at.and_utc());
        }
    }
    if let Ok(day) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Some(day.and_hms_opt(0, 0, 0)?.and_utc());
    }
    s.parse::<i64>().ok().and_then(epoch)
}

/// The creation time every ObjectId carries: the date of a document that lost its `createdAt`.
fn object_id_time(doc: &Document) -> Option<DateTime<Utc>> {
    match doc.get("_id") {
        Some(Bson::ObjectId(oid)) => Utc
            .timestamp_millis_opt(oid.timestamp().timestamp_millis())
            .single(),
        _ => None,
    }
}

/// The weather when it has at least a description; a temperature written as text is read.
fn weather(value: Option<&Bson>) -> Option<Weather> {
    let Some(Bson::Document(w)) = value else {
        return None;
    };
    let description = text(w.get("description")).filter(|d| !d.trim().is_empty())?;
    Some(Weather {
        description: description.trim().to_owned(),
        temperature: number(w.get("temperature"))?,
        location: text(w.get("location"))
            .unwrap_or_default()
            .trim()
            .to_owned(),
    })
}

/// `path` relative to the uploads folder, or `None` when it would leave it. The old site wrote
/// some paths with a leading `/` or `uploads/`.
fn relative_path(path: &str) -> Option<String> {
    let trimmed = path.trim().replace('\\', "/");
    let trimmed = trimmed.trim_start_matches('/');
    let trimmed = trimmed.strip_prefix("uploads/").unwrap_or(trimmed);
    let parts: Vec<&str> = trimmed
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    if parts.is_empty() || parts.contains(&"..") || trimmed.contains(':') {
        return None;
    }
    Some(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use bson::doc;
    use bson::oid::ObjectId;

    fn oid() -> ObjectId {
        ObjectId::parse_str("5f1d7a3e9b1e8a2f3c4d5e6f").unwrap()
    }

    #[test]
    fn a_clean_user_maps_field_by_field() {
        let created = bson::DateTime::from_millis(1_595_000_000_000);
        let user = user(&doc! {
            "_id": oid(), "email": " Ada@Example.org ", "passwordHash": "$2b$10$x",
            "displayName": "Ada", "language": "en", "createdAt": created,
        })
        .unwrap();
        assert_eq!(user.id, "5f1d7a3e9b1e8a2f3c4d5e6f");
        assert_eq!(user.email, "ada@example.org");
        assert_eq!(user.display_name, "Ada");
        assert_eq!(user.language, "en");
        assert_eq!(user.created_at, "2020-07-17T15:33:20.000Z");
        assert_eq!(user.updated_at, user.created_at);
    }

    #[test]
    fn messy_users_get_defaults_or_a_reason() {
        let user_without_extras = user(&doc! { "_id": oid(), "email": "li@example.cn" }).unwrap();
        assert_eq!(user_without_extras.display_name, "li");
        assert_eq!(user_without_extras.language, "zh-CN");
        // The ObjectId dates a user without createdAt.
        assert_eq!(user_without_extras.created_at, "2020-07-26T12:42:38.000Z");

        assert_eq!(
            user(&doc! { "_id": oid() }).unwrap_err(),
            Reject("no email".into())
        );
        assert!(
            user(&doc! { "_id": oid(), "email": "not-an-address" })
                .unwrap_err()
                .0
                .contains("not an e-mail address")
        );
        assert!(
            user(&doc! { "email": "a@b.org", "createdAt": "2020-01-01" })
                .unwrap_err()
                .0
                .contains("_id")
        );
    }

    #[test]
    fn dates_come_as_dates_text_or_numbers() {
        let expected = Utc.with_ymd_and_hms(2021, 3, 4, 5, 6, 7).unwrap();
        for value in [
            Bson::DateTime(bson::DateTime::from_millis(expected.timestamp_millis())),
            Bson::String("2021-03-04T05:06:07Z".into()),
            Bson::String("2021-03-04 05:06:07".into()),
            Bson::Int64(expected.timestamp_millis()),
            Bson::Int32(i32::try_from(expected.timestamp()).unwrap()),
            Bson::Double(expected.timestamp_millis() as f64),
            Bson::String(expected.timestamp_millis().to_string()),
        ] {
            assert_eq!(date(Some(&value)), Some(expected), "{value:?}");
        }
        assert_eq!(date(Some(&Bson::String("yesterday".into()))), None);
        assert_eq!(date(Some(&Bson::Int32(5))), None);
    }

    #[test]
    fn messy_images_keep_what_can_be_kept() {
        let image = image(&doc! {
            "_id": oid(), "userId": "5f1d7a3e9b1e8a2f3c4d5e70", "transcription": 42,
            "imagePath": "/uploads/images/a.png",
            "weather": { "description": "晴", "temperature": "21.5", "location": "Beijing" },
            "createdAt": "2021-03-04", "deleted": "true",
        })
        .unwrap();
        assert_eq!(image.transcript, "42");
        assert_eq!(image.image_path.as_deref(), Some("images/a.png"));
        assert_eq!(image.weather.unwrap().temperature, 21.5);
        assert!(image.deleted);

        let expired = super::image(&doc! {
            "_id": oid(), "userId": oid(), "imageUrl": "https://oaidalleapiprodscus.blob.core.windows.net/x.png",
        })
        .unwrap();
        assert!(expired.image_path.is_none());
        assert!(expired.missing.unwrap().contains("expired"));

        let escaping = super::image(&doc! {
            "_id": oid(), "userId": oid(), "imagePath": "../../etc/passwd",
        })
        .unwrap();
        assert!(
            escaping
                .missing
                .unwrap()
                .contains("leaves the uploads folder")
        );

        assert_eq!(
            super::image(&doc! { "_id": oid(), "imagePath": "images/a.png" }).unwrap_err(),
            Reject("no userId".into())
        );
    }

    #[test]
    fn the_fingerprint_changes_with_what_is_written() {
        let a = image(&doc! { "_id": oid(), "userId": oid(), "prompt": "a cat" }).unwrap();
        let mut b = a.clone();
        assert_eq!(a.fingerprint("u1", None), b.fingerprint("u1", None));
        b.prompt = "a dog".into();
        assert_ne!(a.fingerprint("u1", None), b.fingerprint("u1", None));
        assert_ne!(a.fingerprint("u1", None), a.fingerprint("u2", None));
        assert_ne!(a.fingerprint("u1", Some(1)), a.fingerprint("u1", Some(2)));
    }
}
