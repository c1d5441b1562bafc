//! The DynamoDB and S3 adapters against the emulator.

use mumble_core::store::media::keys;
use mumble_core::store::{
    DynamoImages, DynamoUsers, ImageRecord, ImageStore, MediaStore, S3Media, StoreError,
    UserProfile, UserStore,
};

async fn clients() -> (aws_sdk_dynamodb::Client, aws_sdk_s3::Client) {
    let sdk = mumble_testing::sdk_config();
    (
        mumble_core::aws::dynamodb_client(&sdk),
        mumble_core::aws::s3_client(&sdk),
    )
}

fn profile(user: &str, name: &str) -> UserProfile {
    UserProfile {
        user_id: user.into(),
        email: None,
        display_name: name.into(),
        preferred_language: "zh-CN".into(),
        location_consent: false,
        created_at: "2026-11-26T10:00:00.000Z".into(),
        updated_at: "2026-11-26T10:00:00.000Z".into(),
    }
}

fn image(user: &str, id: &str, minute: u32) -> ImageRecord {
    ImageRecord {
        image_id: id.into(),
        created_at: format!("2026-11-26T10:{minute:02}:00.000Z"),
        user_id: user.into(),
        image_key: keys::image(user, id),
        thumbnail_key: None,
        transcript: "你好".into(),
        prompt: "a cat".into(),
        weather: None,
        location: None,
        job_id: Some("job-1".into()),
        width: None,
        height: None,
        bytes: Some(1234),
        dominant_color: None,
        offline: true,
        unavailable: false,
    }
}

#[tokio::test]
async fn a_profile_is_created_once_and_saved_after() {
    let (dynamodb, _) = clients().await;
    let users = DynamoUsers::new(
        dynamodb.clone(),
        mumble_testing::users_table(&dynamodb).await,
    );
    assert_eq!(users.get("u1").await.unwrap(), None);

    users.create(&profile("u1", "first")).await.unwrap();
    let again = users.create(&profile("u1", "second")).await;
    assert!(
        matches!(again, Err(StoreError::AlreadyExists(_))),
        "{again:?}"
    );
    assert_eq!(
        users.get("u1").await.unwrap().unwrap().display_name,
        "first"
    );

    users.save(&profile("u1", "renamed")).await.unwrap();
    assert_eq!(
        users.get("u1").await.unwrap().unwrap().display_name,
        "renamed"
    );
    assert!(
        users.save(&profile("u2", "ghost")).await.is_err(),
        "save does not create"
    );
}

#[tokio::test]
async fn images_round_trip_and_are_found_by_id_alone() {
    let (dynamodb, _) = clients().await;
    let images = DynamoImages::new(
        dynamodb.clone(),
        mumble_testing::images_table(&dynamodb).await,
    );
    let record = image("alice", "img-1", 5);
    images.put(&record).await.unwrap();
    assert_eq!(images.get("img-1").await.unwrap(), Some(record.clone()));
    assert_eq!(images.get("img-2").await.unwrap(), None);
    assert_eq!(
        images.get_owned("alice", "img-1").await.unwrap(),
        Some(record.clone())
    );
    assert_eq!(images.get_owned("bob", "img-1").await.unwrap(), None);

    images.delete("img-1", &record.created_at).await.unwrap();
    assert_eq!(images.get("img-1").await.unwrap(), None);
}

#[tokio::test]
async fn a_users_images_list_newest_first_across_pages() {
    let (dynamodb, _) = clients().await;
    let images = DynamoImages::new(
        dynamodb.clone(),
        mumble_testing::images_table(&dynamodb).await,
    );
    for minute in [3, 1, 4, 2] {
        images
            .put(&image("alice", &format!("a{minute}"), minute))
            .await
            .unwrap();
    }
    images.put(&image("bob", "b1", 9)).await.unwrap();

    let first = images.list_by_user("alice", 3, None).await.unwrap();
    let ids: Vec<&str> = first.images.iter().map(|i| i.image_id.as_str()).collect();
    assert_eq!(ids, ["a4", "a3", "a2"]);
    let cursor = first.next_cursor.expect("more to come");
    let second = images
        .list_by_user("alice", 3, Some(&cursor))
        .await
        .unwrap();
    let ids: Vec<&str> = second.images.iter().map(|i| i.image_id.as_str()).collect();
    assert_eq!(ids, ["a1"]);
    assert_eq!(second.next_cursor, None);

    assert!(matches!(
        images.list_by_user("bob", 3, Some(&cursor)).await,
        Err(StoreError::InvalidCursor)
    ));
    assert!(
        images
            .list_by_user("carol", 3, None)
            .await
            .unwrap()
            .images
            .is_empty()
    );
}

#[tokio::test]
async fn media_objects_are_written_read_inspected_and_deleted() {
    let (_, s3) = clients().await;
    let media = S3Media::new(s3.clone(), mumble_testing::bucket(&s3).await);
    let key = keys::image("alice", "img-1");
    assert_eq!(media.head(&key).await.unwrap(), None);
    assert_eq!(media.get(&key).await.unwrap(), None);

    media.put(&key, b"png".to_vec(), "image/png").await.unwrap();
    let info = media.head(&key).await.unwrap().unwrap();
    assert_eq!(info.size, 3);
    assert_eq!(info.content_type.as_deref(), Some("image/png"));
    assert_eq!(media.get(&key).await.unwrap().as_deref(), Some(&b"png"[..]));

    media
        .delete(&[key.clone(), keys::thumbnail("alice", "never-made")])
        .await
        .unwrap();
    assert_eq!(media.head(&key).await.unwrap(), None);
    media.delete(&[]).await.unwrap();
}
