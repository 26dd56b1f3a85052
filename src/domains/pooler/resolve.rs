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

/// Resolves `[pooler]`, each rule a `check_*` that reports into `r`, so
/// `validate` lists every problem of the section; `None` after any.
pub(crate) fn resolve(
    raw: &RawPooler,
    admin_connection: &AdminConnection,
    roles: &DeclaredRoles,
    r: &mut Resolver<'_>,
) -> Option<DesiredPooler> {
    let listen_addr = raw
        .listen_addr
        .clone()
        .unwrap_or_else(|| "0.0.0.0".to_string());
    let listen_port = raw.listen_port.unwrap_or(6432);
    let auth_type = r.check(check_auth_type(raw, r));
    let admin = r.check(check_admin(raw, roles, r));
    let settings = check_settings(raw, admin.as_ref(), &listen_addr, r);
    let host = r.check(check_host(raw, &listen_addr, r));
    let backend = r.check(check_backend(raw, admin_connection, r));
    if let (Some(host), Some((backend_host, backend_port)), Some(settings)) =
        (&host, &backend, &settings)
    {
        let pooler = (host.as_str(), listen_port);
        let backend = (backend_host.as_str(), *backend_port);
        check_application_dsns(roles, pooler, backend, settings, r);
    }
    let databases = r.check(check_databases(raw, roles, r));
    let owner = r.check(check_owner(raw, r));
    let mode = r.check(check_mode(raw, r));
    let reload = match (&admin, &settings) {
        (Some(admin), Some(settings)) => r.check(check_reload(raw, admin.is_some(), settings, r)),
        _ => None,
    };
    let config_path = PathBuf::from(&raw.config_file);
    let hba_path = match &raw.hba_file {
        Some(path) => PathBuf::from(path),
        None => config_path.with_file_name("pgbouncer_hba.conf"),
    };
    let (backend_host, backend_port) = backend?;
    let desired = DesiredPooler {
        config_path,
        auth_path: PathBuf::from(&raw.auth_file),
        hba_path,
        host: host?,
        listen_addr,
        listen_port,
        pool_mode: raw.pool_mode.unwrap_or(PoolMode::Transaction),
        auth_type: auth_type?,
        admin: admin?,
        backend_is_admin: backend_host == admin_connection.dsn.host
            && backend_port == admin_connection.dsn.port,
        backend_host,
        backend_port,
        databases: databases?,
        owner: owner?,
        mode: mode?,
        reload: reload?,
        settings: settings?,
        users: roles
            .0
            .iter()
            .filter(|(_, r)| r.password.is_some() && r.login)
            .map(|(name, _)| name.clone())
            .collect(),
        logins: roles
            .0
            .iter()
            .filter(|(_, r)| r.password.is_some())
            .filter_map(|(name, r)| r.dsn.as_ref().map(|(dsn, _)| (name.clone(), dsn.clone())))
            .collect(),
    };
    check_grammar(&desired, r)?;
    Some(desired)
}

/// SCRAM only, unless the file says otherwise on purpose.
fn check_auth_type(raw: &RawPooler, r: &Resolver<'_>) -> Result<AuthType> {
    let auth_type = raw.auth_type.unwrap_or(AuthType::ScramSha256);
    if auth_type != AuthType::ScramSha256 && !raw.allow_insecure_auth {
        return Err(r
            .key(&["pooler", "auth_type"])
            .error(format!(
                "`{}` is weaker than `scram-sha-256`; pgBouncer is the trust boundary",
                auth_type.as_str()
            ))
            .hint("use `scram-sha-256`, or set `allow_insecure_auth = true` if you must"));
    }
    Ok(auth_type)
}

/// The admin console's user: a plain name of its own, with a password.
fn check_admin(
    raw: &RawPooler,
    roles: &DeclaredRoles,
    r: &Resolver<'_>,
) -> Result<Option<AdminUser>> {
    let key = |name: &str| r.key(&["pooler", name]);
    if raw.admin_console.unwrap_or(AdminConsole::Disabled) == AdminConsole::Disabled {
        return Ok(None);
    }
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
    Ok(Some(AdminUser {
        user,
        password: key("admin_password").secret(reference)?,
    }))
}

/// `[pooler.settings]`: settings pgBouncer knows and dbops does not own,
/// none that opens the console from outside, TLS files that work. Every bad
/// setting is reported; `None` after any.
fn check_settings(
    raw: &RawPooler,
    admin: Option<&Option<AdminUser>>,
    listen_addr: &str,
    r: &mut Resolver<'_>,
) -> Option<BTreeMap<String, String>> {
    let mut settings = BTreeMap::new();
    let mut failed = false;
    for (name, value) in &raw.settings {
        let Some(text) = value.to_config_text() else {
            r.error(r.key(&["pooler", "settings", name]).error(
                "a secret reference is not accepted in `[pooler.settings]`: pgbouncer.ini is shown in plans",
            ));
            failed = true;
            continue;
        };
        let checked = check_setting(name, &text, admin, listen_addr, r);
        match r.check(checked) {
            Some(()) => {
                settings.insert(name.clone(), text);
            }
            None => failed = true,
        }
    }
    (!failed).then_some(settings)
}

fn check_setting(
    name: &str,
    text: &str,
    admin: Option<&Option<AdminUser>>,
    listen_addr: &str,
    r: &Resolver<'_>,
) -> Result<()> {
    let key = r.key(&["pooler", "settings", name]);
    if !known::SETTINGS.contains(&name) {
        let mut error = key.error(format!("pgBouncer has no setting `{name}`"));
        if let Some(suggestion) = did_you_mean(name, known::SETTINGS.iter().copied()) {
            error = error.hint(suggestion);
        }
        return Err(error);
    }
    if known::OWNED.contains(&name) {
        return Err(key.error(format!("set it as `pooler.{name}`, which dbops owns")));
    }
    let console_on = admin.is_some_and(Option::is_some);
    if matches!(name, "admin_users") && console_on {
        return Err(key.error("dbops sets it from `admin_user`"));
    }
    let admin_like = matches!(name, "admin_users" | "stats_users");
    if admin_like && admin.is_some_and(Option::is_none) && !is_loopback(listen_addr) {
        return Err(key.error(format!(
            "opens the admin console while pgBouncer listens on `{listen_addr}` and `admin_console` is not `localhost`"
        ))
        .hint("set `admin_console = \"localhost\"` (dbops then confines the console to loopback), or remove the setting"));
    }
    check_tls_setting(name, text, &key)
}

/// How clients reach the pooler: `host`, or the one address it listens on.
fn check_host(raw: &RawPooler, listen_addr: &str, r: &Resolver<'_>) -> Result<String> {
    match (&raw.host, is_wildcard(listen_addr)) {
        (Some(host), _) => Ok(host.clone()),
        (None, false) => Ok(listen_addr
            .split(',')
            .next()
            .unwrap_or_default()
            .trim()
            .to_string()),
        (None, true) => Err(r.key(&["pooler"]).error(format!(
            "`pooler.host` is needed: pgBouncer listens on `{listen_addr}`, so dbops cannot tell which address clients use"
        ))
        .hint("set `host = \"pgbouncer\"` (the name the application connects to)")),
    }
}

/// The server the pooler connects to: by default the one dbops reaches; or
/// declared, over another address or the server's Unix socket (`host` a
/// directory). That it is the same server is checked against the server's
/// own `port`, `listen_addresses` and `unix_socket_directories` when the
/// plan observes it.
fn check_backend(
    raw: &RawPooler,
    admin_connection: &AdminConnection,
    r: &Resolver<'_>,
) -> Result<(String, u16)> {
    let admin_dsn = &admin_connection.dsn;
    let (host, port) = match &raw.backend {
        None => (admin_dsn.host.clone(), admin_dsn.port),
        Some(backend) => (backend.host.clone(), backend.port.unwrap_or(admin_dsn.port)),
    };
    if host.is_empty() || host.chars().any(char::is_control) {
        return Err(r
            .key(&["pooler", "backend", "host"])
            .error("is empty or holds a control character"));
    }
    Ok((host, port))
}

/// Each application DSN reaches the pooler, not PostgreSQL, and asks for TLS
/// only when pgBouncer offers it; every DSN that does not is reported.
fn check_application_dsns(
    roles: &DeclaredRoles,
    (host, listen_port): (&str, u16),
    (backend_host, backend_port): (&str, u16),
    settings: &BTreeMap<String, String>,
    r: &mut Resolver<'_>,
) {
    let client_tls = settings
        .get("client_tls_sslmode")
        .map(String::as_str)
        .unwrap_or("disable");
    for (name, role) in &roles.0 {
        let Some((dsn, source)) = &role.dsn else {
            continue;
        };
        let key = r.key(&["roles", name, "dsn"]);
        let error = if dsn.host == backend_host && dsn.port == backend_port {
            key.error(format!(
                "`{source}` points at PostgreSQL itself; with `[pooler]` declared, the application must reach only the pooler"
            ))
            .hint(format!("point it at `{host}:{listen_port}`"))
        } else if dsn.host != host || dsn.port != listen_port {
            key.error(format!(
                "`{source}` does not point at the pooler (`pooler.host`:`pooler.listen_port`)"
            ))
            .hint(format!("point it at `{host}:{listen_port}`"))
        } else if crate::pg::tls::TlsSettings::from_dsn(dsn).is_ok_and(|t| t.mode.requires_tls())
            && matches!(client_tls, "disable")
        {
            key.error(format!(
                "`{source}` requires TLS to the pooler, but pgBouncer's `client_tls_sslmode` is `disable`"
            ))
            .hint("set `client_tls_sslmode`, `client_tls_cert_file` and `client_tls_key_file` in `[pooler.settings]`, or lower the DSN's `sslmode`")
        } else {
            continue;
        };
        r.error(error);
    }
}

/// The `[databases]` pgbouncer.ini lists: declared, or the DSNs' databases.
fn check_databases(
    raw: &RawPooler,
    roles: &DeclaredRoles,
    r: &Resolver<'_>,
) -> Result<Vec<String>> {
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
            return Err(r.key(&["pooler", "databases"]).error(format!(
                "database `{database}` cannot be named in pgbouncer.ini; use letters, digits, `_` and `-`"
            )));
        }
    }
    Ok(databases)
}

fn check_owner(raw: &RawPooler, r: &Resolver<'_>) -> Result<Option<(u32, u32, String)>> {
    let Some(text) = &raw.owner else {
        return Ok(None);
    };
    let (uid, gid) = resolve_owner(text).map_err(|why| r.key(&["pooler", "owner"]).error(why))?;
    Ok(Some((uid, gid, text.clone())))
}

/// An octal mode that gives others nothing.
fn check_mode(raw: &RawPooler, r: &Resolver<'_>) -> Result<u32> {
    let Some(text) = &raw.mode else {
        return Ok(0o640);
    };
    u32::from_str_radix(text.trim_start_matches("0o"), 8)
        .ok()
        .filter(|m| *m <= 0o777 && m & 0o007 == 0)
        .ok_or_else(|| {
            r.key(&["pooler", "mode"])
                .error(format!(
                    "`{text}` is not an octal mode without access for others"
                ))
                .hint("write e.g. `0640`")
        })
}

/// How dbops makes pgBouncer reload, and what that needs.
fn check_reload(
    raw: &RawPooler,
    console_on: bool,
    settings: &BTreeMap<String, String>,
    r: &Resolver<'_>,
) -> Result<Reload> {
    let key = r.key(&["pooler", "reload"]);
    let reload = match &raw.reload {
        Some(RawReload::Named(ReloadBy::Admin)) if !console_on => {
            return Err(key.error("`reload = \"admin\"` needs `admin_console = \"localhost\"`"));
        }
        Some(RawReload::Named(ReloadBy::Admin)) => Reload::Admin,
        Some(RawReload::Named(ReloadBy::Signal)) => Reload::Signal,
        Some(RawReload::Command { command }) if command.trim().is_empty() => {
            return Err(key.error("the reload command is empty"));
        }
        Some(RawReload::Command { command }) => Reload::Command(command.clone()),
        None if console_on => Reload::Admin,
        None => Reload::Signal,
    };
    if reload == Reload::Signal && !settings.contains_key("pidfile") {
        return Err(r
            .key(&["pooler"])
            .error("reloading pgBouncer by signal needs `pidfile` in `[pooler.settings]`")
            .hint("set `pidfile`, or `admin_console = \"localhost\"`, or `reload = { command = \"...\" }`"));
    }
    Ok(reload)
}

/// Renders every file once, verifiers aside, so a value no file can carry is
/// refused now, naming its key, before anything connects or is written.
fn check_grammar(desired: &DesiredPooler, r: &mut Resolver<'_>) -> Option<()> {
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
    for error in &errors {
        let path: Vec<&str> = error.path.iter().map(String::as_str).collect();
        r.error(r.key(&path).error(error.message.clone()));
    }
    errors.is_empty().then_some(())
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
    if matches!(name, "client_tls_sslmode" | "server_tls_sslmode") {
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
