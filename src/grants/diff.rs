//! The grants diff: pure. For each declared scope, every object in it must hold
//! exactly the listed privileges for the role: missing ones are granted, others
//! revoked. Objects the role owns are skipped (an owner's rights are not grants);
//! nothing outside a declared scope is looked at.

use std::collections::BTreeSet;

use super::desired::{DesiredGrant, DesiredGrants, Scope};
use super::live::{LiveDatabaseGrants, LiveGrants};
use super::privilege::{noun, object_keyword, valid};
use crate::config::raw::GrantOn;
use crate::error::{Error, Result};
use crate::plan::{
    address_segment as seg, Action, AttributeChange, Change, Operation as PlanOperation, Value,
};
use crate::postgres::quote::ident;

/// The statements for one scope, run in the scope's database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    pub database: String,
    pub statements: Vec<String>,
}

pub fn address(scope: &Scope) -> String {
    match &scope.schema {
        None => format!(
            "postgres.grant.{}.{}.database",
            seg(&scope.role),
            seg(&scope.database)
        ),
        Some(schema) => format!(
            "postgres.grant.{}.{}.{}.{}",
            seg(&scope.role),
            seg(&scope.database),
            seg(schema),
            noun(scope.on)
        ),
    }
}

/// What the diff needs to know about roles and databases from other domains.
pub struct Context<'a> {
    /// Whether a role exists or will exist after the role changes.
    pub role_exists: &'a dyn Fn(&str) -> bool,
    /// Databases the PostgreSQL domain creates in this apply.
    pub created_databases: &'a BTreeSet<String>,
}

pub fn diff(
    desired: &DesiredGrants,
    live: &LiveGrants,
    context: &Context<'_>,
) -> Result<Vec<Change>> {
    let mut changes = Vec::new();
    for grant in desired.grants.values() {
        let scope = &grant.scope;
        for role in std::iter::once(&scope.role).chain(grant.default_for.iter()) {
            if !(context.role_exists)(role) {
                return Err(Error::new(format!(
                    "`{}` names role `{role}`, which neither exists nor is declared",
                    address(scope)
                ))
                .hint(format!("declare it as `[roles.{role}]`, or fix the name")));
            }
        }
        let empty = LiveDatabaseGrants::default();
        let database = live.databases.get(&scope.database).unwrap_or(&empty);
        if !database.exists && !context.created_databases.contains(&scope.database) {
            return Err(Error::new(format!(
                "`{}` names database `{}`, which neither exists nor is declared",
                address(scope),
                scope.database
            ))
            .hint(format!(
                "declare it as `[databases.{}]`, or fix the name",
                scope.database
            )));
        }
        if let Some(change) = scope_change(grant, database)? {
            changes.push(change);
        }
    }
    Ok(changes)
}

fn ordered(on: GrantOn, set: &BTreeSet<String>) -> Vec<String> {
    let mut list: Vec<String> = valid(on)
        .iter()
        .filter(|p| set.contains(**p))
        .map(|p| p.to_string())
        .collect();
    list.extend(
        set.iter()
            .filter(|p| !valid(on).contains(&p.as_str()))
            .cloned(),
    );
    list
}

struct Builder<'a> {
    grant: &'a DesiredGrant,
    attributes: Vec<AttributeChange>,
    statements: Vec<String>,
    any_before: bool,
}

impl Builder<'_> {
    /// Compares one object's privileges and records what must change.
    /// `prefix` precedes GRANT/REVOKE (`ALTER DEFAULT PRIVILEGES ... `); `on`
    /// names the object (`ON TABLE public.t`, `ON TABLES`).
    fn object(&mut self, name: &str, prefix: &str, on_clause: &str, have: &BTreeSet<String>) {
        let want = &self.grant.privileges;
        let on = self.grant.scope.on;
        if !have.is_empty() {
            self.any_before = true;
        }
        if have == want {
            return;
        }
        let role = ident(&self.grant.scope.role);
        let missing: BTreeSet<String> = want.difference(have).cloned().collect();
        let extra: BTreeSet<String> = have.difference(want).cloned().collect();
        if !missing.is_empty() {
            self.statements.push(format!(
                "{prefix}GRANT {} {on_clause} TO {role}",
                ordered(on, &missing).join(", ")
            ));
        }
        if !extra.is_empty() {
            self.statements.push(format!(
                "{prefix}REVOKE {} {on_clause} FROM {role}",
                ordered(on, &extra).join(", ")
            ));
        }
        self.attributes.push(AttributeChange::new(
            name,
            Some(Value::List(ordered(on, have))),
            Some(Value::List(ordered(on, want))),
        ));
    }
}

fn scope_change(grant: &DesiredGrant, live: &LiveDatabaseGrants) -> Result<Option<Change>> {
    let scope = &grant.scope;
    let role = &scope.role;
    let mut builder = Builder {
        grant,
        attributes: Vec::new(),
        statements: Vec::new(),
        any_before: false,
    };
    let none = BTreeSet::new();
    match (&scope.schema, scope.on) {
        (None, _) => {
            let have = live.database_acl.get(role).unwrap_or(&none);
            builder.object(
                "privileges",
                "",
                &format!("ON DATABASE {}", ident(&scope.database)),
                have,
            );
        }
        (Some(schema), on) => {
            let schema_live = live.schemas.get(schema);
            // A database created by this apply starts with only `public`.
            let assumed = schema == "public" && !live.exists;
            if schema_live.is_none() && !assumed {
                return Err(Error::new(format!(
                    "`{}`: schema `{schema}` does not exist in database `{}`",
                    address(scope),
                    scope.database
                ))
                .hint("create the schema first (for example in a migration); dbops manages privileges, not schemas"));
            }
            if on == GrantOn::Schema {
                let have = schema_live.and_then(|s| s.acl.get(role)).unwrap_or(&none);
                builder.object(
                    "privileges",
                    "",
                    &format!("ON SCHEMA {}", ident(schema)),
                    have,
                );
            } else {
                for object in live
                    .objects
                    .iter()
                    .filter(|o| &o.schema == schema && o.kind == noun(on) && &o.owner != role)
                {
                    let have = object.acl.get(role).unwrap_or(&none);
                    let clause = format!("ON {} {}", object_keyword(on), object.target);
                    builder.object(&object.display, "", &clause, have);
                }
                if let Some(creator) = &grant.default_for {
                    let have = live
                        .default_acl(creator, schema, noun(on))
                        .and_then(|acl| acl.get(role))
                        .unwrap_or(&none);
                    let prefix = format!(
                        "ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} ",
                        ident(creator),
                        ident(schema)
                    );
                    let clause = format!("ON {}", noun(on).to_uppercase());
                    builder.object(
                        &format!("default for objects created by {creator}"),
                        &prefix,
                        &clause,
                        have,
                    );
                }
            }
        }
    }
    if builder.statements.is_empty() {
        return Ok(None);
    }
    let action = if builder.any_before {
        Action::Update
    } else {
        Action::Create
    };
    let mut change = Change::new(
        address(scope),
        action,
        PlanOperation::Grants(Operation {
            database: scope.database.clone(),
            statements: builder.statements,
        }),
    );
    change.attributes = builder.attributes;
    Ok(Some(change))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::grants::live::LiveObject;

    fn grant(on: GrantOn, privileges: &[&str], default_for: Option<&str>) -> DesiredGrant {
        DesiredGrant {
            scope: Scope {
                role: "app_user".into(),
                database: "app".into(),
                schema: (on != GrantOn::Database).then(|| "public".into()),
                on,
            },
            privileges: privileges.iter().map(|p| p.to_string()).collect(),
            default_for: default_for.map(str::to_string),
        }
    }

    fn acl(role: &str, privileges: &[&str]) -> BTreeMap<String, BTreeSet<String>> {
        BTreeMap::from([(
            role.to_string(),
            privileges.iter().map(|p| p.to_string()).collect(),
        )])
    }

    fn operation(change: &Change) -> &Operation {
        match &change.operation {
            PlanOperation::Grants(op) => op,
            _ => unreachable!(),
        }
    }

    #[test]
    fn tables_get_missing_privileges_and_lose_extra_ones() {
        let mut live = LiveDatabaseGrants {
            exists: true,
            ..Default::default()
        };
        live.schemas.insert(
            "public".into(),
            super::super::live::LiveSchema {
                owner: "pg_database_owner".into(),
                acl: BTreeMap::new(),
            },
        );
        let table = |name: &str, owner: &str, privileges: &[&str]| LiveObject {
            schema: "public".into(),
            kind: "tables".into(),
            display: format!("public.{name}"),
            target: format!("public.{name}"),
            owner: owner.into(),
            acl: acl("app_user", privileges),
        };
        live.objects = vec![
            table("done", "migrator", &["SELECT", "INSERT"]),
            table("extra", "migrator", &["SELECT", "INSERT", "TRUNCATE"]),
            table("missing", "migrator", &[]),
            table(
                "owned",
                "app_user",
                &["SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE"],
            ),
        ];
        let change = scope_change(
            &grant(GrantOn::Tables, &["SELECT", "INSERT"], Some("migrator")),
            &live,
        )
        .unwrap()
        .unwrap();
        assert_eq!(change.address, "postgres.grant.app_user.app.public.tables");
        assert_eq!(change.action, Action::Update);
        assert_eq!(
            operation(&change).statements,
            vec![
                "REVOKE TRUNCATE ON TABLE public.extra FROM \"app_user\"",
                "GRANT SELECT, INSERT ON TABLE public.missing TO \"app_user\"",
                "ALTER DEFAULT PRIVILEGES FOR ROLE \"migrator\" IN SCHEMA \"public\" GRANT SELECT, INSERT ON TABLES TO \"app_user\"",
            ]
        );
        let names: Vec<&str> = change.attributes.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(
            names,
            vec![
                "public.extra",
                "public.missing",
                "default for objects created by migrator"
            ]
        );
    }

    #[test]
    fn a_matching_scope_is_no_change() {
        let live = LiveDatabaseGrants {
            exists: true,
            database_acl: acl("app_user", &["CONNECT", "TEMPORARY"]),
            ..Default::default()
        };
        assert_eq!(
            scope_change(
                &grant(GrantOn::Database, &["CONNECT", "TEMPORARY"], None),
                &live
            )
            .unwrap(),
            None
        );
        let change = scope_change(&grant(GrantOn::Database, &["CONNECT"], None), &live)
            .unwrap()
            .unwrap();
        assert_eq!(
            operation(&change).statements,
            vec!["REVOKE TEMPORARY ON DATABASE \"app\" FROM \"app_user\""]
        );
    }

    #[test]
    fn a_missing_schema_is_an_error_and_a_new_database_has_public() {
        let live = LiveDatabaseGrants {
            exists: true,
            ..Default::default()
        };
        let error = scope_change(&grant(GrantOn::Schema, &["USAGE"], None), &live).unwrap_err();
        assert!(error
            .message()
            .contains("schema `public` does not exist in database `app`"));
        let new = LiveDatabaseGrants::default();
        let change = scope_change(&grant(GrantOn::Schema, &["USAGE"], None), &new)
            .unwrap()
            .unwrap();
        assert_eq!(change.action, Action::Create);
    }
}
