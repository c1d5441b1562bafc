//! `cargo xtask cost`: what a stage costs a month at a usage profile, next to the EC2 host it
//! replaced, and the cost change of a deploy's plan.

pub mod chart;
pub mod estimate;
pub mod prices;
pub mod usage;

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use anyhow::{Context, Result};
use serde::Serialize;
use stacks::Stage;

use crate::cli::Cost;
use crate::ui;
use estimate::{Estimate, Item, Line, ServiceTotal, Template};
use prices::PriceTable;
use usage::Usage;

/// Resources listed under each service in the text table; the rest are summed on one line.
const RESOURCES_SHOWN: usize = 4;

/// The break-even search stops here: a stage that is still cheaper has no break-even worth naming.
pub const BREAK_EVEN_LIMIT: f64 = 10_000_000.0;

/// A stage's templates as the estimate reads them (what `cargo xtask synth` writes).
pub fn synthesized(stage: &Stage) -> Vec<Template> {
    stacks::synth(stage)
        .into_iter()
        .map(|stack| Template {
            document: serde_json::to_value(&stack.template).expect("templates serialize"),
            stack: stack.name,
        })
        .collect()
}

/// Everything one estimate needs besides the templates.
pub struct Inputs {
    pub usage: Usage,
    pub prices: PriceTable,
    pub free_tier: bool,
}

impl Inputs {
    pub fn load(stage: &Stage, usage_file: Option<&Path>, free_tier: bool) -> Result<Inputs> {
        Ok(Inputs {
            usage: Usage::load(&stage.name, stage.personal, usage_file)?,
            prices: PriceTable::builtin()?,
            free_tier,
        })
    }

    pub fn estimate(&self, templates: &[Template]) -> Result<Estimate> {
        estimate::estimate(templates, &self.usage, &self.prices, self.free_tier)
    }

    /// The same estimate at another number of monthly active users.
    pub fn estimate_at(&self, templates: &[Template], users: f64) -> Result<Estimate> {
        estimate::estimate(
            templates,
            &self.usage.with_users(users),
            &self.prices,
            self.free_tier,
        )
    }
}

/// The smallest whole number of monthly active users at which `infrastructure` (the stage's cost
/// without what the host pays too) exceeds `host`; `None` below [`BREAK_EVEN_LIMIT`].
pub fn break_even(host: f64, infrastructure: impl Fn(f64) -> Result<f64>) -> Result<Option<f64>> {
    if infrastructure(0.0)? > host {
        return Ok(Some(0.0));
    }
    let (mut below, mut above) = (0.0_f64, 1.0_f64);
    while infrastructure(above)? <= host {
        below = above;
        above *= 2.0;
        if above > BREAK_EVEN_LIMIT * 2.0 {
            return Ok(None);
        }
    }
    while above - below > 1.0 {
        let middle = ((below + above) / 2.0).floor();
        if infrastructure(middle)? > host {
            above = middle;
        } else {
            below = middle;
        }
    }
    Ok((above <= BREAK_EVEN_LIMIT).then_some(above))
}

/// The stage next to the EC2 host.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HostComparison {
    #[serde(serialize_with = "serialize_usd")]
    pub host_usd: f64,
    /// What the host pays just the same (the AI calls), added to both sides.
    #[serde(serialize_with = "serialize_usd")]
    pub shared_usd: f64,
    #[serde(serialize_with = "serialize_usd")]
    pub host_total_usd: f64,
    #[serde(serialize_with = "serialize_usd")]
    pub stage_total_usd: f64,
    /// Monthly active users above which the stage costs more than the host (same profile).
    pub break_even_monthly_active_users: Option<f64>,
}

/// What `cargo xtask cost` prints.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub stage: String,
    pub prices_read: String,
    pub free_tier: bool,
    pub monthly_active_users: f64,
    #[serde(serialize_with = "serialize_usd")]
    pub total_usd: f64,
    pub services: Vec<ServiceTotal>,
    pub biggest: Vec<Item>,
    pub host: HostComparison,
    pub lines: Vec<Line>,
}

impl Report {
    pub fn new(stage: &str, inputs: &Inputs, templates: &[Template]) -> Result<Report> {
        let estimate = inputs.estimate(templates)?;
        let host = inputs.prices.ec2_host.usd_per_month;
        let break_even = break_even(host, |users| {
            Ok(inputs.estimate_at(templates, users)?.infrastructure())
        })?;
        Ok(Report {
            stage: stage.to_owned(),
            prices_read: inputs.prices.read(),
            free_tier: inputs.free_tier,
            monthly_active_users: estimate.monthly_active_users,
            total_usd: estimate.total(),
            services: estimate.services(),
            biggest: estimate.biggest(3),
            host: HostComparison {
                host_usd: host,
                shared_usd: estimate.shared_with_host(),
                host_total_usd: host + estimate.shared_with_host(),
                stage_total_usd: estimate.total(),
                break_even_monthly_active_users: break_even,
            },
            lines: estimate.lines,
        })
    }
}

/// Dollars in JSON to a hundredth of a cent: enough for any line, without float noise.
pub fn serialize_usd<S: serde::Serializer>(amount: &f64, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64((amount * 10_000.0).round() / 10_000.0)
}

/// `$1,234.56`.
pub fn usd(amount: f64) -> String {
    let cents = (amount.abs() * 100.0).round() as u64;
    let sign = if amount < 0.0 && cents > 0 { "-" } else { "" };
    format!("{sign}${}.{:02}", thousands(cents / 100), cents % 100)
}

/// `+$0.42` or `-$1.00`.
pub fn signed_usd(amount: f64) -> String {
    if amount < 0.0 {
        usd(amount)
    } else {
        format!("+{}", usd(amount))
    }
}

/// `12,345`.
pub fn thousands(number: u64) -> String {
    let digits = number.to_string();
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

fn users(count: f64) -> String {
    thousands(count.round() as u64)
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}",
            ui::bold(format!(
                "stage {}: {} a month at {} monthly active users",
                self.stage,
                usd(self.total_usd),
                users(self.monthly_active_users)
            ))
        )?;
        writeln!(
            f,
            "  us-east-1 list prices read {}, free tier {}",
            self.prices_read,
            if self.free_tier { "on" } else { "off" }
        )?;
        let mut by_resource: BTreeMap<(&str, &str), f64> = BTreeMap::new();
        for line in &self.lines {
            *by_resource
                .entry((&line.service, &line.resource))
                .or_default() += line.usd;
        }
        writeln!(f, "  {:<40} {:>12}", "service / resource", "$/month")?;
        for service in &self.services {
            writeln!(f, "  {:<40} {:>12}", service.service, usd(service.usd))?;
            let mut resources: Vec<(&str, f64)> = by_resource
                .iter()
                .filter(|((name, _), amount)| *name == service.service && **amount >= 0.005)
                .map(|((_, resource), amount)| (*resource, *amount))
                .collect();
            resources.sort_by(|a, b| b.1.total_cmp(&a.1));
            let shown = if resources.len() > RESOURCES_SHOWN + 1 {
                RESOURCES_SHOWN
            } else {
                resources.len()
            };
            for (resource, amount) in &resources[..shown] {
                writeln!(f, "    {:<38} {:>12}", resource, ui::dim(usd(*amount)))?;
            }
            let rest = &resources[shown..];
            if !rest.is_empty() {
                let amount: f64 = rest.iter().map(|(_, amount)| amount).sum();
                let label = format!("… {} more", rest.len());
                writeln!(f, "    {label:<38} {:>12}", ui::dim(usd(amount)))?;
            }
        }
        writeln!(
            f,
            "  {:<40} {:>12}",
            ui::bold("total"),
            ui::bold(usd(self.total_usd))
        )?;
        let biggest: Vec<String> = self
            .biggest
            .iter()
            .map(|item| format!("{item} ({})", usd(item.usd)))
            .collect();
        writeln!(f, "  biggest: {}", biggest.join("; "))?;
        let host = &self.host;
        writeln!(
            f,
            "  EC2 host: {} + the same AI calls {} = {} a month, against {} for the stage",
            usd(host.host_usd),
            usd(host.shared_usd),
            usd(host.host_total_usd),
            usd(host.stage_total_usd)
        )?;
        match host.break_even_monthly_active_users {
            Some(0.0) => writeln!(
                f,
                "  break-even: none; the stage costs more than the host even without users"
            ),
            Some(count) => writeln!(
                f,
                "  break-even: above {} monthly active users the stage costs more than the host",
                users(count)
            ),
            None => writeln!(
                f,
                "  break-even: none; the stage stays cheaper than the host up to {} monthly active users",
                users(BREAK_EVEN_LIMIT)
            ),
        }
    }
}

/// How one priced item of one resource changes.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemChange {
    pub stack: String,
    pub resource: String,
    pub item: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    #[serde(serialize_with = "serialize_usd")]
    pub delta_usd: f64,
}

/// The monthly cost change of a plan, at the stage's profile.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CostChange {
    pub monthly_active_users: f64,
    #[serde(serialize_with = "serialize_usd")]
    pub before_usd: f64,
    #[serde(serialize_with = "serialize_usd")]
    pub after_usd: f64,
    #[serde(serialize_with = "serialize_usd")]
    pub delta_usd: f64,
    /// Items whose cost moves by at least half a cent, largest change first.
    pub changes: Vec<ItemChange>,
}

/// Lines by stack, resource and price.
type Key<'a> = (&'a str, &'a str, &'a str);

/// Each item's cost and setting, by [`Key`].
fn index(estimate: &Estimate) -> BTreeMap<Key<'_>, (f64, Option<String>)> {
    let mut map: BTreeMap<Key<'_>, (f64, Option<String>)> = BTreeMap::new();
    for line in &estimate.lines {
        let slot = map
            .entry((&line.stack, &line.resource, &line.price))
            .or_default();
        slot.0 += line.usd;
        slot.1 = line.detail.clone();
    }
    map
}

/// Below this a change does not show in cents.
const NOTICEABLE_USD: f64 = 0.005;

impl CostChange {
    pub fn between(before: &Estimate, after: &Estimate) -> CostChange {
        let (old, new) = (index(before), index(after));
        let items: BTreeMap<Key<'_>, &str> = before
            .lines
            .iter()
            .chain(&after.lines)
            .map(|line| ((&*line.stack, &*line.resource, &*line.price), &*line.item))
            .collect();
        let mut changes: Vec<ItemChange> = items
            .into_iter()
            .filter_map(|(key, item)| {
                let (was, was_detail) = old.get(&key).cloned().unwrap_or_default();
                let (is, is_detail) = new.get(&key).cloned().unwrap_or_default();
                let delta = is - was;
                (delta.abs() >= NOTICEABLE_USD).then(|| ItemChange {
                    stack: key.0.to_owned(),
                    resource: key.1.to_owned(),
                    item: item.to_owned(),
                    before: was_detail,
                    after: is_detail,
                    delta_usd: delta,
                })
            })
            .collect();
        changes.sort_by(|a, b| b.delta_usd.abs().total_cmp(&a.delta_usd.abs()));
        CostChange {
            monthly_active_users: after.monthly_active_users,
            before_usd: before.total(),
            after_usd: after.total(),
            delta_usd: after.total() - before.total(),
            changes,
        }
    }

    pub fn is_noticeable(&self) -> bool {
        self.delta_usd.abs() >= NOTICEABLE_USD || !self.changes.is_empty()
    }
}

impl fmt::Display for CostChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.is_noticeable() {
            return writeln!(
                f,
                "  cost: no change ({} a month at {} monthly active users)",
                usd(self.after_usd),
                users(self.monthly_active_users)
            );
        }
        writeln!(
            f,
            "  cost: {}/month at {} monthly active users ({} → {})",
            signed_usd(self.delta_usd),
            users(self.monthly_active_users),
            usd(self.before_usd),
            usd(self.after_usd)
        )?;
        for change in &self.changes {
            let setting = match (&change.before, &change.after) {
                (Some(before), Some(after)) if before != after => format!(" {before} → {after}"),
                (None, Some(after)) => format!(" (new: {after})"),
                (Some(before), None) => format!(" (was {before})"),
                _ => String::new(),
            };
            let text = format!(
                "{} {}{setting}: {}/month",
                change.resource,
                change.item,
                signed_usd(change.delta_usd)
            );
            let painted = if change.delta_usd > 0.0 {
                ui::yellow(text)
            } else {
                ui::green(text)
            };
            writeln!(f, "    {painted}")?;
        }
        Ok(())
    }
}

impl Cost {
    pub fn run(self) -> Result<()> {
        let stage = self.stage.resolve()?;
        let inputs = Inputs::load(&stage, self.usage.as_deref(), self.free_tier)?;
        let templates = synthesized(&stage);
        let report = Report::new(&stage.name, &inputs, &templates)?;
        if let Some(path) = &self.chart {
            let svg = chart::svg(&report, &inputs, &templates)?;
            std::fs::write(path, svg)
                .with_context(|| format!("cannot write the chart to {}", path.display()))?;
            ui::info(format!("chart written to {}", path.display()));
        }
        ui::print(&report, self.output)
    }
}

#[cfg(test)]
mod tests;
