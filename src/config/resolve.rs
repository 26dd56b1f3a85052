//! From the raw document to the desired state: secret references resolved, DSNs
//! parsed and cross-checked, defaults filled in. Every error names the key and
//! where it is written; none quotes a secret or a DSN.

use std::collections::{BTreeMap, BTreeSet};

use super::raw::{GrantOn, RawConfig, RawRole};
use super::secret_ref::SecretRef;
use super::source::SourceFile;
use crate::dsn::Dsn;
use crate::error::{Error, Result};
use crate::grants::desired::{DesiredGrant, DesiredGrants, Scope};
use crate::grants::diff::address as grants_address;
use crate::grants::privilege::{self, noun};
use crate::postgres::desired::{DesiredDatabase, DesiredPostgres, DesiredRole, RoleAttributes};
use crate::settings::archive;
use crate::settings::desired::{DesiredSetting, DesiredSettings, Origin};

/// Everything the file declares, resolved.
#[derive(Debug, Clone)]
pub struct DesiredState {
    pub admin: Dsn,
    /// `$DATABASE_ROOT_URL`-style name of where the admin DSN came from.
    pub admin_source: String,
    pub postgres: DesiredPostgres,
    pub grants: DesiredGrants,
    pub settings: DesiredSettings,
}

/// PostgreSQL's identifier limit (NAMEDATALEN - 1), in bytes.
const MAX_NAME_BYTES: usize = 63;

pub fn resolve(raw: &RawConfig, source: &SourceFile) -> Result<(DesiredState, Vec<String>)> {
    let mut warnings = Vec::new();
    let admin_ref = &raw.postgres.admin;
    let admin = resolve_dsn(admin_ref, source, &["postgres", "admin"])?;

    let mut roles = BTreeMap::new();
    let mut databases: BTreeMap<String, DesiredDatabase> = BTreeMap::new();
    for (name, role) in &raw.roles {
        let desired = resolve_role(name, role, source, &admin, admin_ref)?;
        if let Some(dsn) = &desired.dsn {
            databases
                .entry(dsn.database.clone())
                .or_insert_with(|| DesiredDatabase {
                    name: dsn.database.clone(),
                    ..Default::default()
                })
                .connect
                .insert(name.clone());
        }
        roles.insert(name.clone(), desired);
    }
    for (name, database) in &raw.databases {
        let at = source.locate(&["databases", name]);
        check_name(name, "database", at.clone())?;
        let entry = databases
            .entry(name.clone())
            .or_insert_with(|| DesiredDatabase {
                name: name.clone(),
                ..Default::default()
            });
        if let Some(owner) = &database.owner {
            let at = source.locate(&["databases", name, "owner"]);
            check_name(owner, "owner", at)?;
            entry.owner = Some(owner.clone());
        }
    }
    let grants = resolve_grants(raw, source, &roles, &mut databases)?;
    let settings = resolve_settings(raw, source, &mut warnings)?;
    let desired = DesiredState {
        admin,
        admin_source: admin_ref.source_name(),
        postgres: DesiredPostgres { roles, databases },
        grants,
        settings,
    };
    Ok((desired, warnings))
}

fn resolve_grants(
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

fn resolve_settings(
    raw: &RawConfig,
    source: &SourceFile,
    warnings: &mut Vec<String>,
) -> Result<DesiredSettings> {
    let mut desired = DesiredSettings::default();
    if let Some(server) = &raw.server {
        desired.prune = server.prune;
        desired.restart_command = server.restart_command.clone();
        for (name, value) in &server.settings {
            let at = source.locate(&["server", "settings", name]);
            let lower = name.to_ascii_lowercase();
            if lower.is_empty()
                || !lower
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
            {
                return Err(Error::new(format!("`{name}` is not a setting name")).at(at));
            }
            if desired.settings.contains_key(&lower) {
                return Err(Error::new(format!(
                    "setting `{lower}` is written twice (names are case-insensitive)"
                ))
                .at(at));
            }
            desired.settings.insert(
                lower.clone(),
                DesiredSetting {
                    name: lower,
                    value: value.to_config_text(),
                    origin: Origin::File,
                },
            );
        }
    }
    if let Some(backup) = &raw.backup {
        let rpo = humantime::parse_duration(&backup.rpo).map_err(|e| {
            Error::new(format!(
                "key `backup.rpo`: `{}` is not a duration ({e})",
                backup.rpo
            ))
            .at(source.locate(&["backup", "rpo"]))
            .hint("write e.g. `5m` or `1h`")
        })?;
        for (name, value) in archive::derive(backup, rpo) {
            desired
                .settings
                .entry(name.clone())
                .or_insert(DesiredSetting {
                    name,
                    value,
                    origin: Origin::Backup,
                });
        }
        let effective: BTreeMap<String, String> = desired
            .settings
            .iter()
            .map(|(k, v)| (k.clone(), v.value.clone()))
            .collect();
        for lint in archive::lint(&backup.rpo, rpo, &effective) {
            let at = match desired.settings.get(lint.setting).map(|s| s.origin) {
                Some(Origin::File) => source.locate(&["server", "settings", lint.setting]),
                _ => source.locate(&["backup"]),
            };
            if lint.error {
                return Err(Error::new(lint.message).at(at).hint(
                    "fix the setting, or remove `[backup]` if this server is not backed up",
                ));
            }
            let prefix = at.map(|l| format!("{l}: ")).unwrap_or_default();
            warnings.push(format!("{prefix}{}", lint.message));
        }
    }
    Ok(desired)
}

fn resolve_dsn(reference: &SecretRef, source: &SourceFile, path: &[&str]) -> Result<Dsn> {
    let at = source.locate(path);
    let key = path.join(".");
    let secret = reference.resolve().map_err(|e| {
        let error = Error::new(format!("key `{key}`: {e}")).at(at.clone());
        match reference {
            SecretRef::Env(name) => error.hint(format!("export `{name}` before running dbops")),
            SecretRef::File(_) => error.hint("check the path and that dbops may read it"),
        }
    })?;
    use secrecy::ExposeSecret;
    Dsn::parse(secret.expose_secret()).map_err(|e| {
        Error::new(format!(
            "key `{key}`: the DSN in `{}` is {}",
            reference.source_name(),
            e.to_string().trim_start_matches("the URL ")
        ))
        .at(at)
        .hint("expected `postgres://USER:PASSWORD@HOST:PORT/DATABASE`, with reserved characters in the user and password percent-encoded")
    })
}

fn resolve_role(
    name: &str,
    role: &RawRole,
    source: &SourceFile,
    admin: &Dsn,
    admin_ref: &SecretRef,
) -> Result<DesiredRole> {
    let role_at = source.locate(&["roles", name]);
    check_name(name, "role", role_at.clone())?;
    if name.starts_with("pg_") {
        return Err(Error::new(format!(
            "role `{name}`: names beginning with `pg_` are reserved for PostgreSQL's built-in roles"
        ))
        .at(role_at));
    }

    let (dsn, password) = match (&role.dsn, &role.password) {
        (Some(_), Some(_)) => {
            return Err(Error::new(format!(
                "role `{name}` sets both `dsn` and `password`; the DSN already carries the password"
            ))
            .at(source.locate(&["roles", name, "password"]))
            .hint("keep `dsn` and remove `password`"))
        }
        (Some(reference), None) => {
            let path = ["roles", name, "dsn"];
            let dsn = resolve_dsn(reference, source, &path)?;
            let at = source.locate(&path);
            if dsn.user != name {
                return Err(Error::new(format!(
                    "role `{name}`: the DSN in `{}` is for user `{}`, not `{name}`",
                    reference.source_name(),
                    dsn.user
                ))
                .at(at)
                .hint(format!(
                    "rename the table to `[roles.{}]` or point `dsn` at the DSN of `{name}`",
                    dsn.user
                )));
            }
            if dsn.user == admin.user {
                let mut error = Error::new(format!(
                    "role `{name}` is the admin user of `{}`; dbops connects as the admin and does not manage it",
                    admin_ref.source_name()
                ))
                .at(at.clone());
                if !dsn.same_password(admin) {
                    error = error.cause(format!(
                        "`{}` and `{}` name the same user with different passwords",
                        admin_ref.source_name(),
                        reference.source_name()
                    ));
                }
                return Err(error.hint("give the application its own role"));
            }
            let login = role.login.unwrap_or(true);
            if dsn.password().is_none() && login {
                return Err(Error::new(format!(
                    "role `{name}`: the DSN in `{}` has no password, and `{name}` is a login role",
                    reference.source_name()
                ))
                .at(at)
                .hint("put the password in the DSN, percent-encoded: `postgres://USER:PASSWORD@HOST/DATABASE`"));
            }
            check_name(&dsn.database, "database", at)?;
            let password = dsn.password().cloned();
            (Some(dsn), password)
        }
        (None, Some(reference)) => {
            let at = source.locate(&["roles", name, "password"]);
            let secret = reference
                .resolve()
                .map_err(|e| Error::new(format!("key `roles.{name}.password`: {e}")).at(at))?;
            (None, Some(secret))
        }
        (None, None) => (None, None),
    };

    let connection_limit = role.connection_limit.unwrap_or(-1);
    if connection_limit < -1 {
        return Err(Error::new(format!(
            "key `roles.{name}.connection_limit`: {connection_limit} is not a connection limit"
        ))
        .at(source.locate(&["roles", name, "connection_limit"]))
        .hint("use a number of connections, or -1 for no limit"));
    }
    let valid_until = match &role.valid_until {
        None => None,
        Some(text) => normalize_valid_until(text).map_err(|why| {
            Error::new(format!("key `roles.{name}.valid_until`: {why}"))
                .at(source.locate(&["roles", name, "valid_until"]))
                .hint("write an RFC 3339 UTC timestamp such as `2027-01-01T00:00:00Z`, a date such as `2027-01-01`, or `infinity`")
        })?,
    };

    let mut member_of = BTreeSet::new();
    for (index, group) in role.member_of.iter().flatten().enumerate() {
        let at = source.locate(&["roles", name, "member_of", &index.to_string()]);
        check_name(group, "role", at.clone())?;
        if group == name {
            return Err(Error::new(format!("role `{name}` cannot be a member of itself")).at(at));
        }
        member_of.insert(group.clone());
    }

    let has_password = password.is_some();
    Ok(DesiredRole {
        name: name.to_string(),
        attributes: RoleAttributes {
            login: role.login.unwrap_or(has_password || dsn.is_some()),
            superuser: role.superuser.unwrap_or(false),
            createdb: role.createdb.unwrap_or(false),
            createrole: role.createrole.unwrap_or(false),
            inherit: role.inherit.unwrap_or(true),
            replication: role.replication.unwrap_or(false),
            bypass_rls: role.bypass_rls.unwrap_or(false),
            connection_limit,
            valid_until,
        },
        password,
        dsn,
        member_of,
    })
}

fn check_name(name: &str, what: &str, at: Option<crate::error::Location>) -> Result<()> {
    if name.is_empty() {
        return Err(Error::new(format!("a {what} name cannot be empty")).at(at));
    }
    if name.len() > MAX_NAME_BYTES {
        return Err(Error::new(format!(
            "{what} name `{name}` is {} bytes long; PostgreSQL allows at most {MAX_NAME_BYTES}",
            name.len()
        ))
        .at(at));
    }
    if name.contains('\0') {
        return Err(Error::new(format!("{what} name contains a NUL byte")).at(at));
    }
    Ok(())
}

/// `infinity` -> `None`; a date or RFC 3339 UTC timestamp -> `YYYY-MM-DDTHH:MM:SSZ`.
pub fn normalize_valid_until(text: &str) -> std::result::Result<Option<String>, String> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("infinity") {
        return Ok(None);
    }
    let utc = if text.len() == 10 {
        Some(format!("{text}T00:00:00"))
    } else {
        text.strip_suffix('Z')
            .or_else(|| text.strip_suffix("+00:00"))
            .map(str::to_string)
    };
    let time = utc
        .and_then(|t| humantime::parse_rfc3339_weak(&t).ok())
        .ok_or_else(|| format!("`{text}` is not a UTC timestamp"))?;
    Ok(Some(humantime::format_rfc3339_seconds(time).to_string()))
}

#[cfg(test)]
mod tests {
    use super::normalize_valid_until;

    #[test]
    fn valid_until_normalizes() {
        assert_eq!(normalize_valid_until("infinity").unwrap(), None);
        assert_eq!(
            normalize_valid_until("2027-01-01").unwrap().as_deref(),
            Some("2027-01-01T00:00:00Z")
        );
        assert_eq!(
            normalize_valid_until("2027-01-01T10:20:30Z")
                .unwrap()
                .as_deref(),
            Some("2027-01-01T10:20:30Z")
        );
        assert_eq!(
            normalize_valid_until("2027-01-01T10:20:30+00:00")
                .unwrap()
                .as_deref(),
            Some("2027-01-01T10:20:30Z")
        );
        assert!(normalize_valid_until("2027-01-01T10:20:30+02:00").is_err());
        assert!(normalize_valid_until("2027-01-01T10:20:30").is_err());
        assert!(normalize_valid_until("next week").is_err());
    }
}
