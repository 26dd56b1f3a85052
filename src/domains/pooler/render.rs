//! pgBouncer's files as dbops renders them: `pgbouncer.ini`, the HBA file that
//! confines the admin console to loopback, and the auth file of SCRAM verifiers
//! (exactly as `pg_authid` stores them, so clients log in with their passwords
//! and pgBouncer logs in to PostgreSQL on their behalf). Pure.

use super::desired::DesiredPooler;
use super::known;
use crate::domains::files::redaction::HEADER;
use crate::domains::files::Redaction;

/// pgbouncer.ini: settings dbops knows are shown; `[databases]` lines only
/// when their connection string holds no secret.
pub const INI_REDACTION: Redaction = Redaction::Ini {
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
pub const HBA_REDACTION: Redaction = Redaction::Nothing;

pub fn ini(pooler: &DesiredPooler) -> String {
    let mut out = format!(";; {HEADER}\n");
    out.push_str("\n[databases]\n");
    for database in &pooler.databases {
        out.push_str(&format!(
            "{database} = host={} port={} dbname={database}\n",
            pooler.backend_host, pooler.backend_port
        ));
    }
    out.push_str("\n[pgbouncer]\n");
    for (key, value) in pooler.effective_settings() {
        out.push_str(&format!("{key} = {value}\n"));
    }
    out
}

pub fn hba(pooler: &DesiredPooler) -> Option<String> {
    let user = &pooler.admin.as_ref()?.user;
    let method = pooler.auth_type.as_str();
    let mut out = format!("# {HEADER}\n");
    out.push_str("# The admin console: its user, from loopback only.\n");
    out.push_str(&format!("host pgbouncer {user} 127.0.0.1/32 {method}\n"));
    out.push_str(&format!("host pgbouncer {user} ::1/128 {method}\n"));
    out.push_str("host pgbouncer all 0.0.0.0/0 reject\n");
    out.push_str("host pgbouncer all ::/0 reject\n");
    out.push_str("# Everything else: the pooled databases.\n");
    out.push_str(&format!("host all all 0.0.0.0/0 {method}\n"));
    out.push_str(&format!("host all all ::/0 {method}\n"));
    Some(out)
}

fn quote(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// `"user" "verifier"` lines, sorted by user.
pub fn auth_file(entries: &[(String, String)]) -> String {
    let mut entries = entries.to_vec();
    entries.sort();
    entries
        .iter()
        .map(|(user, verifier)| format!("{} {}\n", quote(user), quote(verifier)))
        .collect()
}

/// Parses an auth file back into (user, secret) pairs.
pub fn parse_auth_file(text: &str) -> Vec<(String, String)> {
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
mod tests {
    use std::collections::BTreeMap;

    use secrecy::SecretString;

    use super::*;
    use crate::domains::pooler::desired::{AdminUser, AuthType, PoolMode, Reload};

    fn pooler(admin: Option<AdminUser>) -> DesiredPooler {
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
        }
    }

    #[test]
    fn ini_with_admin_console_disabled() {
        insta::assert_snapshot!(ini(&pooler(None)));
    }

    #[test]
    fn ini_and_hba_with_admin_console_on_localhost() {
        let p = pooler(Some(AdminUser {
            user: "pgbouncer_admin".into(),
            password: SecretString::from("x".to_string()),
        }));
        insta::assert_snapshot!(format!("{}\n---\n{}", ini(&p), hba(&p).unwrap()));
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
        let text = auth_file(&entries);
        assert_eq!(
            text,
            "\"app_user\" \"SCRAM-SHA-256$4096:eHl6$c:d\"\n\"we\"\"ird\" \"SCRAM-SHA-256$4096:c2FsdA==$a:b\"\n"
        );
        let mut sorted = entries.clone();
        sorted.sort();
        assert_eq!(parse_auth_file(&text), sorted);
    }
}
