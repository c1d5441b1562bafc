//! `cargo xtask logs`: a stage's function logs merged in time order, one readable line each.
//! `--job` follows one picture across functions; `--follow` keeps polling until Ctrl-C.
//!
//! CloudWatch Logs' live tail is not in every endpoint this talks to (the local emulator has no
//! StartLiveTail), so `--follow` polls FilterLogEvents, paced under the API's 5 requests a second.

mod line;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use aws_sdk_cloudwatchlogs::Client;
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeDelta, Utc};
use stacks::{FUNCTIONS, FunctionSpec};

use line::level_rank;
pub use line::{Line, colour_on_stdout};

use crate::cli::{Logs, OutputFormat};
use crate::{aws, ui};

/// FilterLogEvents calls per second, under CloudWatch Logs' default quota of 5.
const CALLS_PER_SECOND: u32 = 4;
/// How often `--follow` asks again.
const POLL_EVERY: Duration = Duration::from_secs(2);
/// How far back each poll looks again, for events CloudWatch ingests late.
const LATE_EVENTS: TimeDelta = TimeDelta::seconds(60);
/// Lines kept per function and pass; beyond this the command says so rather than dropping silently.
const MAX_LINES_PER_GROUP: usize = 10_000;
/// Requests `--job` follows beyond the job's own lines.
const MAX_RELATED_REQUESTS: usize = 50;

/// The start of a window: `10m`, `2h`, `1d`, `30s` before `now`, or a time (RFC 3339, or
/// `YYYY-MM-DDTHH:MM:SS` / `YYYY-MM-DD` in UTC).
pub fn parse_since(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>> {
    let text = text.trim();
    let fail = || {
        anyhow::anyhow!(
            "`--since {text}` is neither a duration (30s, 10m, 2h, 1d) nor a time (2026-05-01T12:00:00Z)"
        )
    };
    let start = if let Some(unit) = text.chars().last().filter(char::is_ascii_alphabetic)
        && let Ok(amount) = text[..text.len() - 1].parse::<i64>()
    {
        let delta = match unit {
            's' => TimeDelta::try_seconds(amount),
            'm' => TimeDelta::try_minutes(amount),
            'h' => TimeDelta::try_hours(amount),
            'd' => TimeDelta::try_days(amount),
            _ => None,
        }
        .filter(|d| *d > TimeDelta::zero())
        .ok_or_else(fail)?;
        now - delta
    } else if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        time.with_timezone(&Utc)
    } else if let Ok(time) = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S") {
        time.and_utc()
    } else if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        day.and_hms_opt(0, 0, 0).ok_or_else(fail)?.and_utc()
    } else {
        return Err(fail());
    };
    if start >= now {
        bail!("`--since {text}` is in the future; give a time before now");
    }
    Ok(start)
}

/// The functions `--function` names, checked; all of them without the flag.
pub fn functions(names: &[String]) -> Result<Vec<&'static FunctionSpec>> {
    if names.is_empty() {
        return Ok(FUNCTIONS.iter().collect());
    }
    names
        .iter()
        .map(|name| {
            stacks::functions::function(name).with_context(|| {
                format!(
                    "there is no function `{name}`; the functions are: {}",
                    FUNCTIONS
                        .iter()
                        .map(|f| f.name)
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
        })
        .collect()
}

/// What to show, checked before anything is fetched.
struct Query {
    groups: Vec<(&'static FunctionSpec, String)>,
    since: DateTime<Utc>,
    min_level: usize,
    filter: Option<String>,
    request_id: Option<String>,
    job: Option<String>,
}

impl Query {
    fn new(args: &Logs, stage: &str, now: DateTime<Utc>) -> Result<Query> {
        let min_level = match &args.level {
            None => 0,
            Some(level) => level_rank(level).with_context(|| {
                format!("there is no level `{level}`; use one of trace, debug, info, warn, error")
            })?,
        };
        let non_empty = |value: &Option<String>, flag: &str| -> Result<Option<String>> {
            match value.as_deref().map(str::trim) {
                Some("") => bail!("`--{flag}` needs a value"),
                other => Ok(other.map(str::to_owned)),
            }
        };
        Ok(Query {
            groups: functions(&args.function)?
                .into_iter()
                .map(|f| (f, f.log_group_name(stage)))
                .collect(),
            since: parse_since(&args.since, now)?,
            min_level,
            filter: non_empty(&args.filter, "filter")?,
            request_id: non_empty(&args.request_id, "request-id")?,
            job: non_empty(&args.job, "job")?,
        })
    }

    /// The one term CloudWatch filters on (the emulator understands a single quoted term); the
    /// rest is checked here.
    fn pattern(&self) -> Option<String> {
        let term = self
            .job
            .as_ref()
            .or(self.request_id.as_ref())
            .or(self.filter.as_ref())?;
        Some(format!("\"{}\"", term.replace('"', "")))
    }

    fn keeps(&self, line: &Line) -> bool {
        line.at_least(self.min_level)
            && self
                .filter
                .as_ref()
                .is_none_or(|text| line.raw.contains(text.as_str()))
            && self.request_id.as_ref().is_none_or(|id| line.names(id))
    }
}

/// Spaces FilterLogEvents calls evenly.
struct Pace {
    next: tokio::time::Instant,
}

impl Pace {
    fn new() -> Pace {
        Pace {
            next: tokio::time::Instant::now(),
        }
    }

    async fn wait(&mut self) {
        tokio::time::sleep_until(self.next).await;
        self.next = tokio::time::Instant::now() + Duration::from_secs(1) / CALLS_PER_SECOND;
    }
}

/// Reads log groups, remembering which are missing so each is reported once.
pub struct Reader {
    client: Client,
    pace: Pace,
    /// Log groups that do not exist.
    pub missing: BTreeSet<String>,
}

impl Reader {
    pub fn new(config: &aws_config::SdkConfig) -> Reader {
        Reader {
            client: Client::new(config),
            pace: Pace::new(),
            missing: BTreeSet::new(),
        }
    }

    /// The events of one group between `start` and `end` matching `pattern`, read.
    pub async fn read(
        &mut self,
        function: &FunctionSpec,
        group: &str,
        pattern: Option<&str>,
        (start, end): (DateTime<Utc>, DateTime<Utc>),
    ) -> Result<Vec<Line>> {
        if self.missing.contains(group) {
            return Ok(Vec::new());
        }
        let mut lines = Vec::new();
        let mut token = None;
        loop {
            self.pace.wait().await;
            let result = self
                .client
                .filter_log_events()
                .log_group_name(group)
                .start_time(start.timestamp_millis())
                .end_time(end.timestamp_millis())
                .set_filter_pattern(pattern.map(str::to_owned))
                .set_next_token(token.take())
                .send()
                .await;
            let page = match result {
                Ok(page) => page,
                Err(error)
                    if error
                        .as_service_error()
                        .is_some_and(|e| e.is_resource_not_found_exception()) =>
                {
                    self.missing.insert(group.to_owned());
                    return Ok(Vec::new());
                }
                Err(error) => {
                    return Err(aws::sdk_error(error))
                        .with_context(|| format!("cannot read log group {group}"));
                }
            };
            for event in page.events() {
                let time = event
                    .timestamp()
                    .and_then(DateTime::from_timestamp_millis)
                    .unwrap_or(start);
                lines.push(Line::parse(
                    function.name,
                    event.event_id().unwrap_or_default(),
                    time,
                    event.message().unwrap_or_default(),
                ));
            }
            if lines.len() >= MAX_LINES_PER_GROUP {
                ui::warn(format!(
                    "{}: more than {MAX_LINES_PER_GROUP} lines; showing the first; narrow `--since` or add `--filter`",
                    function.name
                ));
                break;
            }
            // CloudWatch may answer a page without events and a token while it searches on.
            match page.next_token() {
                Some(next) => token = Some(next.to_owned()),
                None => break,
            }
        }
        Ok(lines)
    }

    /// Every line of the query in the window, in time order.
    async fn collect(
        &mut self,
        query: &Query,
        window: (DateTime<Utc>, DateTime<Utc>),
    ) -> Result<Vec<Line>> {
        let pattern = query.pattern();
        let mut found = Vec::new();
        for (function, group) in &query.groups {
            found.extend(
                self.read(function, group, pattern.as_deref(), window)
                    .await?,
            );
        }
        if let Some(job) = &query.job {
            // The job's own lines name its requests (Lambda's and the HTTP API's); those requests'
            // other lines (the access line, Lambda's START/REPORT) do not name the job.
            found.retain(|line| line.names(job));
            let mut related: BTreeMap<String, &'static FunctionSpec> = BTreeMap::new();
            for line in &found {
                let function =
                    stacks::functions::function(&line.function).expect("a known function");
                for id in line.ids.iter().filter(|id| *id != job) {
                    related.entry(id.clone()).or_insert(function);
                }
            }
            if related.len() > MAX_RELATED_REQUESTS {
                ui::warn(format!(
                    "the job touched {} requests; showing the other lines of the first {MAX_RELATED_REQUESTS}",
                    related.len()
                ));
            }
            for (id, function) in related.into_iter().take(MAX_RELATED_REQUESTS) {
                let group = query
                    .groups
                    .iter()
                    .find(|(f, _)| f.name == function.name)
                    .map(|(_, g)| g.clone())
                    .expect("the line came from a queried group");
                let lines = self
                    .read(function, &group, Some(&format!("\"{id}\"")), window)
                    .await?;
                found.extend(lines.into_iter().filter(|line| line.names(&id)));
            }
        }
        found.retain(|line| query.keeps(line));
        let mut seen = BTreeSet::new();
        found.retain(|line| seen.insert((line.function.clone(), line.event_id.clone())));
        found.sort_by(|a, b| {
            (a.timestamp, &a.function, &a.event_id).cmp(&(b.timestamp, &b.function, &b.event_id))
        });
        Ok(found)
    }
}

/// Writes lines to stdout as text or JSON.
struct Printer {
    json: bool,
    width: usize,
    colour: bool,
}

impl Printer {
    fn print(&self, line: &Line) -> Result<()> {
        if self.json {
            println!("{}", serde_json::to_string(line)?);
        } else {
            println!("{}", line.render(self.width, self.colour));
        }
        Ok(())
    }
}

impl Logs {
    pub async fn run(self) -> Result<()> {
        let stage = self.stage.resolve()?;
        let query = Query::new(&self, &stage.name, Utc::now())?;
        let config = aws::sdk_config(&self.aws, &stage.region).await;
        aws::check_account(&config, &stage.name, stage.account_id.as_deref()).await?;
        let mut reader = Reader::new(&config);
        let printer = Printer {
            json: self.output == OutputFormat::Json,
            width: query
                .groups
                .iter()
                .map(|(f, _)| f.name.len())
                .max()
                .unwrap_or(0),
            colour: colour_on_stdout(),
        };

        let mut end = Utc::now();
        let lines = reader.collect(&query, (query.since, end)).await?;
        if reader.missing.len() == query.groups.len() {
            bail!(
                "stage `{}` has no log groups for these functions; deploy it first: `cargo xtask deploy --stage {}`",
                stage.name,
                stage.name
            );
        }
        for group in &reader.missing {
            ui::warn(format!("no log group {group} (not deployed, or renamed)"));
        }
        for line in &lines {
            printer.print(line)?;
        }
        if !self.follow {
            if lines.is_empty() {
                ui::info(format!(
                    "no lines since {}",
                    query.since.format("%Y-%m-%d %H:%M:%S UTC")
                ));
            }
            return Ok(());
        }

        ui::info("following; Ctrl-C stops");
        let mut seen: HashMap<(String, String), DateTime<Utc>> = lines
            .into_iter()
            .map(|line| ((line.function, line.event_id), line.timestamp))
            .collect();
        let stop = tokio::signal::ctrl_c();
        tokio::pin!(stop);
        loop {
            tokio::select! {
                _ = &mut stop => return Ok(()),
                () = tokio::time::sleep(POLL_EVERY) => {}
            }
            let start = (end - LATE_EVENTS).max(query.since);
            end = Utc::now();
            let lines = tokio::select! {
                _ = &mut stop => return Ok(()),
                lines = reader.collect(&query, (start, end)) => lines?,
            };
            for line in lines {
                let key = (line.function.clone(), line.event_id.clone());
                if seen.insert(key, line.timestamp).is_none() {
                    printer.print(&line)?;
                }
            }
            seen.retain(|_, time| *time >= start - LATE_EVENTS);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_reads_durations_and_times() {
        let now: DateTime<Utc> = "2026-05-01T12:00:00Z".parse().unwrap();
        let at = |text| parse_since(text, now).unwrap().to_rfc3339();
        assert_eq!(at("10m"), "2026-05-01T11:50:00+00:00");
        assert_eq!(at("2h"), "2026-05-01T10:00:00+00:00");
        assert_eq!(at("1d"), "2026-04-30T12:00:00+00:00");
        assert_eq!(at("2026-05-01T11:00:00Z"), "2026-05-01T11:00:00+00:00");
        assert_eq!(at("2026-05-01T11:00:00"), "2026-05-01T11:00:00+00:00");
        assert_eq!(at("2026-05-01"), "2026-05-01T00:00:00+00:00");
        let error = parse_since("ten minutes", now).unwrap_err().to_string();
        assert!(
            error.contains("10m") && error.contains("ten minutes"),
            "{error}"
        );
        assert!(parse_since("0m", now).is_err());
        assert!(
            parse_since("2026-06-01", now)
                .unwrap_err()
                .to_string()
                .contains("future")
        );
    }

    #[test]
    fn an_unknown_function_is_refused_with_the_names() {
        let error = functions(&["wrker".into()]).unwrap_err().to_string();
        assert!(
            error.contains("wrker") && error.contains("worker"),
            "{error}"
        );
        assert_eq!(functions(&[]).unwrap().len(), FUNCTIONS.len());
    }
}
