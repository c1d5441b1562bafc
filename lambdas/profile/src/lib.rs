//! `GET /api/v1/me` and `PUT /api/v1/me`: the caller's profile (display name, preferred
//! language, default location consent).
//!
//! There is no sign-up hook: the profile is created from the token's claims the first time the
//! user asks for it (or changes it), so every signed-in user has one without extra wiring.

use std::sync::Arc;

use aws_config::SdkConfig;
use lambda_http::http::Method;
use lambda_http::{Body, Request, Response};
use mumble_contract::api::{Profile, ProfileUpdate};
use mumble_core::config::vars;
use mumble_core::store::{DynamoUsers, StoreError, UserProfile, UserStore};
use mumble_core::{ApiError, Caller, ConfigError, Env, aws, request, respond, response};

pub use mumble_contract::api::DISPLAY_NAME_MAX_CHARS as MAX_DISPLAY_NAME_CHARS;
/// The language a new profile starts with (Mumble's first users speak Mandarin).
pub const DEFAULT_LANGUAGE: &str = "zh-CN";
/// The display name when the token carries neither a name nor an email.
pub const FALLBACK_DISPLAY_NAME: &str = "Mumbler";

pub struct Deps {
    pub users: Arc<dyn UserStore>,
}

impl Deps {
    pub async fn from_env(sdk: &SdkConfig) -> Result<Self, ConfigError> {
        Ok(Self {
            users: Arc::new(DynamoUsers::new(
                aws::dynamodb_client(sdk),
                Env::require(vars::USERS_TABLE)?,
            )),
        })
    }
}

pub async fn handle(deps: &Deps, req: Request) -> Response<Body> {
    respond(route(deps, &req).await)
}

async fn route(deps: &Deps, req: &Request) -> Result<Response<Body>, ApiError> {
    let caller = Caller::from_request(req)?;
    match *req.method() {
        Method::GET => Ok(response::ok(&view(profile_of(deps, &caller).await?))),
        Method::PUT => update(deps, &caller, req).await,
        _ => Err(ApiError::no_route(req)),
    }
}

/// The caller's profile, created from the token claims on first use.
async fn profile_of(deps: &Deps, caller: &Caller) -> Result<UserProfile, ApiError> {
    if let Some(profile) = deps.users.get(&caller.user_id).await? {
        return Ok(profile);
    }
    let profile = new_profile(caller);
    match deps.users.create(&profile).await {
        Ok(()) => {
            tracing::info!(user_id = %caller.user_id, "profile created");
            Ok(profile)
        }
        // A concurrent first request created it; theirs is the profile.
        Err(StoreError::AlreadyExists(_)) => {
            deps.users.get(&caller.user_id).await?.ok_or_else(|| {
                ApiError::unavailable("the profile vanished right after it was created")
            })
        }
        Err(e) => Err(e.into()),
    }
}

fn new_profile(caller: &Caller) -> UserProfile {
    let from_email = caller
        .email
        .as_deref()
        .and_then(|e| e.split('@').next())
        .filter(|s| !s.is_empty());
    let display_name = caller
        .name
        .as_deref()
        .or(from_email)
        .and_then(|n| clean_display_name(n).ok())
        .unwrap_or_else(|| FALLBACK_DISPLAY_NAME.to_owned());
    let now = mumble_core::time::now();
    UserProfile {
        user_id: caller.user_id.clone(),
        email: caller.email.clone(),
        display_name,
        preferred_language: DEFAULT_LANGUAGE.to_owned(),
        location_consent: false,
        created_at: now.clone(),
        updated_at: now,
    }
}

async fn update(deps: &Deps, caller: &Caller, req: &Request) -> Result<Response<Body>, ApiError> {
    // Lengths and "at least one field" are checked with the body (`api::ProfileUpdate`).
    let changes: ProfileUpdate = request::json_body(req)?;
    let display_name = changes
        .display_name
        .as_deref()
        .map(clean_display_name)
        .transpose()
        .map_err(|message| ApiError::invalid("displayName", message))?;
    let preferred_language = changes
        .preferred_language
        .as_deref()
        .map(clean_language_tag)
        .transpose()
        .map_err(|message| ApiError::invalid("preferredLanguage", message))?;

    let mut profile = profile_of(deps, caller).await?;
    if let Some(name) = display_name {
        profile.display_name = name;
    }
    if let Some(language) = preferred_language {
        profile.preferred_language = language;
    }
    if let Some(consent) = changes.location_consent {
        profile.location_consent = consent;
    }
    profile.updated_at = mumble_core::time::now();
    deps.users.save(&profile).await?;
    Ok(response::ok(&view(profile)))
}

/// The stored profile as the API shows it.
fn view(profile: UserProfile) -> Profile {
    Profile {
        user_id: profile.user_id,
        email: profile.email,
        display_name: profile.display_name,
        preferred_language: profile.preferred_language,
        location_consent: profile.location_consent,
        created_at: profile.created_at,
        updated_at: profile.updated_at,
    }
}

/// Trimmed, 1 to [`MAX_DISPLAY_NAME_CHARS`] characters, no control characters.
fn clean_display_name(raw: &str) -> Result<String, String> {
    let name = raw.trim();
    let chars = name.chars().count();
    if chars == 0 {
        return Err("must not be empty".to_owned());
    }
    if chars > MAX_DISPLAY_NAME_CHARS {
        return Err(format!(
            "must be at most {MAX_DISPLAY_NAME_CHARS} characters (it is {chars})"
        ));
    }
    if name.chars().any(char::is_control) {
        return Err("must not contain control characters".to_owned());
    }
    Ok(name.to_owned())
}

/// A BCP 47 tag of a language and optional script/region (`zh`, `zh-CN`, `zh-Hant-TW`),
/// normalised to the usual casing.
fn clean_language_tag(raw: &str) -> Result<String, String> {
    let invalid = || format!("{raw:?} is not a language tag such as zh-CN or en");
    let tag = raw.trim().replace('_', "-");
    let mut parts = tag.split('-');
    let language = parts
        .next()
        .filter(|p| (2..=3).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphabetic()));
    let language = language.ok_or_else(invalid)?.to_ascii_lowercase();
    let mut normalised = vec![language];
    for (i, part) in parts.enumerate() {
        let valid = i < 2
            && (2..=4).contains(&part.len())
            && part.chars().all(|c| c.is_ascii_alphanumeric());
        if !valid {
            return Err(invalid());
        }
        normalised.push(match part.len() {
            4 => part[..1].to_ascii_uppercase() + &part[1..].to_ascii_lowercase(),
            _ => part.to_ascii_uppercase(),
        });
    }
    Ok(normalised.join("-"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_tags_are_checked_and_normalised() {
        assert_eq!(clean_language_tag("zh-cn").unwrap(), "zh-CN");
        assert_eq!(clean_language_tag("EN").unwrap(), "en");
        assert_eq!(clean_language_tag("zh_hant_tw").unwrap(), "zh-Hant-TW");
        for bad in [
            "",
            "c",
            "english",
            "zh-",
            "zh-CN-x-private",
            "12",
            "zh CN",
            "zh-CN-TW-HK",
        ] {
            assert!(clean_language_tag(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn display_names_are_trimmed_and_bounded_in_characters() {
        assert_eq!(clean_display_name("  小明 ").unwrap(), "小明");
        assert!(
            clean_display_name(&"明".repeat(50)).is_ok(),
            "50 CJK characters fit"
        );
        assert!(clean_display_name(&"明".repeat(51)).is_err());
        assert!(clean_display_name("   ").is_err());
        assert!(clean_display_name("a\u{0007}b").is_err());
    }
}
