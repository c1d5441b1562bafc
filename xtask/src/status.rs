//! `cargo xtask status`: one screen that says whether a stage is healthy, from its stacks, alarms,
//! metrics, logs and jobs table. Fails when an alarm is in ALARM, so CI can gate a promotion.

mod figures;

use anyhow::{Result, bail};
use chrono::{DateTime, Utc};
use serde::Serialize;
use stacks::monitoring::{self, AVAILABILITY_TARGET_PERCENT, LATENCY_TARGET_MS};

use crate::cli::{OutputFormat, Status};
use crate::cloudformation::stack;
use crate::{aws, logs, outputs, ui};

use figures::{Alarm, Api, FunctionFigures, Jobs};

/// Everything `status` shows; `--output json` prints it as it is.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub stage: String,
    pub region: String,
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub stacks: Vec<StackState>,
    /// Those in ALARM first.
    pub alarms: Vec<Alarm>,
    pub functions: Vec<FunctionFigures>,
    pub http_api: Option<Api>,
    /// Percent of HTTP API requests answered without a 5xx; `None` without requests.
    pub availability_percent: Option<f64>,
    pub availability_target_percent: f64,
    /// Events in the dead-letter queue at the end of the window; `None` when not reported.
    pub dead_letters: Option<f64>,
    /// Jobs created in the window, by state; `None` when the data stack is not deployed.
    pub jobs: Option<Jobs>,
    pub dashboard_url: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StackState {
    pub name: String,
    /// `None` when the stack does not exist.
    pub status: Option<String>,
}

impl Report {
    fn in_alarm(&self) -> Vec<&str> {
        self.alarms
            .iter()
            .filter(|a| a.state == "ALARM")
            .map(|a| a.name.as_str())
            .collect()
    }
}

impl Status {
    pub async fn run(self) -> Result<()> {
        let stage = self.stage.resolve()?;
        let until = Utc::now();
        let since = logs::parse_since(&self.since, until)?;
        let config = aws::sdk_config(&self.aws, &stage.region).await;
        aws::check_account(&config, &stage.name, stage.account_id.as_deref()).await?;

        let mut stacks_states = Vec::new();
        for synth in stacks::synth(&stage) {
            let cfn = aws_sdk_cloudformation::Client::new(&stack::config_for(
                &config,
                &stage,
                &synth.region,
            ));
            let found = stack::describe(&cfn, &synth.name).await?;
            stacks_states.push(StackState {
                name: synth.name,
                status: found.as_ref().map(stack::status_of),
            });
        }
        let stage_outputs = outputs::read(&config, &stage).await?;
        let window = (since, until);
        let alarms = figures::alarms(&config, &stage.name).await?;
        let metrics = figures::metrics(&config, &stage.name, &stage_outputs, window).await?;
        let mut functions = metrics.functions;
        figures::cold_starts(&config, &stage.name, window, &mut functions).await?;
        let jobs = figures::jobs(&config, &stage, &stage_outputs, since).await?;
        let availability_percent = metrics.http_api.as_ref().and_then(Api::availability);
        let report = Report {
            stage: stage.name.clone(),
            region: aws::region(&config),
            since,
            until,
            stacks: stacks_states,
            alarms,
            functions,
            http_api: metrics.http_api,
            availability_percent,
            availability_target_percent: AVAILABILITY_TARGET_PERCENT,
            dead_letters: metrics.dead_letters,
            jobs,
            dashboard_url: monitoring::dashboard_url(&stage.name, &aws::region(&config)),
        };

        match self.output {
            OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&report)?),
            OutputFormat::Text => print!("{}", render(&report, logs::colour_on_stdout())),
        }
        let in_alarm = report.in_alarm();
        if !in_alarm.is_empty() {
            bail!(
                "{} alarm{} in ALARM: {}; see {}",
                in_alarm.len(),
                if in_alarm.len() == 1 { "" } else { "s" },
                in_alarm.join(", "),
                report.dashboard_url
            );
        }
        if report.stacks.iter().all(|s| s.status.is_none()) {
            ui::warn(format!(
                "stage `{}` has no stacks; deploy it with `cargo xtask deploy --stage {}`",
                stage.name, stage.name
            ));
        }
        Ok(())
    }
}

/// `▁▃█` for a series, one character per bucket (a space where there was no data).
fn sparkline(values: &[Option<f64>]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let max = values.iter().flatten().copied().fold(0.0_f64, f64::max);
    values
        .iter()
        .map(|value| match value {
            None => ' ',
            Some(_) if max <= 0.0 => BARS[0],
            Some(v) => {
                let index = ((v / max) * (BARS.len() - 1) as f64).round() as usize;
                BARS[index.min(BARS.len() - 1)]
            }
        })
        .collect()
}

fn number(value: Option<f64>) -> String {
    match value {
        Some(v) if v.fract() == 0.0 => format!("{v:.0}"),
        Some(v) => format!("{v:.1}"),
        None => "-".into(),
    }
}

fn met(ok: bool, colour: bool) -> String {
    let (text, code) = if ok { ("met", "32") } else { ("missed", "31") };
    if colour {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.into()
    }
}

/// The report as text; `colour` adds colour and the sparklines (a terminal).
pub fn render(report: &Report, colour: bool) -> String {
    use std::fmt::Write as _;
    let paint = |code: &str, text: &str| {
        if colour {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    };
    let mut out = String::new();
    let minutes = (report.until - report.since).num_minutes();
    let _ = writeln!(
        out,
        "{} in {}, {} to {} UTC ({} min)",
        paint("1", &format!("stage {}", report.stage)),
        report.region,
        report.since.format("%Y-%m-%d %H:%M"),
        report.until.format("%H:%M"),
        minutes
    );

    let _ = writeln!(out, "\n{}", paint("1", "stacks"));
    let width = report
        .stacks
        .iter()
        .map(|s| s.name.len())
        .max()
        .unwrap_or(0);
    for stack in &report.stacks {
        let status = stack.status.as_deref().unwrap_or("not deployed");
        let status = if status.contains("FAILED") || status.contains("ROLLBACK") {
            paint("31", status)
        } else {
            status.to_owned()
        };
        let _ = writeln!(out, "  {:<width$}  {status}", stack.name);
    }

    let count = |state: &str| report.alarms.iter().filter(|a| a.state == state).count();
    let _ = writeln!(
        out,
        "\n{}: {} in ALARM, {} OK, {} insufficient data",
        paint("1", "alarms"),
        count("ALARM"),
        count("OK"),
        count("INSUFFICIENT_DATA")
    );
    for alarm in report.alarms.iter().filter(|a| a.state == "ALARM") {
        let _ = writeln!(
            out,
            "  {}  {}  {}",
            paint("1;31", "ALARM"),
            alarm.name,
            alarm.reason
        );
    }

    let _ = writeln!(
        out,
        "\n{}",
        paint(
            "1",
            &format!(
                "{:<16} {:>7} {:>6} {:>9} {:>7} {:>7} {:>7} {:>6} {:>9}{}",
                "function",
                "calls",
                "errors",
                "throttles",
                "p50 ms",
                "p95 ms",
                "p99 ms",
                "cold",
                "init ms",
                if colour { "  errors        p95" } else { "" }
            )
        )
    );
    for f in &report.functions {
        let errors = f.errors.unwrap_or(0.0);
        let line = format!(
            "{:<16} {:>7} {:>6} {:>9} {:>7} {:>7} {:>7} {:>6} {:>9}",
            f.name,
            number(f.invocations),
            number(f.errors),
            number(f.throttles),
            number(f.p50_ms),
            number(f.p95_ms),
            number(f.p99_ms),
            f.cold_starts.map_or("-".into(), |c| c.to_string()),
            number(f.init_ms_average),
        );
        let line = if errors > 0.0 {
            paint("31", &line)
        } else {
            line
        };
        let _ = write!(out, "{line}");
        if colour {
            let _ = write!(
                out,
                "  {}  {}",
                paint("31", &sparkline(&f.errors_series)),
                sparkline(&f.p95_series)
            );
        }
        out.push('\n');
    }

    out.push('\n');
    match &report.http_api {
        Some(api) => {
            let p95 = api.p95_ms.map_or("-".into(), |p| format!("{p:.0} ms"));
            let target = match api.p95_ms {
                Some(p) => format!(
                    " (target {LATENCY_TARGET_MS:.0} ms: {})",
                    met(p <= LATENCY_TARGET_MS, colour)
                ),
                None => String::new(),
            };
            let _ = writeln!(
                out,
                "{:<13} {} requests, {} 4xx, {} 5xx, p95 {p95}{target}",
                paint("1", "HTTP API"),
                number(Some(api.requests)),
                number(Some(api.client_errors)),
                number(Some(api.server_errors)),
            );
        }
        None => {
            let _ = writeln!(out, "{:<13} not deployed", paint("1", "HTTP API"));
        }
    }
    let availability = match report.availability_percent {
        Some(percent) => format!(
            "{percent:.2} % (target {AVAILABILITY_TARGET_PERCENT} %: {})",
            met(percent >= AVAILABILITY_TARGET_PERCENT, colour)
        ),
        None => "no requests in the window".into(),
    };
    let _ = writeln!(out, "{:<13} {availability}", paint("1", "availability"));
    let dead = match report.dead_letters {
        Some(n) if n > 0.0 => paint("31", &format!("{n:.0} waiting")),
        Some(n) => format!("{n:.0} waiting"),
        None => "no data".into(),
    };
    let _ = writeln!(out, "{:<13} {dead}", paint("1", "dead letters"));
    let jobs = match &report.jobs {
        Some(j) => format!(
            "{} queued, {} running, {} done, {} failed (created in the window)",
            j.queued, j.running, j.done, j.failed
        ),
        None => "no jobs table (data stack not deployed)".into(),
    };
    let _ = writeln!(out, "{:<13} {jobs}", paint("1", "jobs"));
    let _ = writeln!(
        out,
        "{:<13} {}",
        paint("1", "dashboard"),
        report.dashboard_url
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparklines_scale_to_the_largest_value_and_leave_gaps() {
        assert_eq!(sparkline(&[Some(0.0), Some(4.0), None, Some(8.0)]), "▁▅ █");
        assert_eq!(sparkline(&[Some(0.0), Some(0.0)]), "▁▁");
    }
}
