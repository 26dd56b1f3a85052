//! The ownership diff: pure. Each object a `reassign_owned_from` role owns in
//! a managed database moves to the database's declared owner, one change per
//! object; and the row-level-security holes the application's roles open are
//! findings, each saying what to do.

use std::collections::BTreeMap;

use super::desired::DesiredOwnership;
use super::live::{LiveOwnership, ObjectKind};
use crate::plan::{
    Action, Address, AttributeChange, Change, DomainDiff, Finding, FindingClass, Value,
};

/// `ALTER <keyword> <target> OWNER TO <owner>` in `database`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Operation {
    pub(crate) database: String,
    pub(crate) keyword: ObjectKind,
    pub(crate) target: String,
    pub(crate) owner: String,
}

pub(crate) fn object_address(database: &str, kind: ObjectKind, display: &str) -> Address {
    super::ID
        .address()
        .word("owner")
        .name(database)
        .word(kind.word())
        .name(display)
}

pub(crate) fn diff(desired: &DesiredOwnership, live: &LiveOwnership) -> DomainDiff<Operation> {
    let mut out = DomainDiff::default();
    for (database, wanted) in &desired.databases {
        let Some(found) = live.databases.get(database) else {
            continue;
        };
        let mut owned_by_app: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for object in &found.objects {
            match &wanted.owner {
                Some(owner)
                    if wanted.reassign_from.contains(&object.owner) && &object.owner != owner =>
                {
                    out.push(
                        Change::new(
                            object_address(database, object.keyword, &object.display),
                            Action::Update,
                        )
                        .attribute(AttributeChange::new(
                            "owner",
                            Some(Value::text(&object.owner)),
                            Some(Value::text(owner)),
                        ))
                        .reason(format!(
                            "`databases.{database}.reassign_owned_from` lists `{}`",
                            object.owner
                        ))
                        .with(Operation {
                            database: database.clone(),
                            keyword: object.keyword,
                            target: object.target.clone(),
                            owner: owner.clone(),
                        }),
                    );
                }
                _ if desired.dsn_roles.contains_key(&object.owner) => owned_by_app
                    .entry(&object.owner)
                    .or_default()
                    .push(&object.display),
                _ => {}
            }
        }
        for table in &found.rls_tables {
            let moving = wanted.owner.is_some() && wanted.reassign_from.contains(&table.owner);
            let bypasses = desired.dsn_roles.get(&table.owner) == Some(&false);
            if table.forced || moving || !bypasses {
                continue;
            }
            out.findings.push(
                Finding::new(
                    "ownership.rls",
                    FindingClass::Security,
                    super::ID
                        .address()
                        .word("rls")
                        .name(database)
                        .name(&table.display),
                    format!(
                        "table `{}` in `{database}` has row-level security enabled but not forced, and its owner `{}` is a role the application logs in as: owners bypass row-level security, so `{}` sees every row; run `ALTER TABLE {} FORCE ROW LEVEL SECURITY`, or move ownership to the migration role (`reassign_owned_from = [\"{}\"]` in `[databases.{database}]`)",
                        table.display, table.owner, table.owner, table.target, table.owner
                    ),
                )
                .detail("database", database.as_str())
                .detail("table", table.display.as_str())
                .detail("owner", table.owner.as_str()),
            );
        }
        for (role, objects) in owned_by_app {
            let shown: Vec<String> = objects.iter().take(3).map(|o| format!("`{o}`")).collect();
            let more = if objects.len() > 3 {
                format!(" and {} more", objects.len() - 3)
            } else {
                String::new()
            };
            out.findings.push(
                Finding::new(
                    "ownership.application_owner",
                    FindingClass::Security,
                    super::ID
                        .address()
                        .word("owner")
                        .name(database)
                        .word("role")
                        .name(role),
                    format!(
                        "`{role}`, a role the application logs in as, owns {} object(s) in `{database}` ({}{more}): an owner bypasses row-level security and can change or drop what it owns; move ownership to the migration role with `reassign_owned_from = [\"{role}\"]` in `[databases.{database}]`",
                        objects.len(),
                        shown.join(", ")
                    ),
                )
                .detail("database", database.as_str())
                .detail("owner", role)
                .detail("objects", objects.len()),
            );
        }
    }
    out
}

#[cfg(test)]
#[path = "diff_tests.rs"]
mod tests;
