//! The access log: one JSON line per request with id, route, status and latency, and no token.

use std::io::Write;
use std::sync::{Arc, Mutex};

use mumble_core::test_support::request;
use mumble_core::{ApiError, respond, runtime, telemetry};
use serde_json::Value;

const EVENT: &str = include_str!("../fixtures/authorized-event.json");

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

    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("every line is JSON"))
        .collect();
    let access: Vec<&Value> = lines.iter().filter(|l| l["message"] == "request").collect();
    assert_eq!(access.len(), 1, "{text}");
    assert_eq!(access[0]["request_id"], "Hk8WeaThErAMEab=");
    assert_eq!(access[0]["route"], "GET /api/v1/weather");
    assert_eq!(access[0]["status"], 502);
    assert!(access[0]["latency_ms"].is_u64());
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
        failure["span"]["request_id"], "Hk8WeaThErAMEab=",
        "with the request id"
    );
    assert!(!text.contains("eyJraWQi"), "no token in the logs: {text}");
}
