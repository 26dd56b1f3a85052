//! A managed file's change: created, or updated in content, mode or owner.
//! The content diff shows only redacted lines; a secret that changes shows as
//! a sensitive attribute. Pure.

use super::desired::DesiredFile;
use super::live::LiveFile;
use super::Write;
use crate::error::Error;
use crate::plan::{Action, AttributeChange, Change, Planned, Value};
use crate::util::text_diff::unified;

pub(crate) fn diff(
    desired: &DesiredFile,
    live: &LiveFile,
) -> Result<Option<Planned<Write>>, Error> {
    if let Some(what) = live.not_regular {
        return Err(Error::new(format!(
            "`{}` ({}) is {what}; dbops manages only regular files and never reads or writes through a link",
            desired.path.display(),
            desired.address
        ))
        .hint("remove it so dbops can write the file, or point the key at another path"));
    }
    let operation = || Write {
        file: desired.clone(),
    };
    let mode = |m: u32| Value::Text(format!("{m:04o}"));
    let redacted_after = desired.redaction.redact(&desired.content);
    if !live.exists {
        let mut change = Change::new(desired.address.clone(), Action::Create)
            .attribute(AttributeChange::new(
                "path",
                None,
                Some(Value::Text(desired.path.display().to_string())),
            ))
            .attribute(AttributeChange::new("mode", None, Some(mode(desired.mode))));
        if let Some((_, _, owner)) = &desired.owner {
            change = change.attribute(AttributeChange::new(
                "owner",
                None,
                Some(Value::Text(owner.clone())),
            ));
        }
        change.diff = Some(unified("", &redacted_after));
        return Ok(Some(change.with(operation())));
    }
    let mut change = Change::new(desired.address.clone(), Action::Update);
    let current = live.content.clone().unwrap_or_default();
    if current != desired.content {
        let redacted_before = desired.redaction.redact(&current);
        let secrets_differ = desired.redaction.secret_lines(&current)
            != desired.redaction.secret_lines(&desired.content);
        if secrets_differ {
            change = change.attribute(AttributeChange::sensitive("secrets"));
        }
        if redacted_before != redacted_after {
            change.diff = Some(unified(&redacted_before, &redacted_after));
            change = change.attribute(AttributeChange::new(
                "content",
                Some(Value::Text("(as on disk)".into())),
                Some(Value::Text("(rendered)".into())),
            ));
        } else if !secrets_differ {
            change = change.attribute(AttributeChange::new(
                "content",
                Some(Value::Text(
                    "(differs in line endings or whitespace)".into(),
                )),
                Some(Value::Text("(rendered)".into())),
            ));
        }
    }
    if live.mode != Some(desired.mode) {
        change = change.attribute(AttributeChange::new(
            "mode",
            live.mode.map(mode),
            Some(mode(desired.mode)),
        ));
    }
    if let Some((uid, gid, owner)) = &desired.owner {
        if live.uid != Some(*uid) || live.gid != Some(*gid) {
            change = change.attribute(AttributeChange::new(
                "owner",
                Some(Value::Text(format!(
                    "{}:{}",
                    live.uid.unwrap_or(0),
                    live.gid.unwrap_or(0)
                ))),
                Some(Value::Text(owner.clone())),
            ));
        }
    }
    Ok((!change.attributes.is_empty()).then(|| change.with(operation())))
}
