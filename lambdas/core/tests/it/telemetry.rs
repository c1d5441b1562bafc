//! The access log: one JSON line per request with id, route, status and latency, and no token;
//! every line names its request, job and user (as a reference, never the e-mail or the `sub`).

use std::io::Write;
use std::sync::{Arc, Mutex};

use mumble_core::identity::user_ref;
use mumble_core::{ApiError, respond, runtime, telemetry};
use mumble_testing::request;
use serde_json::Value;

const EVENT: &str = include_str!("../fixtures/authorized-event.json");
const SUB: &str = "8f1c2a4e-0d6b-4f7e-9a51-3c2b1d0e9f11";

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn lines(&self) -> (String, Vec<Value>) {
        let text = String::from_utf8(self.0.lock().unwrap().clone()).unwrap();
        let lines = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("every line is JSON"))
            .collect();
        (text, lines)
    }
}

/// The value of `field` in the line's spans, outermost first.
fn span_field<'a>(line: &'a Value, field: &str) -> Option<&'a Value> {
    line["spans"]
        .as_array()?
        .iter()
        .find_map(|span| span.get(field))
}

#[tokio::test(flavor = "current_thread")]
async fn each_request_logs_one_json_line_without_the_token() {
    let captured = Captured::default();
    let writer = captured.clone();
    let _guard = tracing::subscriber::set_default(telemetry::subscriber(move || writer.clone()));

    let response = runtime::instrumented(request(EVENT), |_req| async {
        respond(Err(ApiError::upstream(
            "the weather service failed",
            "HTTP 500 from upstream",
        )))
    })
    .await
    .unwrap();
    assert_eq!(response.status(), 502);

    let (text, lines) = captured.lines();
    let access: Vec<&Value> = lines.iter().filter(|l| l["message"] == "request").collect();
    assert_eq!(access.len(), 1, "{text}");
    assert_eq!(access[0]["request_id"], "Hk8WeaThErAMEab=");
    assert_eq!(access[0]["route"], "GET /api/v1/weather");
    assert_eq!(access[0]["status"], 502);
    assert!(access[0]["latency_ms"].is_u64());
    assert_eq!(access[0]["user"], user_ref(SUB).as_str());
    let failure = lines
        .iter()
        .find(|l| l["level"] == "ERROR")
        .expect("the upstream failure is logged");
    assert!(
        failure["error"]
            .as_str()
            .unwrap()
            .contains("HTTP 500 from upstream"),
        "details go to the log"
    );
    assert_eq!(
        span_field(failure, "request_id").unwrap(),
        "Hk8WeaThErAMEab=",
        "with the request id"
    );
    assert_eq!(
        span_field(failure, "user").unwrap(),
        user_ref(SUB).as_str(),
        "and the user"
    );
    assert!(!text.contains("eyJraWQi"), "no token in the logs: {text}");
    assert!(!text.contains("alice@example.com"), "no e-mail: {text}");
    assert!(!text.contains(SUB), "no user id: {text}");
}

#[test]
fn lines_of_a_job_name_the_job_and_the_user_under_the_invocation() {
    let captured = Captured::default();
    let writer = captured.clone();
    let _guard = tracing::subscriber::set_default(telemetry::subscriber(move || writer.clone()));

    // What lambda_runtime wraps every invocation in.
    let invocation = tracing::info_span!("Lambda runtime invoke", requestId = "7d3b-invocation");
    let _invocation = invocation.enter();
    let job = telemetry::job_span("job-42", SUB);
    job.in_scope(|| tracing::info!(status = "transcribing", "job advanced"));

    let (text, lines) = captured.lines();
    assert_eq!(lines.len(), 1, "{text}");
    let line = &lines[0];
    assert_eq!(line["message"], "job advanced");
    assert_eq!(line["level"], "INFO");
    assert!(line["timestamp"].is_string());
    assert_eq!(span_field(line, "requestId").unwrap(), "7d3b-invocation");
    assert_eq!(span_field(line, "job_id").unwrap(), "job-42");
    assert_eq!(span_field(line, "user").unwrap(), user_ref(SUB).as_str());
    assert!(!text.contains(SUB), "no user id: {text}");
}
