//! `[[grants]]` resolved: scopes, privileges checked against the object kind,
//! default privileges. A DSN role keeps CONNECT on its own database even when
//! the file declares that database scope.

use std::collections::BTreeSet;

use super::desired::{DesiredGrant, DesiredGrants, Scope};
use super::diff::address;
use super::privilege::{self, noun, ObjectKind, Privilege};
use super::raw::RawGrant;
use crate::contract::facts::DeclaredRoles;
use crate::diagnostics::Resolver;
use crate::error::Result;

/// The grants, and the (role, database) pairs whose CONNECT a declared
/// database scope now governs (the PostgreSQL domain no longer grants it).
pub(crate) fn resolve(
    raw: &[RawGrant],
    roles: Option<&DeclaredRoles>,
    r: &mut Resolver<'_>,
) -> (DesiredGrants, BTreeSet<(String, String)>) {
    let mut grants = DesiredGrants::default();
    let mut governed = BTreeSet::new();
    for (index, grant) in raw.iter().enumerate() {
        let Some(desired) = r.check(resolve_one(index, grant, r)) else {
            continue;
        };
        let scope = desired.scope.clone();
        let mut desired = desired;
        if scope.on == ObjectKind::Database {
            let dsn_database = roles
                .and_then(|roles| roles.0.get(&scope.role))
                .and_then(|role| role.dsn.as_ref())
                .map(|(dsn, _)| dsn.database.clone());
            if dsn_database.as_deref() == Some(scope.database.as_str()) {
                desired.privileges.insert(Privilege::Connect);
                governed.insert((scope.role.clone(), scope.database.clone()));
            }
        }
        if grants.grants.contains_key(&scope) {
            let i = index.to_string();
            r.error(
                r.key(&["grants", &i, "role"])
                    .error(format!("declares `{}` a second time", address(&scope)))
                    .hint("merge the two entries into one"),
            );
            continue;
        }
        grants.grants.insert(scope, desired);
    }
    (grants, governed)
}

fn resolve_one(index: usize, grant: &RawGrant, r: &Resolver<'_>) -> Result<DesiredGrant> {
    let i = index.to_string();
    let key = |name: &str| r.key(&["grants", &i, name]);
    key("role").check_name(&grant.role, "role")?;
    key("database").check_name(&grant.database, "database")?;
    let schema = match (grant.on, &grant.schema) {
        (ObjectKind::Database, Some(_)) => {
            return Err(key("schema")
                .error("a database-level grant takes no schema")
                .hint("remove `schema`, or choose `on = \"schema\"` or an object kind"))
        }
        (ObjectKind::Database, None) => None,
        (_, None) => {
            return Err(key("on")
                .error(format!("`on = \"{}\"` needs a `schema`", noun(grant.on)))
                .hint("add `schema = \"public\"` (or the schema the objects live in)"))
        }
        (_, Some(schema)) => {
            key("schema").check_name(schema, "schema")?;
            Some(schema.clone())
        }
    };
    if grant.privileges.is_empty() {
        return Err(key("privileges").error("lists no privileges")
            .hint("list the privileges the role must hold; to revoke everything, list them in another scope or drop the grant"));
    }
    let mut privileges = BTreeSet::new();
    for (j, written) in grant.privileges.iter().enumerate() {
        let parsed = privilege::parse(grant.on, written).map_err(|why| {
            r.key(&["grants", &i, "privileges", &j.to_string()])
                .error(why)
        })?;
        privileges.extend(parsed);
    }
    let default_for = match (grant.default, &grant.for_role) {
        (true, _) if matches!(grant.on, ObjectKind::Database | ObjectKind::Schema) => {
            return Err(key("default").error(format!(
                "default privileges apply to tables, sequences or functions, not to {}",
                noun(grant.on)
            )))
        }
        (true, None) => {
            return Err(key("default")
                .error(
                    "default privileges need `for_role`, the role whose future objects they cover",
                )
                .hint("add `for_role = \"migrator\"` (the role your migrations run as)"))
        }
        (true, Some(creator)) => {
            key("for_role").check_name(creator, "role")?;
            Some(creator.clone())
        }
        (false, Some(_)) => return Err(key("for_role").error("only applies with `default = true`")),
        (false, None) => None,
    };
    Ok(DesiredGrant {
        scope: Scope {
            role: grant.role.clone(),
            database: grant.database.clone(),
            schema,
            on: grant.on,
        },
        privileges,
        default_for,
    })
}
