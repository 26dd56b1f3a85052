//! One planned change: a stable address, an action, the before and after of
//! each attribute it touches, and the domain operation that carries it out.
//!
//! `reason` and `requires_restart` explain a change to people ("for UI only",
//! as Terraform says); apply acts on `operation` alone.

use serde::Serialize;

use crate::postgres::Operation as PostgresOperation;

/// What happens to the object at an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Create,
    Update,
    Delete,
}

/// An attribute value as plans show it. Secrets never become a `Value`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Value {
    Bool(bool),
    Int(i64),
    Text(String),
    List(Vec<String>),
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Text(t) => write!(f, "{}", serde_json::Value::String(t.clone())),
            Value::List(items) => {
                let items: Vec<String> = items
                    .iter()
                    .map(|i| serde_json::Value::String(i.clone()).to_string())
                    .collect();
                write!(f, "[{}]", items.join(", "))
            }
        }
    }
}

/// The before and after of one attribute. `None` is "absent" (before a create,
/// after a delete). A sensitive attribute has neither, only the flag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttributeChange {
    pub name: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub sensitive: bool,
}

impl AttributeChange {
    pub fn new(name: &str, before: Option<Value>, after: Option<Value>) -> Self {
        Self {
            name: name.to_string(),
            before,
            after,
            sensitive: false,
        }
    }

    /// A secret that will change; its values are never carried.
    pub fn sensitive(name: &str) -> Self {
        Self {
            name: name.to_string(),
            before: None,
            after: None,
            sensitive: true,
        }
    }
}

/// The work apply does for a change. Each domain owns its operations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    Postgres(PostgresOperation),
    Settings(crate::settings::Operation),
    Grants(crate::grants::Operation),
    Bucket(crate::bucket::Operation),
    File(crate::managed_file::Operation),
    Pooler(crate::pooler::Operation),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub address: String,
    pub action: Action,
    pub attributes: Vec<AttributeChange>,
    /// Why the change is needed, when the attributes alone do not say. For people only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub requires_restart: bool,
    /// A unified diff of a text-like value (a file, a lifecycle configuration),
    /// secrets already redacted. For people only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
    #[serde(skip)]
    pub operation: Operation,
}

impl Change {
    pub fn new(address: String, action: Action, operation: Operation) -> Self {
        Self {
            address,
            action,
            attributes: Vec::new(),
            reason: None,
            requires_restart: false,
            diff: None,
            operation,
        }
    }

    pub fn attribute(mut self, attribute: AttributeChange) -> Self {
        self.attributes.push(attribute);
        self
    }

    pub fn reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }
}

/// A setting written with `ALTER SYSTEM` that waits for a restart: not a change
/// to make again, but live state that is not yet what the file says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pending {
    pub address: String,
    /// In force now.
    pub current: Value,
    /// In force after the restart.
    pub pending: Value,
}

/// The process whose restart a setting waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Postgres,
    Pooler,
}

impl Service {
    /// Read off an address: each domain's addresses start with its name.
    pub fn of(address: &str) -> Option<Service> {
        match address.split('.').next() {
            Some("postgres") => Some(Service::Postgres),
            Some("pooler") => Some(Service::Pooler),
            _ => None,
        }
    }
}

/// One segment of an address: bare when it is a plain identifier, else quoted
/// like a JSON string, so `postgres.role."app user"` stays unambiguous.
pub fn address_segment(name: &str) -> String {
    let plain = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if plain {
        name.to_string()
    } else {
        serde_json::Value::String(name.to_string()).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::address_segment;

    #[test]
    fn address_segments_quote_what_is_not_plain() {
        assert_eq!(address_segment("app_user"), "app_user");
        assert_eq!(address_segment("db-backups"), "db-backups");
        assert_eq!(address_segment("App User"), "\"App User\"");
        assert_eq!(address_segment("a.b"), "\"a.b\"");
        assert_eq!(address_segment("we\"ird"), "\"we\\\"ird\"");
    }
}
