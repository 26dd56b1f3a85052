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
        // Tables whose row-level security their owner, an application role
        // under it, bypasses: told inside that role's one finding.
        let mut rls_by_owner: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for table in &found.rls_tables {
            let moving = wanted.owner.is_some() && wanted.reassign_from.contains(&table.owner);
            let bypasses = desired.dsn_roles.get(&table.owner) == Some(&false);
            if table.forced || moving || !bypasses {
                continue;
            }
            rls_by_owner
                .entry(&table.owner)
                .or_default()
                .push(&table.display);
            owned_by_app.entry(&table.owner).or_default();
        }
        for (role, objects) in owned_by_app {
            let rls = rls_by_owner.get(role).cloned().unwrap_or_default();
            out.findings
                .push(application_owner(database, role, &objects, &rls));
        }
    }
    out
}

/// One finding per application role that owns objects in a database:
/// what it owns, and the tables whose row-level security it bypasses.
fn application_owner(database: &str, role: &str, objects: &[&str], rls: &[&str]) -> Finding {
    let shown = |list: &[&str]| -> String {
        let mut text: Vec<String> = list.iter().take(3).map(|o| format!("`{o}`")).collect();
        if list.len() > 3 {
            text.push(format!("and {} more", list.len() - 3));
        }
        text.join(", ")
    };
    let count = objects.len().max(rls.len());
    let mut message = format!(
        "`{role}`, a role the application logs in as, owns {count} object(s) in `{database}` ({}): an owner bypasses row-level security and can change or drop what it owns",
        shown(if objects.is_empty() { rls } else { objects })
    );
    if !rls.is_empty() {
        message.push_str(&format!(
            "; {} of them ({}) have row-level security enabled but not forced, so `{role}` sees every row (`ALTER TABLE ... FORCE ROW LEVEL SECURITY` closes that)",
            rls.len(),
            shown(rls)
        ));
    }
    message.push_str(&format!(
        "; move ownership to the migration role with `reassign_owned_from = [\"{role}\"]` in `[databases.{database}]`"
    ));
    let mut finding = Finding::new(
        "security.application_owner",
        FindingClass::Security,
        super::ID
            .address()
            .word("owner")
            .name(database)
            .word("role")
            .name(role),
        message,
    )
    .detail("database", database)
    .detail("owner", role)
    .detail("objects", count);
    if !rls.is_empty() {
        finding = finding.detail("rls_tables", rls.join(","));
    }
    finding
}

#[cfg(test)]
#[path = "diff_tests.rs"]
mod tests;
