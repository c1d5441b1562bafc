//! `GET /api/v1/images`, `GET /api/v1/images/{id}`, `DELETE /api/v1/images/{id}`: the caller's
//! generated images, newest first.
//!
//! Image and thumbnail URLs are presigned S3 GET URLs valid for an hour
//! ([`MEDIA_URL_LIFETIME`]). The media bucket stays private and is not behind the site's
//! CloudFront distribution, so a URL works only for whoever this API gave it to, and only for a
//! while; presigning is local computation, so a page of twenty images costs no extra AWS calls.
//! Clients refetch the list when a URL has expired.
//!
//! Only the owner sees an image: another user's id answers 404, exactly like a missing one, so
//! ids reveal nothing. Deleting removes the image and thumbnail objects first and the record
//! last, so a failed delete can simply be retried.

use std::sync::Arc;
use std::time::Duration;

use aws_config::SdkConfig;
use lambda_http::http::Method;
use lambda_http::{Body, Request, RequestExt, Response};
use mumble_contract::api::{self, Image, ImageListQuery, ImagePage};
use mumble_core::config::vars;
use mumble_core::store::media::keys;
use mumble_core::store::{DynamoImages, ImageRecord, ImageStore, MediaStore, S3Media};
use mumble_core::{ApiError, Caller, ConfigError, Env, aws, request, respond, response};

/// How long the image URLs in a response work.
pub const MEDIA_URL_LIFETIME: Duration = Duration::from_secs(60 * 60);
pub use api::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};

pub struct Deps {
    pub images: Arc<dyn ImageStore>,
    pub media: Arc<dyn MediaStore>,
}

impl Deps {
    pub async fn from_env(sdk: &SdkConfig) -> Result<Self, ConfigError> {
        Ok(Self {
            images: Arc::new(DynamoImages::new(
                aws::dynamodb_client(sdk),
                Env::require(vars::IMAGES_TABLE)?,
            )),
            media: Arc::new(S3Media::new(
                aws::s3_client(sdk),
                Env::require(vars::MEDIA_BUCKET)?,
            )),
        })
    }
}

pub async fn handle(deps: &Deps, req: Request) -> Response<Body> {
    respond(route(deps, &req).await)
}

async fn route(deps: &Deps, req: &Request) -> Result<Response<Body>, ApiError> {
    let caller = Caller::from_request(req)?;
    match (req.method(), image_id(req)?) {
        (&Method::GET, None) => list(deps, &caller, req).await,
        (&Method::GET, Some(id)) => get(deps, &caller, &id).await,
        (&Method::DELETE, Some(id)) => delete(deps, &caller, &id).await,
        _ => Err(ApiError::no_route(req)),
    }
}

/// The `{id}` of `/api/v1/images/{id}`: from API Gateway's path parameters, or the path itself
/// when a caller (a test, the local gateway) did not fill them in.
fn image_id(req: &Request) -> Result<Option<String>, ApiError> {
    let from_params = req.path_parameters().first("id").map(str::to_owned);
    let from_path = || {
        let path = req.uri().path().trim_end_matches('/');
        path.rsplit_once("/images/").map(|(_, id)| id.to_owned())
    };
    match from_params.or_else(from_path) {
        None => Ok(None),
        Some(id) if is_image_id(&id) => Ok(Some(id)),
        Some(_) => Err(ApiError::invalid("id", "not an image id")),
    }
}

fn is_image_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

async fn list(deps: &Deps, caller: &Caller, req: &Request) -> Result<Response<Body>, ApiError> {
    // The page size's range is checked with the query (`api::ImageListQuery`).
    let query: ImageListQuery = request::query(req)?;
    let limit = query.limit.unwrap_or(DEFAULT_PAGE_SIZE);
    let cursor = query.cursor.filter(|c| !c.is_empty());
    let page = deps
        .images
        .list_by_user(&caller.user_id, limit, cursor.as_deref())
        .await?;
    let mut images = Vec::with_capacity(page.images.len());
    for record in page.images {
        images.push(view(deps, record).await?);
    }
    Ok(response::ok(&ImagePage {
        items: images,
        next_cursor: page.next_cursor,
    }))
}

async fn get(deps: &Deps, caller: &Caller, id: &str) -> Result<Response<Body>, ApiError> {
    let record = owned(deps, caller, id).await?;
    Ok(response::ok(&view(deps, record).await?))
}

async fn delete(deps: &Deps, caller: &Caller, id: &str) -> Result<Response<Body>, ApiError> {
    let record = owned(deps, caller, id).await?;
    let thumbnail = record
        .thumbnail_key
        .clone()
        .unwrap_or_else(|| keys::thumbnail(&record.user_id, &record.image_id));
    deps.media
        .delete(&[record.image_key.clone(), thumbnail])
        .await?;
    deps.images
        .delete(&record.image_id, &record.created_at)
        .await?;
    tracing::info!(image_id = %record.image_id, "image deleted");
    Ok(response::no_content())
}

async fn owned(deps: &Deps, caller: &Caller, id: &str) -> Result<ImageRecord, ApiError> {
    deps.images
        .get_owned(&caller.user_id, id)
        .await?
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "there is no image {}",
                mumble_core::error::echo(id)
            ))
        })
}

async fn view(deps: &Deps, record: ImageRecord) -> Result<Image, ApiError> {
    // An unavailable image has no objects: a URL to nothing would only show a broken picture.
    let image_url = match record.unavailable {
        true => None,
        false => Some(
            deps.media
                .presign_get(&record.image_key, MEDIA_URL_LIFETIME)
                .await?,
        ),
    };
    let thumbnail_url = match (&record.thumbnail_key, record.unavailable) {
        (Some(key), false) => Some(deps.media.presign_get(key, MEDIA_URL_LIFETIME).await?),
        _ => None,
    };
    Ok(Image {
        image_id: record.image_id,
        image_url,
        thumbnail_url,
        transcript: record.transcript,
        prompt: record.prompt,
        weather: record.weather,
        location: record.location,
        created_at: record.created_at,
        width: record.width,
        height: record.height,
        dominant_color: record.dominant_color,
        offline: record.offline,
        unavailable: record.unavailable,
    })
}
