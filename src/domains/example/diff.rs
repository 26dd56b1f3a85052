//! The example domain's diff: create or update the file. Pure.

use std::path::PathBuf;

use super::{Desired, Live};
use crate::plan::{Action, Address, AttributeChange, Change, DomainDiff, Value};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    Write { path: PathBuf, text: String },
}

pub fn diff(desired: &Desired, live: &Live) -> DomainDiff<Operation> {
    let mut out = DomainDiff::default();
    if live.text.as_deref() == Some(desired.text.as_str()) {
        return out;
    }
    let action = if live.text.is_some() {
        Action::Update
    } else {
        Action::Create
    };
    out.push(
        Change::new(Address::new("example_domain").word("file"), action)
            .attribute(AttributeChange::new(
                "text",
                live.text.clone().map(Value::Text),
                Some(Value::Text(desired.text.clone())),
            ))
            .with(Operation::Write {
                path: desired.path.clone(),
                text: desired.text.clone(),
            }),
    );
    out
}
