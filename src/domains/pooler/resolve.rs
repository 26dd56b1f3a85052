//! `[pooler]` resolved: pgBouncer's settings, the admin console, how it
//! reloads, and the trust-boundary checks (SCRAM only, the console never
//! reachable from outside, the app reaching only the pooler while dbops
//! reaches PostgreSQL directly). Messages name DSNs by their source, never by
//! their content.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::desired::{AdminConsole, AdminUser, AuthType, DesiredPooler, PoolMode, Reload};
use super::known;
use super::lint::{is_loopback, is_wildcard};
use super::raw::{RawPooler, RawReload, ReloadBy};
use super::render;
use crate::contract::facts::{AdminConnection, DeclaredRoles};
use crate::diagnostics::Resolver;
use crate::error::Result;
use crate::util::owner::resolve_owner;
use crate::util::suggest::did_you_mean;

pub(crate) fn resolve(
    raw: &RawPooler,
    admin_connection: &AdminConnection,
    roles: &DeclaredRoles,
    r: &mut Resolver<'_>,
) -> Result<DesiredPooler> {
    let key = |name: &str| r.key(&["pooler", name]);
    let listen_addr = raw
        .listen_addr
        .clone()
        .unwrap_or_else(|| "0.0.0.0".to_string());
    let listen_port = raw.listen_port.unwrap_or(6432);
    let pool_mode = raw.pool_mode.unwrap_or(PoolMode::Transaction);
    let auth_type = raw.auth_type.unwrap_or(AuthType::ScramSha256);
    if auth_type != AuthType::ScramSha256 && !raw.allow_insecure_auth {
        return Err(key("auth_type")
            .error(format!(
                "`{}` is weaker than `scram-sha-256`; pgBouncer is the trust boundary",
                auth_type.as_str()
            ))
            .hint("use `scram-sha-256`, or set `allow_insecure_auth = true` if you must"));
    }
    let admin = match raw.admin_console.unwrap_or(AdminConsole::Disabled) {
        AdminConsole::Disabled => None,
        AdminConsole::Localhost => {
            let Some(reference) = &raw.admin_password else {
                return Err(key("admin_console")
                    .error("`admin_console = \"localhost\"` needs `admin_password`, a secret reference")
                    .hint("add `admin_password = { env = \"PGBOUNCER_ADMIN_PASSWORD\" }`"));
            };
            let user = raw
                .admin_user
                .clone()
                .unwrap_or_else(|| "pgbouncer_admin".to_string());
            let plain = !user.is_empty()
                && user
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
            if !plain {
                return Err(key("admin_user")
                    .error(format!(
                        "`{}` cannot name the admin console's user: use letters, digits, `_`, `.` and `-` (pgBouncer reads `admin_users` as a comma-separated list)",
                        user.escape_debug()
                    )));
            }
            if roles.0.contains_key(&user) {
                return Err(key("admin_user")
                    .error(format!(
                        "`{user}` is a role dbops manages; the admin console's user must not be an application role"
                    ))
                    .hint("choose a user of its own, such as `pgbouncer_admin`"));
            }
            Some(AdminUser {
                user,
                password: key("admin_password").secret(reference)?,
            })
        }
    };
    let mut settings = BTreeMap::new();
    for (name, value) in &raw.settings {
        let setting_key = r.key(&["pooler", "settings", name]);
        if !known::SETTINGS.contains(&name.as_str()) {
            let mut error = setting_key.error(format!("pgBouncer has no setting `{name}`"));
            if let Some(suggestion) = did_you_mean(name, known::SETTINGS.iter().copied()) {
                error = error.hint(suggestion);
            }
            return Err(error);
        }
        if known::OWNED.contains(&name.as_str()) {
            return Err(setting_key.error(format!("set it as `pooler.{name}`, which dbops owns")));
        }
        let admin_like = matches!(name.as_str(), "admin_users" | "stats_users");
        if name == "admin_users" && admin.is_some() {
            return Err(setting_key.error("dbops sets it from `admin_user`"));
        }
        if admin_like && admin.is_none() && !is_loopback(&listen_addr) {
            return Err(setting_key.error(format!(
                "opens the admin console while pgBouncer listens on `{listen_addr}` and `admin_console` is not `localhost`"
            ))
            .hint("set `admin_console = \"localhost\"` (dbops then confines the console to loopback), or remove the setting"));
        }
        let text = value.to_config_text();
        check_tls_setting(name, &text, &setting_key)?;
        settings.insert(name.clone(), text);
    }
    let host = match (&raw.host, is_wildcard(&listen_addr)) {
        (Some(host), _) => host.clone(),
        (None, false) => listen_addr
            .split(',')
            .next()
            .unwrap_or_default()
            .trim()
            .to_string(),
        (None, true) => {
            return Err(r.key(&["pooler"]).error(format!(
                "`pooler.host` is needed: pgBouncer listens on `{listen_addr}`, so dbops cannot tell which address clients use"
            ))
            .hint("set `host = \"pgbouncer\"` (the name the application connects to)"))
        }
    };
    let admin_dsn = &admin_connection.dsn;
    let (backend_host, backend_port) = match &raw.backend {
        None => (admin_dsn.host.clone(), admin_dsn.port),
        Some(backend) => (backend.host.clone(), backend.port.unwrap_or(5432)),
    };
    if admin_dsn.host != backend_host || admin_dsn.port != backend_port {
        return Err(key("backend").error(format!(
            "`{}` does not point at the backend the pooler uses (`pooler.backend`): dbops must reach PostgreSQL directly",
            admin_connection.source
        )));
    }
    for (name, role) in &roles.0 {
        let Some((dsn, source)) = &role.dsn else {
            continue;
        };
        let dsn_key = r.key(&["roles", name, "dsn"]);
        if dsn.host == backend_host && dsn.port == backend_port {
            return Err(dsn_key.error(format!(
                "`{source}` points at PostgreSQL itself; with `[pooler]` declared, the application must reach only the pooler"
            ))
            .hint(format!("point it at `{host}:{listen_port}`")));
        }
        if dsn.host != host || dsn.port != listen_port {
            return Err(dsn_key
                .error(format!(
                    "`{source}` does not point at the pooler (`pooler.host`:`pooler.listen_port`)"
                ))
                .hint(format!("point it at `{host}:{listen_port}`")));
        }
        let client_tls = settings
            .get("client_tls_sslmode")
            .map(String::as_str)
            .unwrap_or("disable");
        let requires = crate::pg::tls::TlsSettings::from_dsn(dsn)
            .map(|t| t.mode.requires_tls())
            .unwrap_or(false);
        if requires && client_tls == "disable" {
            return Err(dsn_key
                .error(format!(
                    "`{source}` requires TLS to the pooler, but pgBouncer's `client_tls_sslmode` is `disable`"
                ))
                .hint("set `client_tls_sslmode`, `client_tls_cert_file` and `client_tls_key_file` in `[pooler.settings]`, or lower the DSN's `sslmode`"));
        }
    }
    let mut databases: Vec<String> = match &raw.databases {
        Some(list) => list.clone(),
        None => roles
            .0
            .values()
            .filter_map(|r| r.dsn.as_ref().map(|(d, _)| d.database.clone()))
            .collect(),
    };
    databases.sort();
    databases.dedup();
    for database in &databases {
        if !database
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(key("databases").error(format!(
                "database `{database}` cannot be named in pgbouncer.ini; use letters, digits, `_` and `-`"
            )));
        }
    }
    let owner = match &raw.owner {
        None => None,
        Some(text) => {
            let (uid, gid) = resolve_owner(text).map_err(|why| key("owner").error(why))?;
            Some((uid, gid, text.clone()))
        }
    };
    let mode = match &raw.mode {
        None => 0o640,
        Some(text) => u32::from_str_radix(text.trim_start_matches("0o"), 8)
            .ok()
            .filter(|m| *m <= 0o777 && m & 0o007 == 0)
            .ok_or_else(|| {
                key("mode")
                    .error(format!(
                        "`{text}` is not an octal mode without access for others"
                    ))
                    .hint("write e.g. `0640`")
            })?,
    };
    let reload = match &raw.reload {
        Some(RawReload::Named(ReloadBy::Admin)) => {
            if admin.is_none() {
                return Err(key("reload")
                    .error("`reload = \"admin\"` needs `admin_console = \"localhost\"`"));
            }
            Reload::Admin
        }
        Some(RawReload::Named(ReloadBy::Signal)) => Reload::Signal,
        Some(RawReload::Command { command }) => {
            if command.trim().is_empty() {
                return Err(key("reload").error("the reload command is empty"));
            }
            Reload::Command(command.clone())
        }
        None if admin.is_some() => Reload::Admin,
        None => Reload::Signal,
    };
    if reload == Reload::Signal && !settings.contains_key("pidfile") {
        return Err(r
            .key(&["pooler"])
            .error("reloading pgBouncer by signal needs `pidfile` in `[pooler.settings]`")
            .hint("set `pidfile`, or `admin_console = \"localhost\"`, or `reload = { command = \"...\" }`"));
    }
    let config_path = PathBuf::from(&raw.config_file);
    let hba_path = match &raw.hba_file {
        Some(path) => PathBuf::from(path),
        None => config_path.with_file_name("pgbouncer_hba.conf"),
    };
    let users = roles
        .0
        .iter()
        .filter(|(_, r)| r.password.is_some() && r.login)
        .map(|(name, _)| name.clone())
        .collect();
    let logins = roles
        .0
        .iter()
        .filter(|(_, r)| r.password.is_some())
        .filter_map(|(name, r)| r.dsn.as_ref().map(|(dsn, _)| (name.clone(), dsn.clone())))
        .collect();
    let desired = DesiredPooler {
        config_path,
        auth_path: PathBuf::from(&raw.auth_file),
        hba_path,
        host,
        listen_addr,
        listen_port,
        pool_mode,
        auth_type,
        admin,
        backend_host,
        backend_port,
        databases,
        owner,
        mode,
        reload,
        settings,
        users,
        logins,
    };
    check_grammar(&desired, r)?;
    Ok(desired)
}

/// Renders every file once, verifiers aside, so a value no file can carry is
/// refused now, naming its key, before anything connects or is written.
fn check_grammar(desired: &DesiredPooler, r: &mut Resolver<'_>) -> Result<()> {
    let mut errors = Vec::new();
    if let Err(e) = render::ini(desired) {
        errors.extend(e);
    }
    if let Some(Err(e)) = render::hba(desired) {
        errors.extend(e);
    }
    let entries: Vec<(String, String)> = desired
        .users
        .iter()
        .map(|user| (user.clone(), "SCRAM-SHA-256$4096:x$y:z".to_string()))
        .collect();
    if let Err(e) = render::auth_file(&entries) {
        errors.extend(e);
    }
    let Some(last) = errors.pop() else {
        return Ok(());
    };
    for error in errors {
        let path: Vec<&str> = error.path.iter().map(String::as_str).collect();
        r.error(r.key(&path).error(error.message));
    }
    let path: Vec<&str> = last.path.iter().map(String::as_str).collect();
    Err(r.key(&path).error(last.message))
}

/// pgBouncer's TLS settings: modes it knows, files that exist, a private key
/// only its owner may read. dbops never derives them from the admin DSN.
fn check_tls_setting(name: &str, value: &str, key: &crate::diagnostics::Key<'_>) -> Result<()> {
    const MODES: &[&str] = &[
        "disable",
        "allow",
        "prefer",
        "require",
        "verify-ca",
        "verify-full",
    ];
    if name == "client_tls_sslmode" || name == "server_tls_sslmode" {
        if !MODES.contains(&value) {
            return Err(key
                .error(format!("`{value}` is not a TLS mode pgBouncer knows"))
                .hint(format!("use one of {}", MODES.join(", "))));
        }
        return Ok(());
    }
    let is_file = name.starts_with("client_tls_") || name.starts_with("server_tls_");
    let is_file = is_file && name.ends_with("_file");
    if !is_file || value.is_empty() {
        return Ok(());
    }
    let meta = std::fs::metadata(value).map_err(|e| {
        key.error(format!(
            "`{value}` cannot be read: {}",
            crate::util::files::io_reason(&e)
        ))
        .hint("pgBouncer refuses to start without it; fix the path")
    })?;
    if name.ends_with("key_file") {
        use std::os::unix::fs::MetadataExt;
        if meta.mode() & 0o077 & !0o040 != 0 {
            return Err(key
                .error(format!(
                    "`{value}` has mode {:04o}: others may read pgBouncer's private key",
                    meta.mode() & 0o777
                ))
                .hint("chmod 0600 (or 0640 for a group pgBouncer belongs to)"));
        }
    }
    Ok(())
}
