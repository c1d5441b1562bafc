//! The data stack's DynamoDB tables: key schemas, indexes and TTL attributes.
//!
//! The data stack creates the tables from these, the stores in `mumble_core` build their keys
//! from them, and the tests and benchmarks create look-alike tables from them.

use crate::env::vars;
use crate::outputs::Output;

/// A table's (or an index's) primary key: partition key and optional sort key, both strings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeySchema {
    pub partition: &'static str,
    pub sort: Option<&'static str>,
}

impl KeySchema {
    /// The sort key of a table that has one; naming a table without one fails to compile in a
    /// `const` and panics elsewhere.
    pub const fn sort_key(self) -> &'static str {
        match self.sort {
            Some(sort) => sort,
            None => panic!("this key schema has no sort key"),
        }
    }
}

/// A global secondary index projecting every attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Index {
    pub name: &'static str,
    pub key: KeySchema,
}

/// The attribute holding each expiring item's epoch-seconds deadline.
pub const TTL_ATTRIBUTE: &str = "expiresAt";

/// The name of the by-user index of the images and connections tables.
pub const USER_INDEX: &str = "UserIndex";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Table {
    Users,
    Images,
    Jobs,
    Connections,
}

impl Table {
    pub const ALL: [Table; 4] = [Table::Users, Table::Images, Table::Jobs, Table::Connections];

    pub const fn key(self) -> KeySchema {
        match self {
            Table::Users => KeySchema {
                partition: "userId",
                sort: None,
            },
            Table::Images => KeySchema {
                partition: "imageId",
                sort: Some("createdAt"),
            },
            Table::Jobs => KeySchema {
                partition: "jobId",
                sort: None,
            },
            Table::Connections => KeySchema {
                partition: "connectionId",
                sort: None,
            },
        }
    }

    pub const fn indexes(self) -> &'static [Index] {
        match self {
            Table::Users | Table::Jobs => &[],
            // A user's images, newest first.
            Table::Images => &[Index {
                name: USER_INDEX,
                key: KeySchema {
                    partition: "userId",
                    sort: Some("createdAt"),
                },
            }],
            // Every open connection of a user, to push a job's progress to.
            Table::Connections => &[Index {
                name: USER_INDEX,
                key: KeySchema {
                    partition: "userId",
                    sort: None,
                },
            }],
        }
    }

    /// The attribute DynamoDB expires items by, if the table has one.
    pub const fn ttl(self) -> Option<&'static str> {
        match self {
            Table::Users | Table::Images => None,
            Table::Jobs | Table::Connections => Some(TTL_ATTRIBUTE),
        }
    }

    /// The data stack's logical id of the table.
    pub const fn logical_id(self) -> &'static str {
        match self {
            Table::Users => "UsersTable",
            Table::Images => "ImagesTable",
            Table::Jobs => "JobsTable",
            Table::Connections => "ConnectionsTable",
        }
    }

    /// Lowercase, for descriptions and test table names.
    pub const fn label(self) -> &'static str {
        match self {
            Table::Users => "users",
            Table::Images => "images",
            Table::Jobs => "jobs",
            Table::Connections => "connections",
        }
    }

    pub const fn name_output(self) -> Output {
        match self {
            Table::Users => Output::UsersTableName,
            Table::Images => Output::ImagesTableName,
            Table::Jobs => Output::JobsTableName,
            Table::Connections => Output::ConnectionsTableName,
        }
    }

    pub const fn arn_output(self) -> Output {
        match self {
            Table::Users => Output::UsersTableArn,
            Table::Images => Output::ImagesTableArn,
            Table::Jobs => Output::JobsTableArn,
            Table::Connections => Output::ConnectionsTableArn,
        }
    }

    /// The environment variable carrying the table's name.
    pub const fn env_var(self) -> &'static str {
        match self {
            Table::Users => vars::USERS_TABLE,
            Table::Images => vars::IMAGES_TABLE,
            Table::Jobs => vars::JOBS_TABLE,
            Table::Connections => vars::CONNECTIONS_TABLE,
        }
    }

    /// Every attribute a key of the table or of an index names, each once.
    pub fn key_attributes(self) -> Vec<&'static str> {
        let mut names = Vec::new();
        let keys = std::iter::once(self.key()).chain(self.indexes().iter().map(|index| index.key));
        for key in keys {
            for name in std::iter::once(key.partition).chain(key.sort) {
                if !names.contains(&name) {
                    names.push(name);
                }
            }
        }
        names
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_attributes_name_each_attribute_once_table_key_first() {
        assert_eq!(
            Table::Images.key_attributes(),
            ["imageId", "createdAt", "userId"]
        );
        assert_eq!(
            Table::Connections.key_attributes(),
            ["connectionId", "userId"]
        );
    }

    #[test]
    fn every_table_has_its_own_outputs_and_variable() {
        let mut seen = Vec::new();
        for table in Table::ALL {
            for name in [
                table.name_output().name(),
                table.arn_output().name(),
                table.env_var(),
            ] {
                assert!(!seen.contains(&name), "{name} is used twice");
                seen.push(name);
            }
        }
    }
}
