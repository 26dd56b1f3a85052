//! `[pooler]`: pgBouncer settings and the trust-boundary lints.

use super::*;

pub(super) fn resolve_pooler(
    raw_config: &RawConfig,
    raw: &RawPooler,
    source: &SourceFile,
    admin: &Dsn,
    roles: &BTreeMap<String, DesiredRole>,
) -> Result<DesiredPooler> {
    let at = |key: &str| source.locate(&["pooler", key]);
    let listen_addr = raw
        .listen_addr
        .clone()
        .unwrap_or_else(|| "0.0.0.0".to_string());
    let listen_port = raw.listen_port.unwrap_or(6432);
    let pool_mode = raw
        .pool_mode
        .clone()
        .unwrap_or_else(|| "transaction".to_string());
    if !matches!(pool_mode.as_str(), "session" | "transaction" | "statement") {
        return Err(Error::new(format!(
            "key `pooler.pool_mode`: `{pool_mode}` is not `session`, `transaction` or `statement`"
        ))
        .at(at("pool_mode")));
    }
    let auth_type = raw
        .auth_type
        .clone()
        .unwrap_or_else(|| "scram-sha-256".to_string());
    if auth_type != "scram-sha-256" && !raw.allow_insecure_auth {
        return Err(Error::new(format!(
            "key `pooler.auth_type`: `{auth_type}` is weaker than `scram-sha-256`; pgBouncer is the trust boundary"
        ))
        .at(at("auth_type"))
        .hint("use `scram-sha-256`, or set `allow_insecure_auth = true` if you must"));
    }
    let admin_console = match raw.admin_console.as_deref().unwrap_or("disabled") {
        "disabled" => AdminConsole::Disabled,
        "localhost" => {
            let Some(reference) = &raw.admin_password else {
                return Err(Error::new(
                    "`admin_console = \"localhost\"` needs `admin_password`, a secret reference",
                )
                .at(at("admin_console"))
                .hint("add `admin_password = { env = \"PGBOUNCER_ADMIN_PASSWORD\" }`"));
            };
            AdminConsole::Localhost {
                user: raw
                    .admin_user
                    .clone()
                    .unwrap_or_else(|| "pgbouncer_admin".to_string()),
                password: secret(reference, source, &["pooler", "admin_password"])?,
            }
        }
        other => {
            return Err(Error::new(format!(
                "key `pooler.admin_console`: `{other}` is not `disabled` or `localhost`"
            ))
            .at(at("admin_console")))
        }
    };
    let mut settings = BTreeMap::new();
    for (name, value) in &raw.settings {
        let setting_at = source.locate(&["pooler", "settings", name]);
        if !pooler_known::SETTINGS.contains(&name.as_str()) {
            let mut error = Error::new(format!(
                "key `pooler.settings.{name}`: pgBouncer has no setting `{name}`"
            ))
            .at(setting_at);
            if let Some(close) = pooler_known::suggest(name) {
                error = error.hint(format!("did you mean `{close}`?"));
            }
            return Err(error);
        }
        if pooler_known::OWNED.contains(&name.as_str()) {
            return Err(Error::new(format!(
                "key `pooler.settings.{name}`: set it as `pooler.{name}`, which dbops owns"
            ))
            .at(setting_at));
        }
        let admin_like = matches!(name.as_str(), "admin_users" | "stats_users");
        if admin_like
            && matches!(admin_console, AdminConsole::Localhost { .. })
            && name == "admin_users"
        {
            return Err(Error::new(
                "key `pooler.settings.admin_users`: dbops sets it from `admin_user`",
            )
            .at(setting_at));
        }
        if admin_like
            && !matches!(admin_console, AdminConsole::Localhost { .. })
            && !pooler_lint::is_loopback(&listen_addr)
        {
            return Err(Error::new(format!(
                "`pooler.settings.{name}` opens the admin console while pgBouncer listens on `{listen_addr}` and `admin_console` is not `localhost`"
            ))
            .at(setting_at)
            .hint("set `admin_console = \"localhost\"` (dbops then confines the console to loopback), or remove the setting"));
        }
        settings.insert(name.clone(), value.to_config_text());
    }
    let host = match (&raw.host, pooler_lint::is_wildcard(&listen_addr)) {
        (Some(host), _) => host.clone(),
        (None, false) => listen_addr.split(',').next().unwrap_or_default().trim().to_string(),
        (None, true) => {
            return Err(Error::new(format!(
                "`pooler.host` is needed: pgBouncer listens on `{listen_addr}`, so dbops cannot tell which address clients use"
            ))
            .at(source.locate(&["pooler"]))
            .hint("set `host = \"pgbouncer\"` (the name the application connects to)"))
        }
    };
    let (backend_host, backend_port) = match &raw.backend {
        None => (admin.host.clone(), admin.port),
        Some(backend) => (backend.host.clone(), backend.port.unwrap_or(5432)),
    };
    let admin_source = raw_config.postgres.admin.source_name();
    if admin.host != backend_host || admin.port != backend_port {
        return Err(Error::new(format!(
            "`{admin_source}` does not point at the backend the pooler uses (`pooler.backend`): dbops must reach PostgreSQL directly"
        ))
        .at(at("backend")));
    }
    for (name, role) in roles {
        let Some(dsn) = &role.dsn else { continue };
        let reference = raw_config
            .roles
            .get(name)
            .and_then(|r| r.dsn.as_ref())
            .map(|r| r.source_name())
            .unwrap_or_default();
        if dsn.host == backend_host && dsn.port == backend_port {
            return Err(Error::new(format!(
                "`{reference}` points at PostgreSQL itself; with `[pooler]` declared, the application must reach only the pooler"
            ))
            .at(source.locate(&["roles", name, "dsn"]))
            .hint(format!("point it at `{host}:{listen_port}`")));
        }
        if dsn.host != host || dsn.port != listen_port {
            return Err(Error::new(format!(
                "`{reference}` does not point at the pooler (`pooler.host`:`pooler.listen_port`)"
            ))
            .at(source.locate(&["roles", name, "dsn"]))
            .hint(format!("point it at `{host}:{listen_port}`")));
        }
    }
    let mut databases: Vec<String> = match &raw.databases {
        Some(list) => list.clone(),
        None => roles
            .values()
            .filter_map(|r| r.dsn.as_ref().map(|d| d.database.clone()))
            .collect(),
    };
    databases.sort();
    databases.dedup();
    for database in &databases {
        if !database
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(Error::new(format!(
                "database `{database}` cannot be named in pgbouncer.ini; use letters, digits, `_` and `-`"
            ))
            .at(at("databases")));
        }
    }
    let owner = match &raw.owner {
        None => None,
        Some(text) => {
            let (uid, gid) = resolve_owner(text)
                .map_err(|why| Error::new(format!("key `pooler.owner`: {why}")).at(at("owner")))?;
            Some((uid, gid, text.clone()))
        }
    };
    let mode = match &raw.mode {
        None => 0o640,
        Some(text) => u32::from_str_radix(text.trim_start_matches("0o"), 8)
            .ok()
            .filter(|m| *m <= 0o777 && m & 0o007 == 0)
            .ok_or_else(|| {
                Error::new(format!(
                    "key `pooler.mode`: `{text}` is not an octal mode without access for others"
                ))
                .at(at("mode"))
                .hint("write e.g. `0640`")
            })?,
    };
    let reload = match &raw.reload {
        Some(RawReload::Named(name)) if name == "admin" => {
            if !matches!(admin_console, AdminConsole::Localhost { .. }) {
                return Err(Error::new(
                    "`reload = \"admin\"` needs `admin_console = \"localhost\"`",
                )
                .at(at("reload")));
            }
            Reload::Admin
        }
        Some(RawReload::Named(name)) if name == "signal" => Reload::Signal,
        Some(RawReload::Named(other)) => {
            return Err(Error::new(format!(
                "key `pooler.reload`: `{other}` is not `admin`, `signal` or `{{ command = ... }}`"
            ))
            .at(at("reload")))
        }
        Some(RawReload::Command { command }) => Reload::Command(command.clone()),
        None if matches!(admin_console, AdminConsole::Localhost { .. }) => Reload::Admin,
        None => Reload::Signal,
    };
    if reload == Reload::Signal && !settings.contains_key("pidfile") {
        return Err(Error::new("reloading pgBouncer by signal needs `pidfile` in `[pooler.settings]`")
            .at(source.locate(&["pooler"]))
            .hint("set `pidfile`, or `admin_console = \"localhost\"`, or `reload = { command = \"...\" }`"));
    }
    let config_path = PathBuf::from(&raw.config_file);
    let hba_path = match &raw.hba_file {
        Some(path) => PathBuf::from(path),
        None => config_path.with_file_name("pgbouncer_hba.conf"),
    };
    let users = roles
        .values()
        .filter(|r| r.password.is_some() && r.attributes.login)
        .map(|r| r.name.clone())
        .collect();
    Ok(DesiredPooler {
        config_path,
        auth_path: PathBuf::from(&raw.auth_file),
        hba_path,
        host,
        listen_addr,
        listen_port,
        pool_mode,
        auth_type,
        admin: admin_console,
        backend_host,
        backend_port,
        databases,
        owner,
        mode,
        reload,
        settings,
        users,
    })
}
