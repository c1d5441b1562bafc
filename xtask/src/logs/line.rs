//! One log event as `cargo xtask logs` prints it: Mumble's JSON lines (see
//! `mumble_core::telemetry`) read into time, level, ids, message and fields; any other line
//! (Lambda's START/END/REPORT, a panic) kept as it is.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::ui;

/// Levels in order, as `tracing` names them.
const LEVELS: [&str; 5] = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"];

/// A level's rank, or `None` for a name that is not one.
pub fn level_rank(level: &str) -> Option<usize> {
    let upper = level.to_ascii_uppercase();
    let upper = if upper == "WARNING" {
        "WARN".into()
    } else {
        upper
    };
    LEVELS.iter().position(|l| *l == upper)
}

/// A log event, read.
#[derive(Clone, Debug, Serialize)]
pub struct Line {
    /// When CloudWatch Logs says the event happened.
    #[serde(serialize_with = "millis")]
    pub timestamp: DateTime<Utc>,
    /// The function (its name in the stacks crate).
    pub function: String,
    #[serde(skip)]
    pub event_id: String,
    pub level: String,
    /// The HTTP API's request id where there is one, else Lambda's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    /// The user reference (`mumble_core::identity::user_ref`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    pub message: String,
    /// The event's other fields (JSON lines only).
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub fields: Map<String, Value>,
    /// Every id the line carries (both request ids), for `--request-id` and `--job`.
    #[serde(skip)]
    pub ids: Vec<String>,
    /// The line as logged.
    #[serde(skip)]
    pub raw: String,
}

/// `2026-05-01T12:00:03.250Z`: always three decimals, so the times also sort as text.
fn millis<S: serde::Serializer>(time: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(&time.format("%Y-%m-%dT%H:%M:%S%.3fZ"))
}

impl Line {
    /// Reads one event's message.
    pub fn parse(function: &str, event_id: &str, timestamp: DateTime<Utc>, raw: &str) -> Line {
        let raw = raw.trim_end().to_owned();
        let mut line = Line {
            timestamp,
            function: function.to_owned(),
            event_id: event_id.to_owned(),
            level: String::new(),
            request_id: None,
            job_id: None,
            user: None,
            message: raw.clone(),
            fields: Map::new(),
            ids: Vec::new(),
            raw,
        };
        match serde_json::from_str::<Value>(&line.raw) {
            Ok(Value::Object(object)) if object.contains_key("level") => line.read_json(object),
            _ => line.read_text(),
        }
        line
    }

    fn read_json(&mut self, mut object: Map<String, Value>) {
        let text = |value: Option<Value>| match value {
            Some(Value::String(s)) => Some(s),
            Some(Value::Null) | None => None,
            Some(other) => Some(other.to_string()),
        };
        self.level = text(object.remove("level")).unwrap_or_default();
        self.message = text(object.remove("message")).unwrap_or_default();
        object.remove("timestamp");
        object.remove("target");
        // Outermost span first, so the innermost value of a field wins.
        let mut span_fields = Map::new();
        if let Some(Value::Array(spans)) = object.remove("spans") {
            for span in spans {
                if let Value::Object(span) = span {
                    span_fields.extend(span.into_iter().filter(|(k, _)| k != "name"));
                }
            }
        }
        let mut take =
            |name: &str| text(object.remove(name)).or_else(|| text(span_fields.remove(name)));
        let api_request = take("request_id");
        let lambda_request = take("requestId");
        self.job_id = take("job_id");
        self.user = take("user");
        self.ids = [&api_request, &lambda_request, &self.job_id]
            .into_iter()
            .flatten()
            .cloned()
            .collect();
        self.request_id = api_request.or(lambda_request);
        self.fields = object;
    }

    /// Lambda's own lines name the request (`REPORT RequestId: …`); a timeout or a panic is an error.
    fn read_text(&mut self) {
        let message = &self.raw;
        if let Some(rest) = message.split("RequestId: ").nth(1) {
            let id: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            if !id.is_empty() {
                self.ids.push(id.clone());
                self.request_id = Some(id);
            }
        }
        let lower = message.to_ascii_lowercase();
        self.level = if lower.contains("task timed out")
            || lower.contains("panicked")
            || lower.contains("runtime.exiterror")
        {
            "ERROR"
        } else {
            "INFO"
        }
        .into();
    }

    /// Whether the line is at `minimum` or above.
    pub fn at_least(&self, minimum: usize) -> bool {
        level_rank(&self.level).is_none_or(|rank| rank >= minimum)
    }

    /// Whether the line carries `id` (as a field or in its text).
    pub fn names(&self, id: &str) -> bool {
        self.ids.iter().any(|known| known == id) || self.raw.contains(id)
    }

    /// One readable line: time, function, level, request id, message, then the fields.
    pub fn render(&self, width: usize, colour: bool) -> String {
        let paint = |code: &str, text: &str| {
            if colour {
                format!("\x1b[{code}m{text}\x1b[0m")
            } else {
                text.to_owned()
            }
        };
        let time = self.timestamp.format("%Y-%m-%d %H:%M:%S%.3f").to_string();
        let level = format!("{:<5}", self.level);
        let level = match self.level.as_str() {
            "ERROR" => paint("31", &level),
            "WARN" => paint("33", &level),
            "DEBUG" | "TRACE" => paint("2", &level),
            _ => level,
        };
        let mut out = format!(
            "{} {} {level} ",
            paint("2", &time),
            paint("36", &format!("{:<width$}", self.function))
        );
        if let Some(id) = &self.request_id {
            let _ = write!(out, "{} ", paint("2", id));
        }
        out.push_str(&self.message);
        let named = [("job_id", &self.job_id), ("user", &self.user)];
        for (name, value) in named {
            if let Some(value) = value {
                let _ = write!(out, " {}={}", paint("2", name), value);
            }
        }
        for (name, value) in &self.fields {
            let value = match value {
                Value::String(s) if s.contains(char::is_whitespace) || s.is_empty() => {
                    format!("{s:?}")
                }
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let _ = write!(out, " {}={value}", paint("2", name));
        }
        out
    }
}

/// Whether lines on stdout may be coloured: stdout is a terminal and `NO_COLOR` is unset.
pub fn colour_on_stdout() -> bool {
    use std::io::IsTerminal;
    ui::colour_allowed() && std::io::stdout().is_terminal()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at() -> DateTime<Utc> {
        "2026-05-01T12:00:03.250Z".parse().unwrap()
    }

    #[test]
    fn a_json_line_reads_its_ids_from_the_event_and_the_spans() {
        let raw = r#"{"timestamp":"2026-05-01T12:00:03.250Z","level":"WARN","message":"job failed","reason":"no audio","spans":[{"name":"Lambda runtime invoke","requestId":"lambda-1","xrayTraceId":"x"},{"name":"job","job_id":"job-7","user":"a1b2c3d4e5f60718"}]}"#;
        let line = Line::parse("worker", "e1", at(), raw);
        assert_eq!(line.level, "WARN");
        assert_eq!(line.message, "job failed");
        assert_eq!(line.request_id.as_deref(), Some("lambda-1"));
        assert_eq!(line.job_id.as_deref(), Some("job-7"));
        assert_eq!(line.user.as_deref(), Some("a1b2c3d4e5f60718"));
        assert!(line.names("job-7") && line.names("lambda-1"));
        assert_eq!(
            line.render(8, false),
            "2026-05-01 12:00:03.250 worker   WARN  lambda-1 job failed job_id=job-7 user=a1b2c3d4e5f60718 reason=\"no audio\""
        );
    }

    #[test]
    fn the_http_apis_request_id_wins_over_lambdas() {
        let raw = r#"{"level":"INFO","message":"request","request_id":"api-9","route":"POST /api/v1/generate","status":202,"spans":[{"name":"Lambda runtime invoke","requestId":"lambda-2"}]}"#;
        let line = Line::parse("generate", "e2", at(), raw);
        assert_eq!(line.request_id.as_deref(), Some("api-9"));
        assert!(line.names("lambda-2"), "both ids find the line");
        assert!(
            line.render(8, false)
                .ends_with("request route=\"POST /api/v1/generate\" status=202")
        );
    }

    #[test]
    fn other_lines_print_as_they_are_and_name_their_request() {
        let raw = "REPORT RequestId: 5d1f-77\tDuration: 12.50 ms\tInit Duration: 40.10 ms\t\n";
        let line = Line::parse("health", "e3", at(), raw);
        assert_eq!(line.level, "INFO");
        assert_eq!(line.request_id.as_deref(), Some("5d1f-77"));
        assert!(line.render(6, false).ends_with("Init Duration: 40.10 ms"));
        let timeout = Line::parse(
            "worker",
            "e4",
            at(),
            "2026-05-01T12:00:00Z 5d1f Task timed out after 300.00 seconds",
        );
        assert!(timeout.at_least(level_rank("error").unwrap()));
    }

    #[test]
    fn levels_order_as_tracing_does() {
        assert!(level_rank("warn") > level_rank("info"));
        assert_eq!(level_rank("Warning"), level_rank("WARN"));
        assert_eq!(level_rank("loud"), None);
    }
}
