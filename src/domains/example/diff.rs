//! The example domain's diff: create or update the file. Pure.

use std::path::PathBuf;

use super::{Desired, Example, Live};
use crate::contract::Domain;
use crate::plan::{Action, AttributeChange, Change, DomainDiff, Value};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Operation {
    Write { path: PathBuf, text: String },
}

/// The declared text, then the declared roles.
pub(crate) fn content(desired: &Desired, roles: &[String]) -> String {
    format!("{}# roles: {}\n", desired.text, roles.join(", "))
}

pub(crate) fn diff(desired: &Desired, live: &Live, roles: &[String]) -> DomainDiff<Operation> {
    let mut out = DomainDiff::default();
    let text = content(desired, roles);
    if live.text.as_deref() == Some(text.as_str()) {
        return out;
    }
    let action = if live.text.is_some() {
        Action::Update
    } else {
        Action::Create
    };
    out.push(
        Change::new(Example::ID.address().word("file"), action)
            .attribute(AttributeChange::new(
                "text",
                live.text.clone().map(Value::Text),
                Some(Value::Text(text.clone())),
            ))
            .with(Operation::Write {
                path: desired.path.clone(),
                text,
            }),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_lists_the_roles_and_converges() {
        let desired = Desired {
            path: "/tmp/motd".into(),
            text: "hello\n".into(),
        };
        let roles = ["app_user", "migrator"].map(String::from);
        let planned = diff(&desired, &Live { text: None }, &roles);
        assert_eq!(planned.changes.len(), 1);
        let Operation::Write { text, .. } = &planned.changes[0].operation;
        assert_eq!(text, "hello\n# roles: app_user, migrator\n");
        let live = Live {
            text: Some(text.clone()),
        };
        assert!(diff(&desired, &live, &roles).changes.is_empty());
    }
}
