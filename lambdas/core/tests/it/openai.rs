//! The OpenAI client against a local fake server: request shapes, error mapping, retries, timeouts.

use std::time::{Duration, Instant};

use mumble_core::pipeline::openai::{OpenAi, StepLimits};
use mumble_core::pipeline::providers::{
    AudioClip, ImageGenerator, ProviderError, ProviderKind, Transcriber, TranscriptionRequest,
};
use mumble_core::pipeline::retry::RetryPolicy;
use mumble_core::secrets::Secret;
use mumble_testing::fake_openai::{FakeOpenAi, Reply, sample_png};

fn quick_limits(attempt_timeout: Duration) -> StepLimits {
    StepLimits {
        attempt_timeout,
        retry: RetryPolicy {
            max_attempts: 3,
            min_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(50),
            budget: Duration::from_secs(10),
        },
    }
}

fn client(fake: &FakeOpenAi) -> OpenAi {
    let mut client = OpenAi::new(
        reqwest::Client::new(),
        &fake.base_url,
        Secret::new("sk-test"),
    );
    client.transcription_limits = quick_limits(Duration::from_secs(5));
    client.image_limits = quick_limits(Duration::from_secs(5));
    client
}

fn clip() -> AudioClip {
    AudioClip {
        bytes: b"RIFF fake webm bytes".to_vec(),
        file_name: "recording.webm".to_owned(),
        content_type: "audio/webm".to_owned(),
    }
}

async fn transcribe(client: &OpenAi) -> Result<String, ProviderError> {
    let audio = clip();
    client
        .transcribe(TranscriptionRequest {
            audio: &audio,
            language: "zh",
            supplied_transcript: None,
        })
        .await
}

#[tokio::test]
async fn transcription_sends_the_audio_to_whisper_and_returns_the_text() {
    let fake = FakeOpenAi::start().await;
    fake.transcriptions([Reply::Transcript("今天阳光很好".to_owned())]);

    let text = transcribe(&client(&fake)).await.unwrap();

    assert_eq!(text, "今天阳光很好");
    let sent = fake.received_at("audio/transcriptions");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].authorization.as_deref(), Some("Bearer sk-test"));
    let body = sent[0].body_text();
    assert!(body.contains("name=\"model\"\r\n\r\nwhisper-1"), "{body}");
    assert!(body.contains("name=\"language\"\r\n\r\nzh"), "{body}");
    assert!(body.contains("filename=\"recording.webm\""), "{body}");
    assert!(body.contains("RIFF fake webm bytes"), "{body}");
}

#[tokio::test]
async fn image_generation_asks_dalle3_for_b64_json_and_decodes_the_png() {
    let fake = FakeOpenAi::start().await;
    let png = sample_png(16);
    fake.images([Reply::Image(png.clone())]);

    let image = client(&fake).generate("a quiet lake").await.unwrap();

    assert_eq!(image.png, png);
    assert_eq!(image.provider, ProviderKind::Openai);
    assert_eq!(image.revised_prompt.as_deref(), Some("a revised prompt"));
    let sent: serde_json::Value =
        serde_json::from_slice(&fake.received_at("images/generations")[0].body).unwrap();
    assert_eq!(sent["model"], "dall-e-3");
    assert_eq!(sent["size"], "1024x1024");
    assert_eq!(sent["quality"], "standard");
    assert_eq!(sent["response_format"], "b64_json");
    assert_eq!(sent["prompt"], "a quiet lake");
}

#[tokio::test]
async fn a_content_policy_refusal_is_final_and_not_retried() {
    let fake = FakeOpenAi::start().await;
    fake.images([Reply::ContentPolicy, Reply::Image(sample_png(8))]);

    let err = client(&fake)
        .generate("something refused")
        .await
        .unwrap_err();

    assert!(matches!(err, ProviderError::ContentPolicy(_)), "{err:?}");
    assert_eq!(fake.received_at("images/generations").len(), 1);
}

#[tokio::test]
async fn rejected_audio_is_reported_as_bad_input_without_retrying() {
    let fake = FakeOpenAi::start().await;
    fake.transcriptions([Reply::BadAudio, Reply::Transcript("never".to_owned())]);

    let err = transcribe(&client(&fake)).await.unwrap_err();

    assert!(matches!(err, ProviderError::InvalidInput(_)), "{err:?}");
    assert_eq!(fake.received().len(), 1);
}

#[tokio::test]
async fn a_rate_limit_is_retried_after_the_time_the_server_asked_for() {
    let fake = FakeOpenAi::start().await;
    fake.images([Reply::RateLimited(1), Reply::Image(sample_png(8))]);
    let started = Instant::now();

    let image = client(&fake).generate("later").await.unwrap();

    assert!(!image.png.is_empty());
    assert_eq!(fake.received().len(), 2);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_rate_limit_longer_than_the_budget_fails_at_once() {
    let fake = FakeOpenAi::start().await;
    fake.images([Reply::RateLimited(3600)]);
    let started = Instant::now();

    let err = client(&fake).generate("much later").await.unwrap_err();

    assert!(matches!(err, ProviderError::RateLimited { .. }), "{err:?}");
    assert_eq!(fake.received().len(), 1);
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn server_errors_are_retried_then_reported() {
    let fake = FakeOpenAi::start().await;
    fake.transcriptions([
        Reply::ServerError,
        Reply::Transcript("second time lucky".to_owned()),
    ]);
    assert_eq!(
        transcribe(&client(&fake)).await.unwrap(),
        "second time lucky"
    );

    let failing = FakeOpenAi::start().await;
    failing.transcriptions([Reply::ServerError, Reply::ServerError, Reply::ServerError]);
    let err = transcribe(&client(&failing)).await.unwrap_err();
    assert!(
        matches!(err, ProviderError::Upstream { status: 500, .. }),
        "{err:?}"
    );
    assert_eq!(failing.received().len(), 3, "three attempts in all");
}

#[tokio::test]
async fn a_hanging_server_times_out_within_the_step_budget() {
    let fake = FakeOpenAi::start().await;
    fake.images(vec![Reply::Hang(Duration::from_secs(30)); 3]);
    let mut client = client(&fake);
    client.image_limits = StepLimits {
        attempt_timeout: Duration::from_millis(200),
        retry: RetryPolicy {
            budget: Duration::from_secs(1),
            ..client.image_limits.retry
        },
    };
    let started = Instant::now();

    let err = client.generate("slow").await.unwrap_err();

    assert!(matches!(err, ProviderError::Timeout(_)), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}
