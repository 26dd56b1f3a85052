//! `dbops import`: write a starting `dbops.toml` from a live cluster, for a
//! deployment a provision script built. Connects with `DATABASE_ROOT_URL`
//! (there is no dbops.toml yet) over a read-only session, never reads a
//! password, and writes nothing when anything fails: an existing output file
//! without `--force`, an unreachable server, a pattern that matches nothing.

mod inventory;
mod write;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use secrecy::ExposeSecret;

use super::ExitStatus;
use crate::cli::Settings;
use crate::dsn::Dsn;
use crate::error::{Error, Errors, Result};
use crate::pg::connect::{connect, Access};
use crate::pg::databases::{Databases, Opened};
use crate::printer::Printer;
use crate::secret::SecretRef;
use crate::util::files::write_atomic;

pub(crate) struct Options {
    pub(crate) out: Option<PathBuf>,
    pub(crate) force: bool,
    pub(crate) roles: Vec<String>,
    pub(crate) databases: Vec<String>,
    pub(crate) settings: bool,
}

/// The database `initdb` creates for maintenance, not imported by default.
const MAINTENANCE_DATABASE: &str = "postgres";

/// `*` any run of characters, `?` one character; everything else literal.
pub(crate) fn glob_match(pattern: &str, text: &str) -> bool {
    fn matches(p: &[char], t: &[char]) -> bool {
        match (p.first(), t.first()) {
            (None, None) => true,
            (Some('*'), _) => matches(&p[1..], t) || (!t.is_empty() && matches(p, &t[1..])),
            (Some('?'), Some(_)) => matches(&p[1..], &t[1..]),
            (Some(a), Some(b)) if a == b => matches(&p[1..], &t[1..]),
            _ => false,
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    matches(&p, &t)
}

fn env_dsn(variable: &str) -> Result<Option<Dsn>> {
    let reference = SecretRef::Env(variable.to_string());
    match reference.resolve() {
        Err(crate::secret::SecretError::EnvMissing(_)) => Ok(None),
        Err(e) => Err(Error::config(e.to_string()).hint(reference.hint())),
        Ok(secret) => Dsn::parse(secret.expose_secret()).map(Some).map_err(|e| {
            Error::config(format!("the DSN in `${variable}` {e}"))
                .hint("expected `postgres://USER:PASSWORD@HOST:PORT/DATABASE`")
        }),
    }
}

pub(crate) async fn run(
    settings: &Settings,
    printer: &Printer,
    options: &Options,
) -> Result<ExitStatus, Errors> {
    if let Some(out) = &options.out {
        if !options.force && std::fs::symlink_metadata(out).is_ok() {
            return Err(Error::config(format!(
                "`{}` already exists; dbops import does not overwrite it",
                out.display()
            ))
            .hint("choose another `--out`, or pass `--force` to replace it")
            .into());
        }
    }
    let admin = env_dsn("DATABASE_ROOT_URL")?.ok_or_else(|| {
        Error::config("dbops import connects with `DATABASE_ROOT_URL`, which is not set")
            .hint("export the admin DSN as `DATABASE_ROOT_URL`; the written file refers to it")
    })?;
    let client = connect(&admin, Access::ReadOnly, settings.connect_timeout).await?;
    let (current_user, roles, databases) = inventory::cluster(&client).await?;

    let mut dsns: BTreeMap<String, String> = BTreeMap::new();
    for variable in ["DATABASE_URL", "DATABASE_SERVICE_URL"] {
        if let Some(dsn) = env_dsn(variable)? {
            dsns.entry(dsn.user.clone()).or_insert(variable.to_string());
        }
    }

    let roles = select_roles(roles, options, |role| {
        role.bootstrap || role.name == current_user || role.name == admin.user
    })?;
    let databases = select_databases(databases, options)?;
    let role_names: BTreeSet<String> = roles.iter().map(|r| r.name.clone()).collect();
    let database_names: Vec<String> = databases.iter().map(|d| d.name.clone()).collect();
    let opened = Opened::default();
    let sessions = Databases {
        client: &client,
        admin: &admin,
        access: Access::ReadOnly,
        timeout: settings.connect_timeout,
        opened: &opened,
    };
    let (grants, schemas) = inventory::privileges(&sessions, &role_names, &database_names).await?;
    let auto_conf = if options.settings {
        Some(inventory::settings(&client).await?)
    } else {
        None
    };
    let inventory = inventory::Inventory {
        roles,
        databases,
        grants,
        schemas,
        settings: auto_conf,
    };
    let dsns: BTreeMap<String, String> = dsns
        .into_iter()
        .filter(|(role, _)| role_names.contains(role))
        .collect();
    let text = write::write(
        &inventory,
        &write::Options {
            dsns: &dsns,
            command_line: command_line(options),
        },
    );
    match &options.out {
        None => printer.out(&text),
        Some(out) => {
            write_atomic(out, text.as_bytes(), 0o644, None)?;
            printer.note(&format!(
                "Wrote `{}`: {} role(s), {} database(s). Review it, then run `dbops plan -f {}`.",
                out.display(),
                inventory.roles.len(),
                inventory.databases.len(),
                out.display()
            ));
        }
    }
    Ok(ExitStatus::Success)
}

/// The roles `--roles` selects, never those `excluded`; every pattern must match one.
fn select_roles(
    roles: Vec<inventory::Role>,
    options: &Options,
    excluded: impl Fn(&inventory::Role) -> bool,
) -> Result<Vec<inventory::Role>> {
    let mut matched_patterns = BTreeSet::new();
    let roles: Vec<inventory::Role> = roles
        .into_iter()
        .filter(|role| !excluded(role))
        .filter(|role| {
            if options.roles.is_empty() {
                return true;
            }
            let mut any = false;
            for pattern in &options.roles {
                if glob_match(pattern, &role.name) {
                    matched_patterns.insert(pattern.clone());
                    any = true;
                }
            }
            any
        })
        .collect();
    let unmatched: Vec<String> = options
        .roles
        .iter()
        .filter(|p| !matched_patterns.contains(*p))
        .map(|p| format!("`{p}`"))
        .collect();
    if !unmatched.is_empty() {
        return Err(Error::config(format!(
            "`--roles` {} matches no role dbops could import",
            unmatched.join(", ")
        ))
        .hint("`*` matches any run of characters, `?` one; the admin, the bootstrap superuser and `pg_*` roles are never imported"));
    }
    Ok(roles)
}

/// The databases `--database` names (each must exist), or every one but `postgres`.
fn select_databases(
    databases: Vec<inventory::Database>,
    options: &Options,
) -> Result<Vec<inventory::Database>> {
    if options.databases.is_empty() {
        return Ok(databases
            .into_iter()
            .filter(|d| d.name != MAINTENANCE_DATABASE)
            .collect());
    }
    let missing: Vec<String> = options
        .databases
        .iter()
        .filter(|name| !databases.iter().any(|d| &&d.name == name))
        .map(|n| format!("`{n}`"))
        .collect();
    if !missing.is_empty() {
        return Err(Error::config(format!(
            "`--database` names no database the server has: {}",
            missing.join(", ")
        )));
    }
    Ok(databases
        .into_iter()
        .filter(|d| options.databases.contains(&d.name))
        .collect())
}

/// The command that wrote the file, for its header.
fn command_line(options: &Options) -> String {
    let mut command_line = String::from("dbops import");
    for pattern in &options.roles {
        command_line.push_str(&format!(" --roles '{pattern}'"));
    }
    for database in &options.databases {
        command_line.push_str(&format!(" --database '{database}'"));
    }
    if options.settings {
        command_line.push_str(" --settings");
    }
    command_line
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    #[test]
    fn globs() {
        assert!(glob_match("app_*", "app_user"));
        assert!(glob_match("*", "anything"));
        assert!(glob_match("app_?ser", "app_user"));
        assert!(!glob_match("app_*", "migrator"));
        assert!(glob_match("a*b*c", "aXXbYYc"));
        assert!(!glob_match("a*b*c", "aXXbYY"));
    }
}
