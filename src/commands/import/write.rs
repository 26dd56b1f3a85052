//! The starting `dbops.toml` import writes: commented, formatted like the
//! examples, and exactly what the cluster holds in the forms the file can
//! express, so that `plan` against the same cluster shows no change but the
//! passwords the user chooses to manage. What it cannot express is said in a
//! comment, never guessed.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use super::inventory::{Database, Inventory, Role};
use crate::domains::grants::live::{Acl, LiveDatabaseGrants};
use crate::domains::grants::privilege::{noun, valid, ObjectKind, Privilege};
use crate::util::credential::carries_credential;

/// A TOML key: bare when it can be, else a quoted string.
fn key(name: &str) -> String {
    let bare = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare {
        name.to_string()
    } else {
        string(name)
    }
}

/// A TOML basic string (JSON's escapes are TOML's).
fn string(value: &str) -> String {
    serde_json::Value::String(value.to_string()).to_string()
}

fn list(values: &[String]) -> String {
    let items: Vec<String> = values.iter().map(|v| string(v)).collect();
    format!("[{}]", items.join(", "))
}

/// An environment variable name for a role's password.
fn password_variable(role: &str) -> String {
    let mut name: String = role
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    name.push_str("_PASSWORD");
    name
}

/// What the file says about the cluster.
pub(crate) struct Options<'a> {
    /// DSN variables naming a role: role -> variable (`DATABASE_URL`).
    pub(crate) dsns: &'a BTreeMap<String, String>,
    pub(crate) command_line: String,
}

pub(crate) fn write(inventory: &Inventory, options: &Options<'_>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Written by `{}` from the live cluster, read-only.\n# Review it, then run `dbops plan`: against the same cluster it shows no change\n# but the passwords you choose to manage (dbops import never reads a password).",
        options.command_line
    );
    let _ = writeln!(
        out,
        "\n[postgres]\nadmin = {{ env = \"DATABASE_ROOT_URL\" }}"
    );
    for role in &inventory.roles {
        role_table(&mut out, role, options.dsns.get(&role.name));
    }
    for database in &inventory.databases {
        let _ = writeln!(
            out,
            "\n[databases.{}]\nowner = {}",
            key(&database.name),
            string(&database.owner)
        );
    }
    let roles: BTreeSet<String> = inventory.roles.iter().map(|r| r.name.clone()).collect();
    for database in &inventory.databases {
        if let Some(live) = inventory.grants.databases.get(&database.name) {
            let schemas = inventory
                .schemas
                .get(&database.name)
                .cloned()
                .unwrap_or_default();
            grants(&mut out, database, live, &roles, &schemas);
        }
    }
    if let Some(settings) = &inventory.settings {
        let mut last: BTreeMap<&str, &str> = BTreeMap::new();
        for (name, value) in settings {
            last.insert(name, value);
        }
        if !last.is_empty() {
            let _ = writeln!(
                out,
                "\n# From postgresql.auto.conf (ALTER SYSTEM).\n[server.settings]"
            );
            for (name, value) in last {
                // A credential is never written: a secret reference in its place.
                if carries_credential(value) {
                    let variable = setting_variable(name);
                    let _ = writeln!(
                        out,
                        "# `{name}` carries a credential, not copied here: export {variable} with its value.\n{} = {{ env = {} }}",
                        key(name),
                        string(&variable)
                    );
                } else {
                    let _ = writeln!(out, "{} = {}", key(name), string(value));
                }
            }
        }
    }
    out
}

/// The environment variable a setting's credential-carrying value is read
/// from: `DBOPS_SETTING_` and the name in capitals, other characters `_`.
fn setting_variable(name: &str) -> String {
    let upper: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("DBOPS_SETTING_{upper}")
}

fn role_table(out: &mut String, role: &Role, dsn: Option<&String>) {
    let _ = writeln!(out, "\n[roles.{}]", key(&role.name));
    match dsn {
        Some(variable) => {
            let _ = writeln!(out, "dsn = {{ env = {} }}", string(variable));
            if !role.attributes.login {
                let _ = writeln!(out, "login = false");
            }
        }
        None if role.attributes.login => {
            let _ = writeln!(out, "login = true");
            let _ = writeln!(
                out,
                "# Its password is not managed. To manage it, uncomment and export the variable:\n# password = {{ env = {} }}",
                string(&password_variable(&role.name))
            );
        }
        None => {}
    }
    let flags = [
        ("superuser", role.attributes.superuser, false),
        ("createdb", role.attributes.createdb, false),
        ("createrole", role.attributes.createrole, false),
        ("inherit", role.attributes.inherit, true),
        ("replication", role.attributes.replication, false),
        ("bypass_rls", role.attributes.bypass_rls, false),
    ];
    for (name, value, default) in flags {
        if value != default {
            let _ = writeln!(out, "{name} = {value}");
        }
    }
    if role.attributes.connection_limit != -1 {
        let _ = writeln!(
            out,
            "connection_limit = {}",
            role.attributes.connection_limit
        );
    }
    if let Some(until) = &role.attributes.valid_until {
        let _ = writeln!(out, "valid_until = {}", string(until));
    }
    if !role.member_of.is_empty() {
        let _ = writeln!(out, "member_of = {}", list(&role.member_of));
    }
}

fn privileges(on: ObjectKind, set: &BTreeSet<Privilege>) -> Vec<String> {
    let all = valid(on);
    if all.iter().all(|p| set.contains(p)) && set.len() == all.len() {
        return vec!["ALL".to_string()];
    }
    all.iter()
        .filter(|p| set.contains(*p))
        .map(|p| p.sql().to_string())
        .collect()
}

fn grant_entry(
    out: &mut String,
    role: &str,
    database: &str,
    schema: Option<&str>,
    on: ObjectKind,
    set: &BTreeSet<Privilege>,
    default_for: Option<&str>,
) {
    let _ = writeln!(
        out,
        "\n[[grants]]\nrole = {}\ndatabase = {}",
        string(role),
        string(database)
    );
    if let Some(schema) = schema {
        let _ = writeln!(out, "schema = {}", string(schema));
    }
    let _ = writeln!(out, "on = \"{}\"", noun(on));
    let _ = writeln!(out, "privileges = {}", list(&privileges(on, set)));
    if let Some(creator) = default_for {
        let _ = writeln!(out, "default = true\nfor_role = {}", string(creator));
    }
}

fn grants(
    out: &mut String,
    database: &Database,
    live: &LiveDatabaseGrants,
    roles: &BTreeSet<String>,
    schemas: &[String],
) {
    let acl_of = |acl: &Acl, role: &str| acl.get(role).cloned().unwrap_or_default();
    for role in roles {
        // The owner's privileges are its own, not grants.
        if role != &database.owner {
            let set = acl_of(&live.database_acl, role);
            if !set.is_empty() {
                grant_entry(
                    out,
                    role,
                    &database.name,
                    None,
                    ObjectKind::Database,
                    &set,
                    None,
                );
            }
        }
        for schema in schemas {
            if let Some(live_schema) = live.schemas.get(schema) {
                let set = acl_of(&live_schema.acl, role);
                if &live_schema.owner != role && !set.is_empty() {
                    grant_entry(
                        out,
                        role,
                        &database.name,
                        Some(schema),
                        ObjectKind::Schema,
                        &set,
                        None,
                    );
                }
            }
            for on in [
                ObjectKind::Tables,
                ObjectKind::Sequences,
                ObjectKind::Functions,
            ] {
                kind_grants(out, role, database, live, schema, on);
            }
        }
    }
}

/// One role's privileges on one kind of object in one schema: one scope
/// when every object holds the same (and the default privileges agree), a
/// comment saying why not otherwise.
fn kind_grants(
    out: &mut String,
    role: &String,
    database: &Database,
    live: &LiveDatabaseGrants,
    schema: &String,
    on: ObjectKind,
) {
    let empty = BTreeSet::new();
    let objects: Vec<&BTreeSet<Privilege>> = live
        .objects
        .iter()
        .filter(|o| &o.schema == schema && o.kind == on && &o.owner != role)
        .map(|o| o.acl.get(role).unwrap_or(&empty))
        .collect();
    let defaults: Vec<(&str, BTreeSet<Privilege>)> = live
        .defaults
        .iter()
        .filter(|d| &d.schema == schema && d.kind == on)
        .filter_map(|d| d.acl.get(role).map(|set| (d.creator.as_str(), set.clone())))
        .filter(|(_, set)| !set.is_empty())
        .collect();
    let uniform = objects.windows(2).all(|w| w[0] == w[1]);
    let on_objects = objects.first().cloned().cloned().unwrap_or_default();
    if !uniform {
        let _ = writeln!(
            out,
            "\n# Not imported: `{role}` holds different privileges on different {} of `{}`.`{schema}`;\n# a `[[grants]]` scope makes every object in it hold the same ones.",
            noun(on),
            database.name
        );
        return;
    }
    match defaults.as_slice() {
        [] if !on_objects.is_empty() => grant_entry(
            out,
            role,
            &database.name,
            Some(schema),
            on,
            &on_objects,
            None,
        ),
        [] => {}
        [(creator, set)] if objects.is_empty() || set == &on_objects => grant_entry(
            out,
            role,
            &database.name,
            Some(schema),
            on,
            set,
            Some(creator),
        ),
        _ => {
            let creators: Vec<String> = defaults.iter().map(|(c, _)| format!("`{c}`")).collect();
            if !on_objects.is_empty() {
                grant_entry(
                    out,
                    role,
                    &database.name,
                    Some(schema),
                    on,
                    &on_objects,
                    None,
                );
            }
            let _ = writeln!(
                out,
                "# Not imported: default privileges for `{role}` on {} in `{}`.`{schema}` by {} differ from those on the existing ones; a scope holds one set.",
                noun(on),
                database.name,
                creators.join(", ")
            );
        }
    }
}
