//! DynamoDB tables.

use serde::Serialize;

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Table {
    pub attribute_definitions: Vec<AttributeDefinition>,
    pub key_schema: Vec<KeyElement>,
    pub billing_mode: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub global_secondary_indexes: Vec<GlobalSecondaryIndex>,
    pub point_in_time_recovery_specification: PointInTimeRecovery,
    #[serde(rename = "SSESpecification")]
    pub sse_specification: SseSpecification,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_to_live_specification: Option<TimeToLive>,
    pub deletion_protection_enabled: bool,
}

impl Table {
    /// One of the stage's tables, with the keys, indexes and TTL the contract gives it.
    pub fn of(table: mumble_contract::Table) -> Self {
        let key = table.key();
        let mut properties = Table::new(key.partition, key.sort);
        for index in table.indexes() {
            properties = properties.index(index.name, index.key.partition, index.key.sort);
        }
        if let Some(attribute) = table.ttl() {
            properties = properties.ttl(attribute);
        }
        properties
    }

    /// An on-demand, encrypted table with point-in-time recovery, keyed by string attributes.
    pub fn new(hash_key: &str, range_key: Option<&str>) -> Self {
        let mut table = Table {
            attribute_definitions: vec![AttributeDefinition::string(hash_key)],
            key_schema: vec![KeyElement::hash(hash_key)],
            billing_mode: "PAY_PER_REQUEST",
            global_secondary_indexes: Vec::new(),
            point_in_time_recovery_specification: PointInTimeRecovery {
                point_in_time_recovery_enabled: true,
            },
            sse_specification: SseSpecification { sse_enabled: true },
            time_to_live_specification: None,
            deletion_protection_enabled: false,
        };
        if let Some(range_key) = range_key {
            table.define(range_key);
            table.key_schema.push(KeyElement::range(range_key));
        }
        table
    }

    /// A global secondary index projecting all attributes.
    pub fn index(mut self, name: &str, hash_key: &str, range_key: Option<&str>) -> Self {
        self.define(hash_key);
        let mut key_schema = vec![KeyElement::hash(hash_key)];
        if let Some(range_key) = range_key {
            self.define(range_key);
            key_schema.push(KeyElement::range(range_key));
        }
        self.global_secondary_indexes.push(GlobalSecondaryIndex {
            index_name: name.to_owned(),
            key_schema,
            projection: Projection {
                projection_type: "ALL",
            },
        });
        self
    }

    pub fn ttl(mut self, attribute: &str) -> Self {
        self.time_to_live_specification = Some(TimeToLive {
            attribute_name: attribute.to_owned(),
            enabled: true,
        });
        self
    }

    fn define(&mut self, attribute: &str) {
        if !self
            .attribute_definitions
            .iter()
            .any(|a| a.attribute_name == attribute)
        {
            self.attribute_definitions
                .push(AttributeDefinition::string(attribute));
        }
    }
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AttributeDefinition {
    pub attribute_name: String,
    pub attribute_type: &'static str,
}

impl AttributeDefinition {
    fn string(name: &str) -> Self {
        AttributeDefinition {
            attribute_name: name.to_owned(),
            attribute_type: "S",
        }
    }
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyElement {
    pub attribute_name: String,
    pub key_type: &'static str,
}

impl KeyElement {
    fn hash(name: &str) -> Self {
        KeyElement {
            attribute_name: name.to_owned(),
            key_type: "HASH",
        }
    }

    fn range(name: &str) -> Self {
        KeyElement {
            attribute_name: name.to_owned(),
            key_type: "RANGE",
        }
    }
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GlobalSecondaryIndex {
    pub index_name: String,
    pub key_schema: Vec<KeyElement>,
    pub projection: Projection,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Projection {
    pub projection_type: &'static str,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PointInTimeRecovery {
    pub point_in_time_recovery_enabled: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct SseSpecification {
    #[serde(rename = "SSEEnabled")]
    pub sse_enabled: bool,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TimeToLive {
    pub attribute_name: String,
    pub enabled: bool,
}
