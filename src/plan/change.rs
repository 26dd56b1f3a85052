//! One planned change: a stable address, an action, the before and after of
//! each attribute it touches, and what a person needs to read it.
//!
//! `reason` and `diff` explain a change to people ("for UI only", as Terraform
//! says); apply acts on the operation a [`Planned`] carries, which the plan
//! never looks into.

use serde::Serialize;

use super::address::Address;
use super::pending::Service;

/// What happens to the object at an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Action {
    Create,
    Update,
    Delete,
}

/// An attribute value as plans show it. Secrets never become a `Value`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(untagged)]
pub(crate) enum Value {
    Bool(bool),
    Int(i64),
    Text(String),
    // Shared: a scope over thousands of objects holds one list for all.
    List(std::sync::Arc<[String]>),
}

impl Value {
    pub(crate) fn text(text: impl Into<String>) -> Self {
        Value::Text(text.into())
    }
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub(crate) struct AttributeChange {
    // Shared with the object it names: a scope over thousands of objects
    // names each once, whatever the number of roles.
    pub(crate) name: std::sync::Arc<str>,
    pub(crate) before: Option<Value>,
    pub(crate) after: Option<Value>,
    pub(crate) sensitive: bool,
}

impl AttributeChange {
    pub(crate) fn new(name: &str, before: Option<Value>, after: Option<Value>) -> Self {
        Self::shared(name.into(), before, after)
    }

    /// [`AttributeChange::new`] with a name the caller shares.
    pub(crate) fn shared(
        name: std::sync::Arc<str>,
        before: Option<Value>,
        after: Option<Value>,
    ) -> Self {
        Self {
            name,
            before,
            after,
            sensitive: false,
        }
    }

    /// A secret that will change; its values are never carried.
    pub(crate) fn sensitive(name: &str) -> Self {
        Self {
            name: name.into(),
            before: None,
            after: None,
            sensitive: true,
        }
    }
}

/// What people see of a change; serialized in plans, saved plans and reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Change {
    pub(crate) address: Address,
    pub(crate) action: Action,
    pub(crate) attributes: Vec<AttributeChange>,
    /// Why the change is needed, when the attributes alone do not say. For people only.
    pub(crate) reason: Option<String>,
    /// The change takes effect only once this service restarts.
    pub(crate) restart: Option<Service>,
    /// A unified diff of a text-like value (a file, a lifecycle configuration),
    /// secrets already redacted. For people only.
    pub(crate) diff: Option<String>,
    /// Lines that stand for many attributes in text and markdown ("12,400
    /// tables lack SELECT"); JSON carries both.
    pub(crate) summary: Vec<String>,
}

/// The serialized form of a [`Change`].
#[derive(Serialize, schemars::JsonSchema)]
#[schemars(rename = "Change")]
struct ChangeJson<'a> {
    address: &'a Address,
    action: Action,
    attributes: &'a [AttributeChange],
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
    /// The change takes effect only once a service restarts.
    requires_restart: bool,
    /// Which service must restart (`postgresql`, `pgbouncer`), when one must.
    #[serde(skip_serializing_if = "Option::is_none")]
    restart_service: Option<&'static str>,
    /// A unified diff of a rendered file or configuration, secrets redacted.
    #[serde(skip_serializing_if = "Option::is_none")]
    diff: Option<&'a str>,
    /// What text and markdown show instead of many attributes, which are
    /// all in `attributes`.
    #[serde(default, skip_serializing_if = "<[String]>::is_empty")]
    summary: &'a [String],
}

impl<'a> From<&'a Change> for ChangeJson<'a> {
    fn from(change: &'a Change) -> Self {
        ChangeJson {
            address: &change.address,
            action: change.action,
            attributes: &change.attributes,
            reason: change.reason.as_deref(),
            requires_restart: change.restart.is_some(),
            restart_service: change.restart.map(|s| s.id),
            diff: change.diff.as_deref(),
            summary: &change.summary,
        }
    }
}

impl Serialize for Change {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        ChangeJson::from(self).serialize(serializer)
    }
}

impl schemars::JsonSchema for Change {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Change".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        ChangeJson::json_schema(generator)
    }
}

impl Change {
    pub(crate) fn new(address: Address, action: Action) -> Self {
        Self {
            address,
            action,
            attributes: Vec::new(),
            reason: None,
            restart: None,
            diff: None,
            summary: Vec::new(),
        }
    }

    pub(crate) fn attribute(mut self, attribute: AttributeChange) -> Self {
        self.attributes.push(attribute);
        self
    }

    pub(crate) fn reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    /// Marks the change as taking effect only after `service` restarts.
    pub(crate) fn requires_restart_of(mut self, service: Service) -> Self {
        self.restart = Some(service);
        self
    }

    /// Pairs the change with the operation that carries it out.
    pub(crate) fn with<O>(self, operation: O) -> Planned<O> {
        Planned {
            change: self,
            operation,
        }
    }
}

/// A change and the domain operation apply runs for it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Planned<O> {
    pub(crate) change: Change,
    pub(crate) operation: O,
}

impl<O> Planned<O> {
    pub(crate) fn map<P>(self, f: impl FnOnce(O) -> P) -> Planned<P> {
        Planned {
            change: self.change,
            operation: f(self.operation),
        }
    }
}
