//! The dated price table (`xtask/cost/prices.yaml`): what each unit costs and which prices each
//! resource type's formula uses.

use std::collections::BTreeMap;

use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};

/// Where the table lives, for messages.
pub const PATH: &str = "xtask/cost/prices.yaml";
const TEXT: &str = include_str!("../../cost/prices.yaml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceTable {
    pub ec2_host: Ec2Host,
    pub prices: BTreeMap<String, Price>,
    pub resource_types: BTreeMap<String, TypeRule>,
}

/// The host Mumble replaced: a flat monthly price.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Ec2Host {
    pub usd_per_month: f64,
    pub item: String,
    pub source: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Price {
    pub service: String,
    pub item: String,
    pub usd: f64,
    pub per: f64,
    pub unit: String,
    #[serde(default)]
    pub free_tier: f64,
    #[serde(default)]
    pub included: f64,
    #[serde(default)]
    pub also_on_host: bool,
    pub source: String,
    pub read: String,
    #[serde(default)]
    pub note: Option<String>,
}

impl Price {
    /// The monthly cost of `quantity` units in one account, the allowances taken off first.
    pub fn cost(&self, quantity: f64, free_tier: bool) -> f64 {
        let allowance = self.included + if free_tier { self.free_tier } else { 0.0 };
        (quantity - allowance).max(0.0) / self.per * self.usd
    }
}

/// What a resource type costs: the prices its formula uses, or nothing (and why).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypeRule {
    #[serde(default)]
    pub prices: Vec<String>,
    #[serde(default)]
    pub free: Option<String>,
}

impl PriceTable {
    /// The table in the repository, checked.
    pub fn builtin() -> Result<PriceTable> {
        Self::parse(TEXT)
    }

    pub fn parse(text: &str) -> Result<PriceTable> {
        let table: PriceTable = serde_norway::from_str(text)
            .map_err(|error| anyhow::anyhow!("{PATH}: {error}; fix the entry it names"))?;
        table.check()?;
        Ok(table)
    }

    fn check(&self) -> Result<()> {
        for (key, price) in &self.prices {
            if !(price.per > 0.0
                && price.usd >= 0.0
                && price.free_tier >= 0.0
                && price.included >= 0.0)
            {
                bail!(
                    "{PATH}: price `{key}`: `usd`, `free_tier` and `included` must be 0 or more and `per` above 0"
                );
            }
        }
        for (kind, rule) in &self.resource_types {
            match (&rule.free, rule.prices.is_empty()) {
                (Some(_), true) | (None, false) => {}
                _ => bail!(
                    "{PATH}: resource type `{kind}`: give either `prices: [...]` or `free: reason`"
                ),
            }
            if let Some(missing) = rule
                .prices
                .iter()
                .find(|key| !self.prices.contains_key(*key))
            {
                bail!(
                    "{PATH}: resource type `{kind}` uses price `{missing}`, which is not under `prices`; add it"
                );
            }
        }
        Ok(())
    }

    pub fn price(&self, key: &str) -> Result<&Price> {
        self.prices
            .get(key)
            .ok_or_else(|| anyhow::anyhow!("{PATH}: no price `{key}`; add it"))
    }

    /// The oldest `read` date: how fresh the table is.
    pub fn read(&self) -> String {
        self.prices
            .values()
            .map(|price| price.read.clone())
            .min()
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_in_the_repository_loads_and_every_price_names_its_source() {
        let table = PriceTable::builtin().unwrap();
        for (key, price) in &table.prices {
            assert!(
                price.source.starts_with("https://"),
                "{key}: {}",
                price.source
            );
            assert!(
                chrono::NaiveDate::parse_from_str(&price.read, "%Y-%m-%d").is_ok(),
                "{key}: read `{}` is not a date",
                price.read
            );
        }
    }

    #[test]
    fn allowances_come_off_before_the_price() {
        let table = PriceTable::builtin().unwrap();
        let requests = table.price("lambda.requests").unwrap();
        // 3 million requests at $0.20 per million: $0.60, or $0.40 with the first million free.
        assert!((requests.cost(3_000_000.0, false) - 0.60).abs() < 1e-9);
        assert!((requests.cost(3_000_000.0, true) - 0.40).abs() < 1e-9);
        assert_eq!(requests.cost(500_000.0, true), 0.0);
        // Invalidation paths: the first 1,000 are part of the price, free tier or not.
        let paths = table.price("cloudfront.invalidations").unwrap();
        assert!((paths.cost(1_200.0, false) - 200.0 * 0.005).abs() < 1e-9);
    }

    #[test]
    fn a_type_naming_a_missing_price_is_refused() {
        let text = TEXT.replace("prices: [cloudwatch.alarms]", "prices: [cloudwatch.alarm]");
        let error = PriceTable::parse(&text).unwrap_err().to_string();
        assert!(error.contains("AWS::CloudWatch::Alarm"), "{error}");
        assert!(error.contains("cloudwatch.alarm`"), "{error}");
    }
}
