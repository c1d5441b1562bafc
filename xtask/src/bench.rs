//! `cargo xtask bench`: named benchmarks, each yielding rows of (name, value, unit, goal), printed
//! as a table on stdout and written as JSON (default `target/bench.json`).
//!
//! Adding a benchmark is one line in [`BENCHES`] plus an `async fn(Context) -> Result<Vec<Row>>`
//! anywhere in xtask; a benchmark that needs the emulator starts its own [`crate::emulator::Emulator`].

use std::fmt::Write as _;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use serde::Serialize;

use crate::{stage, tools, ui};

mod deploy;
mod dev_restart;
mod gateway;
mod lambdas;
mod migrate;
pub mod proxy;

/// What every benchmark is given.
#[derive(Debug, Clone)]
pub struct Context {
    /// How many times to repeat what is measured (report the median).
    pub runs: usize,
}

type BenchFuture = Pin<Box<dyn Future<Output = Result<Vec<Row>>>>>;

/// A registered benchmark.
pub struct Bench {
    pub name: &'static str,
    pub run: fn(Context) -> BenchFuture,
}

/// Registers `function` (an `async fn(Context) -> Result<Vec<Row>>`) under `name`.
macro_rules! bench {
    ($name:literal, $function:path) => {
        Bench {
            name: $name,
            run: |context| Box::pin($function(context)),
        }
    };
}

/// Every benchmark, in the order they run.
const BENCHES: &[Bench] = &[
    bench!("synth", synth_all_stages),
    bench!("lambdas", lambdas::run),
    bench!("gateway", gateway::run),
    bench!("dev-restart", dev_restart::run),
    bench!("deploy-noop", deploy::noop_redeploy),
    bench!("site-sync", deploy::site_sync_1000),
    bench!("hotswap", deploy::hotswap_one),
    bench!("rollback", deploy::rollback_code_and_site),
    bench!("migrate", migrate::run),
];

/// The goal a value is held to.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Goal {
    AtMost(f64),
    AtLeast(f64),
}

/// One measured value.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// The benchmark that produced the row (filled in by the runner).
    pub bench: &'static str,
    pub name: String,
    pub value: f64,
    pub unit: String,
    pub goal: Option<Goal>,
    /// Whether the value meets its goal; `None` when there is no goal.
    pub pass: Option<bool>,
}

impl Row {
    /// A value reported for information, without a goal.
    pub fn new(name: impl Into<String>, value: f64, unit: impl Into<String>) -> Row {
        Row {
            bench: "",
            name: name.into(),
            value,
            unit: unit.into(),
            goal: None,
            pass: None,
        }
    }

    /// A duration, reported in milliseconds.
    pub fn millis(name: impl Into<String>, elapsed: Duration) -> Row {
        Row::new(name, elapsed.as_secs_f64() * 1000.0, "ms")
    }

    pub fn at_most(mut self, goal: f64) -> Row {
        self.goal = Some(Goal::AtMost(goal));
        self.pass = Some(self.value <= goal);
        self
    }

    pub fn at_least(mut self, goal: f64) -> Row {
        self.goal = Some(Goal::AtLeast(goal));
        self.pass = Some(self.value >= goal);
        self
    }

    fn goal_text(&self) -> String {
        match self.goal {
            Some(Goal::AtMost(goal)) => format!("<= {} {}", number(goal), self.unit),
            Some(Goal::AtLeast(goal)) => format!(">= {} {}", number(goal), self.unit),
            None => String::new(),
        }
    }
}

/// The middle value of `samples` (the mean of the two middle ones for an even count).
pub fn median(samples: &mut [Duration]) -> Duration {
    assert!(!samples.is_empty(), "median of no samples");
    samples.sort_unstable();
    let middle = samples.len() / 2;
    if samples.len().is_multiple_of(2) {
        (samples[middle - 1] + samples[middle]) / 2
    } else {
        samples[middle]
    }
}

fn number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{value:.0}")
    } else {
        format!("{value:.2}")
    }
}

fn table(rows: &[Row]) -> String {
    let headers = ["bench", "measure", "value", "goal", "result"];
    let cells: Vec<[String; 5]> = rows
        .iter()
        .map(|row| {
            let result = match row.pass {
                Some(true) => "pass",
                Some(false) => "FAIL",
                None => "",
            };
            [
                row.bench.to_owned(),
                row.name.clone(),
                format!("{} {}", number(row.value), row.unit),
                row.goal_text(),
                result.to_owned(),
            ]
        })
        .collect();
    let mut widths = headers.map(str::len);
    for row in &cells {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut text = String::new();
    let line = |text: &mut String, row: &[String]| {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        let _ = writeln!(text, "{}", cells.join("  ").trim_end());
    };
    line(&mut text, &headers.map(String::from));
    for row in &cells {
        line(&mut text, row);
    }
    text
}

#[derive(Serialize)]
struct Report<'a> {
    runs: usize,
    results: &'a [Row],
}

impl crate::cli::Bench {
    pub async fn run(self) -> Result<()> {
        if self.runs == 0 {
            bail!("--runs must be at least 1");
        }
        let selected: Vec<&Bench> = BENCHES
            .iter()
            .filter(|bench| {
                self.filters.is_empty()
                    || self
                        .filters
                        .iter()
                        .any(|filter| bench.name.contains(filter.as_str()))
            })
            .collect();
        if selected.is_empty() {
            let names: Vec<&str> = BENCHES.iter().map(|bench| bench.name).collect();
            bail!(
                "no benchmark matches {:?}; the benchmarks are: {}",
                self.filters,
                names.join(", ")
            );
        }
        let context = Context { runs: self.runs };
        let mut rows = Vec::new();
        for bench in selected {
            ui::step(format!("bench {}", bench.name));
            let started = Instant::now();
            let produced = (bench.run)(context.clone())
                .await
                .with_context(|| format!("benchmark {} failed", bench.name))?;
            ui::info(format!(
                "{} results in {}",
                produced.len(),
                ui::duration(started.elapsed())
            ));
            rows.extend(produced.into_iter().map(|row| Row {
                bench: bench.name,
                ..row
            }));
        }
        print!("{}", table(&rows));

        let out = self
            .out
            .unwrap_or_else(|| tools::target_dir().join("bench.json"));
        if let Some(parent) = out.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        let json = serde_json::to_string_pretty(&Report {
            runs: self.runs,
            results: &rows,
        })?;
        std::fs::write(&out, json + "\n")
            .with_context(|| format!("cannot write {}", out.display()))?;
        ui::info(format!("results written to {}", out.display()));

        let missed: Vec<String> = rows
            .iter()
            .filter(|row| row.pass == Some(false))
            .map(|row| format!("{} / {}", row.bench, row.name))
            .collect();
        if !missed.is_empty() {
            bail!(
                "{} results missed their goal: {}",
                missed.len(),
                missed.join(", ")
            );
        }
        Ok(())
    }
}

/// Synthesizing every stage (the file's and a personal one) into YAML, all in memory: what
/// `cargo xtask synth`, `diff` and `deploy` pay before talking to AWS.
async fn synth_all_stages(context: Context) -> Result<Vec<Row>> {
    let stages = stage::all_with_personal()?;
    let mut samples = Vec::with_capacity(context.runs);
    let mut bytes = 0;
    let mut templates = 0;
    for _ in 0..context.runs {
        let started = Instant::now();
        let settings = stage::load_settings()?;
        (bytes, templates) = (0, 0);
        for stage in &stages {
            let stage = settings.stage(&stage.name)?;
            for stack in stacks::synth(&stage) {
                bytes += std::hint::black_box(stack.template.to_yaml()).len();
                templates += 1;
            }
        }
        samples.push(started.elapsed());
    }
    let slowest = *samples.iter().max().expect("at least one run");
    let median = median(&mut samples);
    let label = format!("all {} stages, median of {}", stages.len(), context.runs);
    Ok(vec![
        Row::millis(label, median).at_most(100.0),
        Row::millis("slowest run", slowest),
        Row::new("templates", templates as f64, "files"),
        Row::new("YAML written", bytes as f64 / 1024.0, "KB"),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_is_the_middle_sample() {
        let ms = Duration::from_millis;
        assert_eq!(median(&mut [ms(9), ms(1), ms(5)]), ms(5));
        assert_eq!(median(&mut [ms(4), ms(2), ms(8), ms(6)]), ms(5));
    }

    #[test]
    fn rows_pass_or_fail_against_their_goal() {
        assert_eq!(Row::new("a", 120.0, "ms").at_most(100.0).pass, Some(false));
        assert_eq!(Row::new("a", 80.0, "ms").at_most(100.0).pass, Some(true));
        assert_eq!(Row::new("a", 3.0, "x").at_least(2.0).pass, Some(true));
        assert_eq!(Row::new("a", 3.0, "x").pass, None);
    }

    #[test]
    fn the_table_lines_up_and_marks_failures() {
        let rows = vec![
            Row {
                bench: "synth",
                ..Row::new("all stages", 12.5, "ms").at_most(100.0)
            },
            Row {
                bench: "deploy",
                ..Row::new("no-op redeploy", 7000.0, "ms").at_most(5000.0)
            },
        ];
        let text = table(&rows);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[1].contains("12.50 ms") && lines[1].ends_with("pass"));
        assert!(lines[2].contains("<= 5000 ms") && lines[2].ends_with("FAIL"));
        let value_column = lines[0].find("value").unwrap();
        assert_eq!(lines[1].find("12.50"), Some(value_column));
    }
}
