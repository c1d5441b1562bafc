//! From an uploaded recording to a stored image with a thumbnail and a `done` job.

use std::sync::Arc;

use mumble_core::generation::WorkerEvent;
use mumble_core::pipeline::offline::{RenderedImage, SuppliedTranscript};
use mumble_core::store::connections::ConnectionStore;
use mumble_core::store::jobs::JobStatus;
use mumble_testing::fake_openai::{Reply, sample_png};
use serde_json::json;
use worker::{Outcome, handle};

use crate::support::{ALICE, ALICE_AUDIO, BOB, World};

#[tokio::test]
async fn a_recording_becomes_a_stored_image_with_a_thumbnail() {
    let w = World::new().await;
    w.upload_audio(ALICE_AUDIO).await;
    let png = sample_png(300);
    w.openai
        .transcriptions([Reply::Transcript("西湖边下着小雨".to_owned())]);
    w.openai.images([Reply::Image(png.clone())]);

    let event = w
        .generate(json!({"audioKey": ALICE_AUDIO, "latitude": 30.25, "longitude": 120.17, "style": "ink wash"}))
        .await;
    let outcome = handle(&w.worker, event.clone()).await.unwrap();

    let Outcome::Done { image_id } = outcome else {
        panic!("the job did not finish: {outcome:?}")
    };
    let job = w.job(&event.job_id).await;
    assert_eq!(job.status, JobStatus::Done);
    assert_eq!(job.image_id.as_deref(), Some(image_id.as_str()));
    assert_eq!(job.transcript.as_deref(), Some("西湖边下着小雨"));
    assert_eq!(
        job.weather.as_ref().map(|w| w.description.as_str()),
        Some("小雨")
    );

    // Whisper heard the uploaded bytes with the language hint; DALL-E got the built prompt.
    let transcription = &w.openai.received_at("audio/transcriptions")[0];
    assert!(transcription.body_text().contains("webm audio bytes"));
    assert!(
        transcription
            .body_text()
            .contains("name=\"language\"\r\n\r\nzh")
    );
    let sent: serde_json::Value =
        serde_json::from_slice(&w.openai.received_at("images/generations")[0].body).unwrap();
    let prompt = sent["prompt"].as_str().unwrap();
    assert!(
        prompt.contains("西湖边下着小雨") && prompt.contains("小雨") && prompt.contains("Hangzhou"),
        "{prompt}"
    );
    assert!(prompt.contains("ink wash"), "{prompt}");

    let image_key = format!("images/{ALICE}/{image_id}.png");
    assert_eq!(w.object(&image_key).await.as_deref(), Some(png.as_slice()));
    let record = w.image(&image_id).await.expect("the image record");
    assert_eq!(record.user_id, ALICE);
    assert_eq!(record.image_key, image_key);
    assert_eq!(record.transcript, "西湖边下着小雨");
    assert_eq!(record.prompt, prompt);
    assert_eq!(
        record.weather.as_ref().map(|w| w.location.as_str()),
        Some("Hangzhou")
    );
    assert_eq!(
        record.location.map(|l| (l.latitude, l.longitude)),
        Some((30.25, 120.17))
    );
    assert!(!record.offline);

    // The PNG's upload triggers the processor.
    let report = image_processor::handle(&w.processor, w.object_created(&image_key))
        .await
        .unwrap();
    assert_eq!(report.thumbnails, 1);
    let thumbnail_key = format!("thumbnails/{ALICE}/{image_id}.jpg");
    let thumbnail = w
        .object(&thumbnail_key)
        .await
        .expect("the thumbnail is stored");
    let decoded = image::load_from_memory(&thumbnail).expect("the thumbnail is an image");
    assert_eq!((decoded.width(), decoded.height()), (256, 256));
    let record = w.image(&image_id).await.unwrap();
    assert_eq!(
        record.thumbnail_key.as_deref(),
        Some(thumbnail_key.as_str())
    );
    assert_eq!((record.width, record.height), (Some(300), Some(300)));
    assert_eq!(record.bytes, Some(png.len() as u64));
    assert!(
        record
            .dominant_color
            .as_deref()
            .is_some_and(|c| c.len() == 7 && c.starts_with('#'))
    );
}

#[tokio::test]
async fn every_state_is_pushed_to_the_users_connections_and_gone_ones_are_dropped() {
    let w = World::new().await;
    w.upload_audio(ALICE_AUDIO).await;
    w.openai
        .transcriptions([Reply::Transcript("晚霞".to_owned())]);
    w.openai.images([Reply::Image(sample_png(16))]);

    let event = w
        .generate(json!({"audioKey": ALICE_AUDIO, "latitude": 30.25, "longitude": 120.17}))
        .await;
    handle(&w.worker, event.clone()).await.unwrap();

    assert_eq!(
        w.pushed_statuses("alice-1"),
        [
            "transcribing",
            "weather",
            "prompting",
            "generating",
            "storing",
            "done"
        ]
    );
    let done = w
        .management
        .posts()
        .into_iter()
        .rfind(|p| p.connection_id == "alice-1")
        .unwrap();
    assert_eq!(done.body["type"], "job");
    assert_eq!(done.body["jobId"], event.job_id.as_str());
    assert_eq!(done.body["imageId"], event.job_id.as_str());
    assert_eq!(done.body["transcript"], "晚霞");
    // The gone connection was tried once, then removed; Bob heard nothing of Alice's job.
    assert_eq!(w.pushed_statuses("alice-gone"), ["transcribing"]);
    assert!(w.connections.get("alice-gone").await.unwrap().is_none());
    assert!(w.connections.get("alice-1").await.unwrap().is_some());
    assert!(w.pushed_statuses("bob-1").is_empty());
}

#[tokio::test]
async fn without_coordinates_the_weather_step_is_skipped() {
    let w = World::new().await;
    w.upload_audio(ALICE_AUDIO).await;
    w.openai
        .transcriptions([Reply::Transcript("海浪".to_owned())]);
    w.openai.images([Reply::Image(sample_png(16))]);

    let event = w.generate(json!({"audioKey": ALICE_AUDIO})).await;
    handle(&w.worker, event.clone()).await.unwrap();

    assert_eq!(
        w.pushed_statuses("alice-1"),
        ["transcribing", "prompting", "generating", "storing", "done"]
    );
    let job = w.job(&event.job_id).await;
    assert_eq!(job.transcript.as_deref(), Some("海浪"));
    assert!(job.weather.is_none());
}

#[tokio::test]
async fn when_the_weather_fails_the_picture_is_made_without_it() {
    let mut w = World::new().await;
    w.worker.weather = Arc::new(crate::support::FixedWeather(None));
    w.upload_audio(ALICE_AUDIO).await;
    w.openai
        .transcriptions([Reply::Transcript("雪".to_owned())]);
    w.openai.images([Reply::Image(sample_png(16))]);

    let event = w
        .generate(json!({"audioKey": ALICE_AUDIO, "latitude": 1.0, "longitude": 2.0}))
        .await;
    let outcome = handle(&w.worker, event.clone()).await.unwrap();

    assert!(matches!(outcome, Outcome::Done { .. }), "{outcome:?}");
    assert!(w.job(&event.job_id).await.weather.is_none());
}

#[tokio::test]
async fn offline_providers_make_an_image_marked_offline() {
    let mut w = World::new().await;
    w.worker.transcriber = Arc::new(SuppliedTranscript);
    w.worker.image_generator = Arc::new(RenderedImage);
    w.upload_audio(ALICE_AUDIO).await;

    let event = w
        .generate(json!({"audioKey": ALICE_AUDIO, "transcript": "月光下的湖"}))
        .await;
    let outcome = handle(&w.worker, event.clone()).await.unwrap();

    let Outcome::Done { image_id } = outcome else {
        panic!("{outcome:?}")
    };
    let record = w.image(&image_id).await.unwrap();
    assert!(record.offline);
    assert_eq!(record.transcript, "月光下的湖");
    assert!(w.object(&record.image_key).await.is_some());
    assert!(
        w.openai.received().is_empty(),
        "offline mode never calls OpenAI"
    );
}

#[tokio::test]
async fn a_finished_job_is_left_alone_when_invoked_again() {
    let w = World::new().await;
    w.upload_audio(ALICE_AUDIO).await;
    w.openai
        .transcriptions([Reply::Transcript("风".to_owned())]);
    w.openai.images([Reply::Image(sample_png(16))]);
    let event = w.generate(json!({"audioKey": ALICE_AUDIO})).await;
    handle(&w.worker, event.clone()).await.unwrap();
    let calls = w.openai.received().len();

    // Lambda may deliver an async event more than once.
    assert_eq!(
        handle(&w.worker, event.clone()).await.unwrap(),
        Outcome::Skipped
    );
    assert_eq!(w.openai.received().len(), calls, "no second generation");
    assert_eq!(w.job(&event.job_id).await.status, JobStatus::Done);
}

#[tokio::test]
async fn an_event_naming_another_user_or_no_job_does_nothing() {
    let w = World::new().await;
    w.upload_audio(ALICE_AUDIO).await;
    let event = w.generate(json!({"audioKey": ALICE_AUDIO})).await;

    let forged = WorkerEvent {
        user_id: BOB.to_owned(),
        ..event.clone()
    };
    assert_eq!(handle(&w.worker, forged).await.unwrap(), Outcome::Skipped);
    let missing = WorkerEvent {
        job_id: "no-such-job".to_owned(),
        ..event.clone()
    };
    assert_eq!(handle(&w.worker, missing).await.unwrap(), Outcome::Skipped);

    assert_eq!(w.job(&event.job_id).await.status, JobStatus::Queued);
    assert!(w.openai.received().is_empty());
}
