//! Integration tests of the image processor: EventBridge "Object Created" events against S3 and DynamoDB in the local
//! emulator, including objects that are not images.

use std::sync::Arc;

use image_processor::{Deps, DynamoImageDetails, ObjectCreatedEvent, Report, handle};
use mumble_core::store::{DynamoImages, ImageRecord, ImageStore, S3Media};
use serde_json::{Value, json};

const OBJECT_CREATED: &str = include_str!("../fixtures/object-created.json");
const ALICE: &str = "8f1c2a4e-0d6b-4f7e-9a51-3c2b1d0e9f11";

struct World {
    deps: Deps,
    images: DynamoImages,
    s3: aws_sdk_s3::Client,
    bucket: String,
}

async fn world() -> World {
    let sdk = mumble_testing::sdk_config();
    let dynamodb = mumble_core::aws::dynamodb_client(&sdk);
    let s3 = mumble_core::aws::s3_client(&sdk);
    let bucket = mumble_testing::bucket(&s3).await;
    let table = mumble_testing::images_table(&dynamodb).await;
    let deps = Deps {
        media: Arc::new(S3Media::new(s3.clone(), &bucket)),
        details: Arc::new(DynamoImageDetails::new(dynamodb.clone(), &table)),
    };
    World {
        deps,
        images: DynamoImages::new(dynamodb, table),
        s3,
        bucket,
    }
}

impl World {
    async fn put(&self, key: &str, bytes: Vec<u8>) {
        self.s3
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .body(bytes.into())
            .send()
            .await
            .unwrap();
    }

    async fn exists(&self, key: &str) -> bool {
        self.s3
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .is_ok()
    }

    async fn record(&self, image_id: &str) {
        self.images
            .put(&ImageRecord {
                image_id: image_id.to_owned(),
                created_at: mumble_core::time::now(),
                user_id: ALICE.to_owned(),
                image_key: format!("images/{ALICE}/{image_id}.png"),
                thumbnail_key: None,
                transcript: "晴".to_owned(),
                prompt: "a sunny day".to_owned(),
                weather: None,
                location: None,
                job_id: None,
                width: None,
                height: None,
                bytes: None,
                dominant_color: None,
                offline: false,
                unavailable: false,
            })
            .await
            .unwrap();
    }

    fn event(&self, key: &str) -> ObjectCreatedEvent {
        let mut event: Value = serde_json::from_str(OBJECT_CREATED).unwrap();
        event["detail"]["bucket"]["name"] = json!(self.bucket);
        event["detail"]["object"]["key"] = json!(key);
        serde_json::from_value(event).unwrap()
    }

    /// One event per object, as EventBridge delivers them; the reports added up.
    async fn process(&self, keys: &[&str]) -> Report {
        let mut total = Report::default();
        for key in keys {
            let report = handle(&self.deps, self.event(key))
                .await
                .expect("only our own storage can fail an invocation");
            total.thumbnails += report.thumbnails;
            total.broken += report.broken;
            total.ignored += report.ignored;
        }
        total
    }
}

fn png(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::from_pixel(width, height, image::Rgb([30, 144, 255]));
    let mut out = Vec::new();
    image
        .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

#[tokio::test]
async fn a_stored_image_gets_a_thumbnail_and_its_details() {
    let w = world().await;
    let key = format!("images/{ALICE}/img-1.png");
    let original = png(1024, 768);
    w.put(&key, original.clone()).await;
    w.record("img-1").await;

    let report = handle(&w.deps, w.event(&key)).await.unwrap();

    assert_eq!(
        report,
        Report {
            thumbnails: 1,
            broken: 0,
            ignored: 0
        }
    );
    let thumbnail_key = format!("thumbnails/{ALICE}/img-1.jpg");
    assert!(w.exists(&thumbnail_key).await);
    let record = w.images.get("img-1").await.unwrap().unwrap();
    assert_eq!(
        record.thumbnail_key.as_deref(),
        Some(thumbnail_key.as_str())
    );
    assert_eq!((record.width, record.height), (Some(1024), Some(768)));
    assert_eq!(record.bytes, Some(original.len() as u64));
    assert_eq!(record.dominant_color.as_deref(), Some("#1e90ff"));
    assert_eq!(record.transcript, "晴", "the rest of the record is kept");
}

#[tokio::test]
async fn a_corrupt_image_is_logged_and_skipped_without_failing() {
    let w = world().await;
    let broken = format!("images/{ALICE}/broken.png");
    let mut truncated = png(64, 64);
    truncated.truncate(40);
    w.put(&broken, truncated).await;
    let text = format!("images/{ALICE}/text.png");
    w.put(&text, b"definitely not a picture".to_vec()).await;
    let good = format!("images/{ALICE}/good.png");
    w.put(&good, png(10, 10)).await;
    w.record("good").await;

    let report = w.process(&[&broken, &text, &good]).await;

    assert_eq!(
        report,
        Report {
            thumbnails: 1,
            broken: 2,
            ignored: 0
        }
    );
    assert!(!w.exists(&format!("thumbnails/{ALICE}/broken.jpg")).await);
    assert!(w.exists(&format!("thumbnails/{ALICE}/good.jpg")).await);
}

#[tokio::test]
async fn keys_outside_images_and_vanished_objects_are_ignored() {
    let w = world().await;
    let report = w
        .process(&[
            &format!("audio/{ALICE}/a.webm"),
            &format!("images/{ALICE}/deleted.png"),
            "images/no-user.png",
        ])
        .await;
    assert_eq!(
        report,
        Report {
            thumbnails: 0,
            broken: 0,
            ignored: 3
        }
    );
}

#[tokio::test]
async fn an_image_without_a_record_still_gets_its_thumbnail() {
    let w = world().await;
    let key = format!("images/{ALICE}/orphan.png");
    w.put(&key, png(20, 20)).await;

    let report = handle(&w.deps, w.event(&key)).await.unwrap();

    assert_eq!(report.thumbnails, 1);
    assert!(w.exists(&format!("thumbnails/{ALICE}/orphan.jpg")).await);
    assert!(
        w.images.get("orphan").await.unwrap().is_none(),
        "no record is invented"
    );
}

#[test]
fn the_fixture_parses_as_a_real_eventbridge_object_created_event() {
    let event: ObjectCreatedEvent = serde_json::from_str(OBJECT_CREATED).unwrap();
    assert_eq!(event.source, "aws.s3");
    assert_eq!(event.detail_type, "Object Created");
    assert_eq!(event.detail.bucket.name, "mumble-dev-media");
    assert_eq!(
        event.detail.object.key,
        "images/8f1c2a4e-0d6b-4f7e-9a51-3c2b1d0e9f11/2f0c7d1e-5a4b-4c3d-9e8f-7a6b5c4d3e2f.png"
    );
    assert_eq!(event.detail.object.size, Some(1024));
}

/// EventBridge carries the key as stored, so a `+` or `%` in it must reach S3 unchanged.
#[tokio::test]
async fn event_keys_are_used_verbatim_without_url_decoding() {
    let w = world().await;
    let key = format!("images/{ALICE}/a+b%20c.png");
    w.put(&key, png(12, 12)).await;

    let report = handle(&w.deps, w.event(&key)).await.unwrap();

    assert_eq!(
        report.thumbnails, 1,
        "the object is found under its own key"
    );
    assert!(w.exists(&format!("thumbnails/{ALICE}/a+b%20c.jpg")).await);
}
