//! Every way a job can fail ends in `failed` with a reason the user can read, pushed to them.

use std::time::Duration;

use mumble_core::store::jobs::{Job, JobStatus, JobStore, Progress};
use mumble_testing::fake_openai::{Reply, sample_png};
use serde_json::json;
use worker::{Outcome, handle};

use crate::support::{ALICE, ALICE_AUDIO, PROVIDER_CALLS_PER_DAY, World};

/// Runs a job with the scripted OpenAI answers; returns the job afterwards.
async fn run(w: &World, transcriptions: Vec<Reply>, images: Vec<Reply>) -> Job {
    w.openai.transcriptions(transcriptions);
    w.openai.images(images);
    let event = w.generate(json!({"audioKey": ALICE_AUDIO})).await;
    let outcome = handle(&w.worker, event.clone())
        .await
        .expect("a failed job is not a failed invocation");
    let job = w.job(&event.job_id).await;
    assert_eq!(job.status, JobStatus::Failed, "{job:?}");
    let reason = job.error.clone().expect("a failed job says why");
    assert_eq!(
        outcome,
        Outcome::Failed {
            reason: reason.clone()
        }
    );
    let last = w
        .management
        .posts()
        .into_iter()
        .rfind(|p| p.connection_id == "alice-1")
        .expect("pushed");
    assert_eq!(last.body["status"], "failed");
    assert_eq!(last.body["error"], reason.as_str());
    assert!(
        w.image(&event.job_id).await.is_none(),
        "no image record for a failed job"
    );
    job
}

async fn world_with_audio() -> World {
    let w = World::new().await;
    w.upload_audio(ALICE_AUDIO).await;
    w
}

#[tokio::test]
async fn a_content_policy_refusal_fails_the_job() {
    let w = world_with_audio().await;
    let job = run(
        &w,
        vec![Reply::Transcript("something".into())],
        vec![Reply::ContentPolicy],
    )
    .await;
    assert!(job.error.unwrap().contains("content policy"));
    assert_eq!(
        w.openai.received_at("images/generations").len(),
        1,
        "refusals are not retried"
    );
}

#[tokio::test]
async fn unusable_audio_fails_the_job() {
    let w = world_with_audio().await;
    let job = run(&w, vec![Reply::BadAudio], vec![]).await;
    assert!(job.error.unwrap().contains("recording could not be used"));
    assert!(w.openai.received_at("images/generations").is_empty());
}

#[tokio::test]
async fn silence_fails_the_job() {
    let w = world_with_audio().await;
    let job = run(&w, vec![Reply::Transcript("   ".into())], vec![]).await;
    assert!(job.error.unwrap().contains("no speech"));
}

#[tokio::test]
async fn a_rate_limit_outlasting_the_budget_fails_the_job() {
    let w = world_with_audio().await;
    let job = run(
        &w,
        vec![Reply::Transcript("雨".into())],
        vec![Reply::RateLimited(600)],
    )
    .await;
    assert!(job.error.unwrap().contains("busy"));
}

#[tokio::test]
async fn a_short_rate_limit_is_waited_out() {
    let w = world_with_audio().await;
    w.openai
        .transcriptions([Reply::RateLimited(1), Reply::Transcript("雨".into())]);
    w.openai.images([Reply::Image(sample_png(8))]);
    let event = w.generate(json!({"audioKey": ALICE_AUDIO})).await;

    let outcome = handle(&w.worker, event.clone()).await.unwrap();

    assert!(matches!(outcome, Outcome::Done { .. }), "{outcome:?}");
    assert_eq!(w.openai.received_at("audio/transcriptions").len(), 2);
}

#[tokio::test]
async fn repeated_server_errors_fail_the_job_after_bounded_retries() {
    let w = world_with_audio().await;
    let job = run(
        &w,
        vec![Reply::Transcript("雨".into())],
        vec![
            Reply::ServerError,
            Reply::ServerError,
            Reply::ServerError,
            Reply::Image(sample_png(8)),
        ],
    )
    .await;
    assert!(job.error.unwrap().contains("unavailable"));
    assert_eq!(w.openai.received_at("images/generations").len(), 3);
}

#[tokio::test]
async fn an_upstream_that_never_answers_fails_the_job_with_a_timeout() {
    let w = world_with_audio().await;
    let job = run(&w, vec![Reply::Hang(Duration::from_secs(20)); 3], vec![]).await;
    assert!(job.error.unwrap().contains("too long"));
}

#[tokio::test]
async fn a_recording_deleted_before_the_worker_ran_fails_the_job() {
    let w = world_with_audio().await;
    let event = w.generate(json!({"audioKey": ALICE_AUDIO})).await;
    w.s3.delete_object()
        .bucket(&w.bucket)
        .key(ALICE_AUDIO)
        .send()
        .await
        .unwrap();

    let outcome = handle(&w.worker, event.clone()).await.unwrap();

    let job = w.job(&event.job_id).await;
    assert_eq!(job.status, JobStatus::Failed);
    assert!(
        job.error.as_deref().unwrap().contains("record it again"),
        "{job:?}"
    );
    assert!(matches!(outcome, Outcome::Failed { .. }));
}

#[tokio::test]
async fn a_job_failed_by_the_cleanup_is_not_revived_by_a_late_worker() {
    let w = world_with_audio().await;
    let event = w.generate(json!({"audioKey": ALICE_AUDIO})).await;
    let progress = Progress {
        error: Some("took too long".into()),
        ..Progress::default()
    };
    w.jobs
        .advance(&event.job_id, JobStatus::Failed, progress)
        .await
        .unwrap();

    assert_eq!(
        handle(&w.worker, event.clone()).await.unwrap(),
        Outcome::Skipped
    );
    assert_eq!(
        w.job(&event.job_id).await.error.as_deref(),
        Some("took too long")
    );
}

/// Log lines written while a test runs (the JSON lines CloudWatch would get).
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn once_the_stages_paid_calls_for_the_day_are_spent_jobs_fail_at_once_with_the_reason() {
    let w = World::new().await;
    let affordable = PROVIDER_CALLS_PER_DAY / worker::PROVIDER_CALLS_PER_JOB;
    let mut events = Vec::new();
    for n in 0..=affordable {
        let audio = format!("audio/{ALICE}/clip-{n}.webm");
        w.upload_audio(&audio).await;
        let key = format!("job-{n}");
        events.push(
            w.generate_with_key(json!({"audioKey": audio}), Some(&key))
                .await,
        );
    }
    let (over, within) = events.split_last().unwrap();
    for event in within {
        w.openai
            .transcriptions([Reply::Transcript("海浪".to_owned())]);
        w.openai.images([Reply::Image(sample_png(16))]);
        let outcome = handle(&w.worker, event.clone()).await.unwrap();
        assert!(matches!(outcome, Outcome::Done { .. }), "{outcome:?}");
    }
    let calls_before = w.openai.received().len();
    let captured = Captured::default();
    let writer = captured.clone();
    let guard = tracing::subscriber::set_default(mumble_core::telemetry::subscriber(move || {
        writer.clone()
    }));

    let outcome = handle(&w.worker, over.clone()).await.unwrap();

    drop(guard);
    // The line the app stack's metric filter counts (`{ $.event = "provider_cap_reached" }`).
    let logged = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logged.lines().any(|line| {
            serde_json::from_str::<serde_json::Value>(line)
                .is_ok_and(|l| l["event"] == worker::PROVIDER_CAP_EVENT)
        }),
        "{logged}"
    );

    assert_eq!(
        outcome,
        Outcome::Failed {
            reason: worker::PROVIDER_CAP_REASON.to_owned()
        }
    );
    let job = w.job(&over.job_id).await;
    assert_eq!(job.status, JobStatus::Failed);
    assert!(job.error.unwrap().contains("try again tomorrow"));
    assert_eq!(
        w.openai.received().len(),
        calls_before,
        "no paid call after the cap"
    );
}
