//! `[[grants]]`: scopes, privileges checked against the object kind, default privileges.

use super::*;

pub(super) fn resolve_grants(
    raw: &RawConfig,
    source: &SourceFile,
    roles: &BTreeMap<String, DesiredRole>,
    databases: &mut BTreeMap<String, DesiredDatabase>,
) -> Result<DesiredGrants> {
    let mut grants = DesiredGrants::default();
    for (index, grant) in raw.grants.iter().enumerate() {
        let i = index.to_string();
        let at = |key: &str| source.locate(&["grants", &i, key]);
        let key = |name: &str| format!("key `grants[{index}].{name}`");
        check_name(&grant.role, "role", at("role"))?;
        check_name(&grant.database, "database", at("database"))?;
        let schema = match (grant.on, &grant.schema) {
            (GrantOn::Database, Some(_)) => {
                return Err(Error::new(format!(
                    "{}: a database-level grant takes no schema",
                    key("schema")
                ))
                .at(at("schema"))
                .hint("remove `schema`, or choose `on = \"schema\"` or an object kind"))
            }
            (GrantOn::Database, None) => None,
            (_, None) => {
                return Err(Error::new(format!(
                    "grants[{index}]: `on = \"{}\"` needs a `schema`",
                    noun(grant.on)
                ))
                .at(at("on"))
                .hint("add `schema = \"public\"` (or the schema the objects live in)"))
            }
            (_, Some(schema)) => {
                check_name(schema, "schema", at("schema"))?;
                Some(schema.clone())
            }
        };
        if grant.privileges.is_empty() {
            return Err(Error::new(format!("{}: lists no privileges", key("privileges")))
                .at(at("privileges"))
                .hint("list the privileges the role must hold; to revoke everything, list them in another scope or drop the grant"));
        }
        let mut privileges = BTreeSet::new();
        for (j, written) in grant.privileges.iter().enumerate() {
            let parsed = privilege::parse(grant.on, written).map_err(|why| {
                Error::new(format!("{}: {why}", key("privileges"))).at(source.locate(&[
                    "grants",
                    &i,
                    "privileges",
                    &j.to_string(),
                ]))
            })?;
            privileges.extend(parsed.into_iter().map(str::to_string));
        }
        let default_for = match (grant.default, &grant.for_role) {
            (true, _) if matches!(grant.on, GrantOn::Database | GrantOn::Schema) => {
                return Err(Error::new(format!(
                    "{}: default privileges apply to tables, sequences or functions, not to {}",
                    key("default"),
                    noun(grant.on)
                ))
                .at(at("default")))
            }
            (true, None) => {
                return Err(Error::new(format!(
                "{}: default privileges need `for_role`, the role whose future objects they cover",
                key("default")
            ))
                .at(at("default"))
                .hint("add `for_role = \"migrator\"` (the role your migrations run as)"))
            }
            (true, Some(creator)) => {
                check_name(creator, "role", at("for_role"))?;
                Some(creator.clone())
            }
            (false, Some(_)) => {
                return Err(Error::new(format!(
                    "{}: only applies with `default = true`",
                    key("for_role")
                ))
                .at(at("for_role")))
            }
            (false, None) => None,
        };
        let scope = Scope {
            role: grant.role.clone(),
            database: grant.database.clone(),
            schema,
            on: grant.on,
        };
        // A DSN role keeps CONNECT on its own database even when the scope is declared.
        if grant.on == GrantOn::Database {
            let dsn_database = roles
                .get(&grant.role)
                .and_then(|r| r.dsn.as_ref())
                .map(|d| d.database.clone());
            if dsn_database.as_deref() == Some(grant.database.as_str()) {
                privileges.insert("CONNECT".to_string());
                if let Some(database) = databases.get_mut(&grant.database) {
                    database.connect.remove(&grant.role);
                }
            }
        }
        let desired = DesiredGrant {
            scope: scope.clone(),
            privileges,
            default_for,
        };
        if grants.grants.insert(scope.clone(), desired).is_some() {
            return Err(Error::new(format!(
                "grants[{index}] declares `{}` a second time",
                grants_address(&scope)
            ))
            .at(at("role"))
            .hint("merge the two entries into one"));
        }
    }
    Ok(grants)
}
