//! pgBouncer's files as dbops renders them: `pgbouncer.ini`, the HBA file that
//! confines the admin console to loopback, and the auth file of SCRAM verifiers
//! (exactly as `pg_authid` stores them, so clients log in with their passwords
//! and pgBouncer logs in to PostgreSQL on their behalf). Pure.

use super::desired::DesiredPooler;
use super::known;
use crate::managed_files::grammar::{path, FieldError, Rendered, Writer};
use crate::managed_files::redaction::HEADER;
use crate::managed_files::Redaction;

/// pgbouncer.ini: settings dbops knows are shown; `[databases]` lines only
/// when their connection string holds no secret.
pub(crate) const INI_REDACTION: Redaction = Redaction::Ini {
    public: known::PUBLIC,
    secret: &[],
    connstring_section: Some("databases"),
    connstring_public: &[
        "host",
        "port",
        "dbname",
        "user",
        "pool_size",
        "pool_mode",
        "max_db_connections",
        "client_encoding",
        "datestyle",
        "timezone",
        "application_name",
    ],
};

/// The HBA file dbops renders holds no secret.
pub(crate) const HBA_REDACTION: Redaction = Redaction::Nothing;

/// The key of `dbops.toml` each `[pgbouncer]` setting comes from, for errors.
fn source_of(key: &str) -> Vec<String> {
    let owned = match key {
        "listen_addr" | "listen_port" | "pool_mode" | "auth_type" => key,
        "auth_file" => "auth_file",
        "auth_hba_file" => "hba_file",
        "admin_users" => "admin_user",
        _ => return path(&["pooler", "settings", key]),
    };
    path(&["pooler", owned])
}

/// A connection-string value as pgBouncer's `[databases]` parser reads it:
/// bare when it has no blank or quote, else single-quoted with `'` doubled.
fn connstring_value(value: &str) -> String {
    if !value.is_empty() && !value.contains([' ', '\'', '=']) {
        value.to_string()
    } else {
        format!("'{}'", value.replace('\'', "''"))
    }
}

/// `pgbouncer.ini`, every value checked against pgBouncer's ini grammar.
pub(crate) fn ini(pooler: &DesiredPooler) -> Result<Rendered, Vec<FieldError>> {
    let mut w = Writer::new("pgbouncer.ini");
    w.raw(&format!(";; {HEADER}"));
    w.raw("");
    w.section("databases", &path(&["pooler"]));
    for database in &pooler.databases {
        let connstring = format!(
            "host={} port={} dbname={}",
            connstring_value(&pooler.backend_host),
            pooler.backend_port,
            connstring_value(database)
        );
        w.ini(
            database,
            " = ",
            &connstring,
            &path(&["pooler", "databases"]),
        );
    }
    w.raw("");
    w.section("pgbouncer", &path(&["pooler"]));
    for (key, value) in pooler.effective_settings() {
        w.ini(&key, " = ", &value, &source_of(&key));
    }
    w.finish_rendered()
}

/// The HBA file: the admin console from loopback only, SCRAM for the rest.
pub(crate) fn hba(pooler: &DesiredPooler) -> Option<Result<Rendered, Vec<FieldError>>> {
    let admin = pooler.admin.as_ref()?;
    let method = pooler.auth_type.as_str();
    let mut w = Writer::new("the HBA file");
    w.raw(&format!("# {HEADER}"));
    w.raw("# The admin console: its user, from loopback only.");
    for network in ["127.0.0.1/32", "::1/128"] {
        if let Some(user) = w.quoted(&admin.user, &path(&["pooler", "admin_user"])) {
            w.raw(&format!("host pgbouncer {user} {network} {method}"));
        }
    }
    w.raw("host pgbouncer all 0.0.0.0/0 reject");
    w.raw("host pgbouncer all ::/0 reject");
    w.raw("# Everything else: the pooled databases.");
    w.raw(&format!("host all all 0.0.0.0/0 {method}"));
    w.raw(&format!("host all all ::/0 {method}"));
    Some(w.finish_rendered())
}

/// `"user" "verifier"` lines, sorted by user; `sources` names where each user
/// comes from in `dbops.toml`.
pub(crate) fn auth_file(entries: &[(String, String)]) -> Result<Rendered, Vec<FieldError>> {
    let mut entries = entries.to_vec();
    entries.sort();
    let mut w = Writer::new("the auth file");
    for (user, verifier) in &entries {
        let source = path(&["roles", user]);
        if let (Some(user), Some(verifier)) = (w.quoted(user, &source), w.quoted(verifier, &source))
        {
            w.raw(&format!("{user} {verifier}"));
        }
    }
    w.finish_rendered()
}

/// Parses an auth file back into (user, secret) pairs.
pub(crate) fn parse_auth_file(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let mut fields = Vec::new();
        let mut chars = line.trim().chars().peekable();
        while let Some(c) = chars.next() {
            if c != '"' {
                continue;
            }
            let mut field = String::new();
            while let Some(c) = chars.next() {
                if c == '"' {
                    if chars.peek() == Some(&'"') {
                        chars.next();
                        field.push('"');
                    } else {
                        break;
                    }
                } else {
                    field.push(c);
                }
            }
            fields.push(field);
        }
        if fields.len() >= 2 {
            out.push((fields[0].clone(), fields[1].clone()));
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::BTreeMap;

    use secrecy::SecretString;

    use super::*;
    use crate::domains::pooler::desired::{AdminUser, AuthType, PoolMode, Reload};

    pub(crate) fn pooler(admin: Option<AdminUser>) -> DesiredPooler {
        DesiredPooler {
            config_path: "/etc/pgbouncer/pgbouncer.ini".into(),
            auth_path: "/etc/pgbouncer/userlist.txt".into(),
            hba_path: "/etc/pgbouncer/pgbouncer_hba.conf".into(),
            host: "pgbouncer".into(),
            listen_addr: "0.0.0.0".into(),
            listen_port: 6432,
            pool_mode: PoolMode::Transaction,
            auth_type: AuthType::ScramSha256,
            admin,
            backend_host: "postgres".into(),
            backend_is_admin: true,
            backend_port: 5432,
            databases: vec!["app".into()],
            owner: None,
            mode: 0o640,
            reload: Reload::Signal,
            settings: BTreeMap::from([
                ("default_pool_size".into(), "20".into()),
                ("max_client_conn".into(), "500".into()),
                ("pidfile".into(), "/run/pgbouncer/pgbouncer.pid".into()),
            ]),
            users: vec!["app_user".into()],
            logins: BTreeMap::new(),
        }
    }

    #[test]
    fn ini_with_admin_console_disabled() {
        insta::assert_snapshot!(ini(&pooler(None)).unwrap().content);
    }

    #[test]
    fn ini_and_hba_with_admin_console_on_localhost() {
        let p = pooler(Some(AdminUser {
            user: "pgbouncer_admin".into(),
            password: SecretString::from("x".to_string()),
        }));
        insta::assert_snapshot!(format!(
            "{}\n---\n{}",
            ini(&p).unwrap().content,
            hba(&p).unwrap().unwrap().content
        ));
    }

    #[test]
    fn auth_file_round_trips_quotes() {
        let entries = vec![
            (
                "we\"ird".to_string(),
                "SCRAM-SHA-256$4096:c2FsdA==$a:b".to_string(),
            ),
            (
                "app_user".to_string(),
                "SCRAM-SHA-256$4096:eHl6$c:d".to_string(),
            ),
        ];
        let text = auth_file(&entries).unwrap().content;
        assert_eq!(
            text,
            "\"app_user\" \"SCRAM-SHA-256$4096:eHl6$c:d\"\n\"we\"\"ird\" \"SCRAM-SHA-256$4096:c2FsdA==$a:b\"\n"
        );
        let mut sorted = entries.clone();
        sorted.sort();
        assert_eq!(parse_auth_file(&text), sorted);
    }
}
