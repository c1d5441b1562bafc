//! Integration tests of the gallery function: fixture events against DynamoDB and S3 in the
//! local emulator, including per-user isolation and pagination.

use std::sync::Arc;

use gallery::{Deps, handle};
use lambda_http::Request;
use mumble_core::store::media::keys;
use mumble_core::store::{DynamoImages, ImageRecord, ImageStore, MediaStore, S3Media};
use mumble_core::weather::Weather;
use mumble_testing::{self, anonymous, as_user, assert_error, json_response, request_with};
use serde_json::{Value, json};

const LIST_IMAGES: &str = include_str!("../fixtures/list-images.json");
const GET_IMAGE: &str = include_str!("../fixtures/get-image.json");
const DELETE_IMAGE: &str = include_str!("../fixtures/delete-image.json");
const ALICE: &str = "8f1c2a4e-0d6b-4f7e-9a51-3c2b1d0e9f11";
const BOB: &str = "2b7d9e10-5c3a-4f68-8e21-9a0b1c2d3e4f";

struct World {
    deps: Deps,
    images: Arc<DynamoImages>,
    media: Arc<S3Media>,
}

async fn world() -> World {
    let sdk = mumble_testing::sdk_config();
    let dynamodb = mumble_core::aws::dynamodb_client(&sdk);
    let s3 = mumble_core::aws::s3_client(&sdk);
    let images = Arc::new(DynamoImages::new(
        dynamodb.clone(),
        mumble_testing::images_table(&dynamodb).await,
    ));
    let media = Arc::new(S3Media::new(s3.clone(), mumble_testing::bucket(&s3).await));
    World {
        deps: Deps {
            images: images.clone(),
            media: media.clone(),
        },
        images,
        media,
    }
}

impl World {
    /// Stores an image with its objects; `minute` orders the images in time.
    async fn image(&self, user: &str, minute: u32, with_thumbnail: bool) -> ImageRecord {
        let image_id = uuid::Uuid::new_v4().to_string();
        let record = ImageRecord {
            image_key: keys::image(user, &image_id),
            thumbnail_key: with_thumbnail.then(|| keys::thumbnail(user, &image_id)),
            created_at: format!("2026-11-26T10:{minute:02}:00.000Z"),
            user_id: user.to_owned(),
            transcript: format!("transcript {minute}"),
            prompt: format!("a watercolour of minute {minute}"),
            weather: Some(Weather {
                description: "晴".into(),
                temperature: 3.5,
                location: "Beijing".into(),
            }),
            location: None,
            job_id: None,
            width: Some(1024),
            height: Some(1024),
            bytes: None,
            dominant_color: Some("#336699".into()),
            offline: false,
            unavailable: false,
            image_id,
        };
        self.images.put(&record).await.unwrap();
        self.media
            .put(
                &record.image_key,
                format!("png of {minute}").into_bytes(),
                "image/png",
            )
            .await
            .unwrap();
        if let Some(thumbnail) = &record.thumbnail_key {
            self.media
                .put(thumbnail, b"jpeg".to_vec(), "image/jpeg")
                .await
                .unwrap();
        }
        record
    }
}

fn list(user: &str, query: Value) -> Request {
    let user = user.to_owned();
    request_with(LIST_IMAGES, move |e| {
        as_user(e, &user);
        let raw: Vec<String> = query
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap()))
            .collect();
        e["rawQueryString"] = raw.join("&").into();
        e["queryStringParameters"] = query;
    })
}

fn by_id(fixture: &str, user: &str, id: &str) -> Request {
    let (user, id) = (user.to_owned(), id.to_owned());
    request_with(fixture, move |e| {
        as_user(e, &user);
        e["pathParameters"]["id"] = id.clone().into();
        e["rawPath"] = format!("/api/v1/images/{id}").into();
        e["requestContext"]["http"]["path"] = e["rawPath"].clone();
    })
}

fn ids(body: &Value) -> Vec<String> {
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["imageId"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_list_is_the_callers_images_newest_first_with_working_urls() {
    let world = world().await;
    let first = world.image(ALICE, 1, true).await;
    let third = world.image(ALICE, 3, false).await;
    let second = world.image(ALICE, 2, true).await;
    world.image(BOB, 4, true).await;

    let (status, body) = json_response(&handle(&world.deps, list(ALICE, json!({}))).await);
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        ids(&body),
        [
            third.image_id.clone(),
            second.image_id.clone(),
            first.image_id.clone()
        ]
    );
    assert!(body.get("nextCursor").is_none(), "one page only: {body}");

    let newest = &body["items"][0];
    assert_eq!(newest["transcript"], "transcript 3");
    assert_eq!(newest["prompt"], "a watercolour of minute 3");
    assert_eq!(newest["weather"]["description"], "晴");
    assert_eq!(newest["createdAt"], "2026-11-26T10:03:00.000Z");
    assert!(
        newest.get("thumbnailUrl").is_none(),
        "no thumbnail yet: {newest}"
    );
    let downloaded = reqwest::get(newest["imageUrl"].as_str().unwrap())
        .await
        .unwrap();
    assert!(downloaded.status().is_success());
    assert_eq!(downloaded.text().await.unwrap(), "png of 3");
    let thumbnail = reqwest::get(body["items"][1]["thumbnailUrl"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(thumbnail.text().await.unwrap(), "jpeg");
}

#[tokio::test]
async fn pages_follow_the_cursor_to_the_end() {
    let world = world().await;
    let mut expected = Vec::new();
    for minute in 1..=5 {
        expected.push(world.image(ALICE, minute, false).await.image_id);
    }
    expected.reverse();

    let mut seen = Vec::new();
    let mut query = json!({"limit": "2"});
    for _ in 0..5 {
        let (status, body) = json_response(&handle(&world.deps, list(ALICE, query.clone())).await);
        assert_eq!(status, 200, "{body}");
        seen.extend(ids(&body));
        match body["nextCursor"].as_str() {
            Some(cursor) => query = json!({"limit": "2", "cursor": cursor}),
            None => break,
        }
    }
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn a_tampered_or_foreign_cursor_is_400() {
    let world = world().await;
    for minute in 1..=3 {
        world.image(ALICE, minute, false).await;
        world.image(BOB, minute, false).await;
    }
    let (_, alice_page) =
        json_response(&handle(&world.deps, list(ALICE, json!({"limit": "1"}))).await);
    let alice_cursor = alice_page["nextCursor"].as_str().unwrap().to_owned();

    let mut tampered = alice_cursor.clone();
    tampered.replace_range(5..6, if &tampered[5..6] == "A" { "B" } else { "A" });
    for cursor in [tampered.as_str(), "garbage!", "e30", "bm90LWpzb24"] {
        let response = handle(&world.deps, list(ALICE, json!({"cursor": cursor}))).await;
        let (status, body) = json_response(&response);
        assert_eq!(status, 400, "{cursor}: {body}");
        assert_eq!(body["error"]["field"], "cursor");
    }
    // Alice's cursor does not page through Bob's images.
    let response = handle(&world.deps, list(BOB, json!({"cursor": alice_cursor}))).await;
    assert_error(&response, 400, "invalid_input");
}

#[tokio::test]
async fn bad_limits_are_400() {
    let world = world().await;
    for limit in ["0", "101", "-1", "abc", "2.5", "99999999999"] {
        let (status, body) =
            json_response(&handle(&world.deps, list(ALICE, json!({"limit": limit}))).await);
        assert_eq!(status, 400, "{limit}: {body}");
        assert_eq!(body["error"]["field"], "limit", "{limit}: {body}");
    }
}

#[tokio::test]
async fn the_owner_gets_an_image_by_id() {
    let world = world().await;
    let image = world.image(ALICE, 7, true).await;
    let (status, body) =
        json_response(&handle(&world.deps, by_id(GET_IMAGE, ALICE, &image.image_id)).await);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["imageId"], image.image_id.as_str());
    assert_eq!(body["width"], 1024);
    assert!(
        body["thumbnailUrl"]
            .as_str()
            .unwrap()
            .contains("thumbnails/")
    );
}

#[tokio::test]
async fn another_user_cannot_read_list_or_delete_an_image() {
    let world = world().await;
    let alices = world.image(ALICE, 1, true).await;

    let read = handle(&world.deps, by_id(GET_IMAGE, BOB, &alices.image_id)).await;
    let missing = handle(
        &world.deps,
        by_id(GET_IMAGE, BOB, "0f9e4c1a-0000-0000-0000-000000000000"),
    )
    .await;
    assert_error(&read, 404, "not_found");
    assert_eq!(
        json_response(&read).1["error"]["code"],
        json_response(&missing).1["error"]["code"]
    );

    let (_, bobs_list) = json_response(&handle(&world.deps, list(BOB, json!({}))).await);
    assert!(ids(&bobs_list).is_empty(), "{bobs_list}");

    assert_error(
        &handle(&world.deps, by_id(DELETE_IMAGE, BOB, &alices.image_id)).await,
        404,
        "not_found",
    );
    assert!(
        world.images.get(&alices.image_id).await.unwrap().is_some(),
        "the record survived"
    );
    assert!(
        world.media.head(&alices.image_key).await.unwrap().is_some(),
        "the image survived"
    );
}

#[tokio::test]
async fn delete_removes_the_record_the_image_and_the_thumbnail() {
    let world = world().await;
    let image = world.image(ALICE, 1, true).await;
    let kept = world.image(ALICE, 2, true).await;

    let response = handle(&world.deps, by_id(DELETE_IMAGE, ALICE, &image.image_id)).await;
    assert_eq!(response.status(), 204);

    assert!(world.images.get(&image.image_id).await.unwrap().is_none());
    assert!(world.media.head(&image.image_key).await.unwrap().is_none());
    assert!(
        world
            .media
            .head(image.thumbnail_key.as_ref().unwrap())
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        world.media.head(&kept.image_key).await.unwrap().is_some(),
        "other images are untouched"
    );
    assert_error(
        &handle(&world.deps, by_id(GET_IMAGE, ALICE, &image.image_id)).await,
        404,
        "not_found",
    );
    assert_error(
        &handle(&world.deps, by_id(DELETE_IMAGE, ALICE, &image.image_id)).await,
        404,
        "not_found",
    );
}

#[tokio::test]
async fn malformed_ids_are_400_and_unknown_routes_404() {
    let world = world().await;
    assert_error(
        &handle(&world.deps, by_id(GET_IMAGE, ALICE, "../../etc")).await,
        400,
        "invalid_input",
    );
    assert_error(
        &handle(&world.deps, by_id(GET_IMAGE, ALICE, &"x".repeat(65))).await,
        400,
        "invalid_input",
    );
    let delete_all = request_with(LIST_IMAGES, |e| {
        e["requestContext"]["http"]["method"] = "DELETE".into()
    });
    assert_error(&handle(&world.deps, delete_all).await, 404, "not_found");
}

#[tokio::test]
async fn without_sign_in_it_is_401() {
    let world = world().await;
    for fixture in [LIST_IMAGES, GET_IMAGE, DELETE_IMAGE] {
        assert_error(
            &handle(&world.deps, request_with(fixture, anonymous)).await,
            401,
            "unauthorized",
        );
    }
}
