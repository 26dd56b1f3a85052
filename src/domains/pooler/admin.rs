//! pgBouncer's admin console: `SHOW CONFIG` to see what is running, and
//! `RELOAD`. Reached on 127.0.0.1 at `listen_port` as the admin user, over the
//! simple query protocol the console speaks. Only a refused TCP connection
//! means "not running"; a refused login, a timeout or a protocol error is an
//! error that names the admin user, never "not running".

use std::collections::BTreeMap;
use std::time::Duration;

use secrecy::ExposeSecret;
use tokio_postgres::{Client, Config, SimpleQueryMessage};

use super::desired::DesiredPooler;
use crate::error::{Error, ErrorKind, Result};
use crate::pg::connect::{describe, is_refused, kind_of};

/// A running setting: its value and whether `RELOAD` can change it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Running {
    pub(crate) value: String,
    pub(crate) changeable: bool,
}

/// What the admin console answered.
pub(crate) enum Console {
    /// Disabled in the file, or nothing listens (pgBouncer is not running).
    Closed,
    /// pgBouncer refused the declared admin user and password: the error.
    Refused(Error),
    Open(Client),
}

/// A session on the admin console; `Ok(None)` when nothing listens (not
/// running), or when the console is disabled. A refused login is an error.
pub(crate) async fn connect(pooler: &DesiredPooler, timeout: Duration) -> Result<Option<Client>> {
    match open(pooler, timeout).await? {
        Console::Closed => Ok(None),
        Console::Refused(error) => Err(error),
        Console::Open(client) => Ok(Some(client)),
    }
}

/// The console as it answers now: a refused login is an answer (a file
/// pgBouncer has not loaded yet may be why), anything else unexpected an error.
pub(crate) async fn open(pooler: &DesiredPooler, timeout: Duration) -> Result<Console> {
    let Some(admin) = &pooler.admin else {
        return Ok(Console::Closed);
    };
    let mut config = Config::new();
    config
        .host("127.0.0.1")
        .port(pooler.listen_port)
        .user(&admin.user)
        .password(admin.password.expose_secret().as_bytes())
        .dbname("pgbouncer")
        .ssl_mode(tokio_postgres::config::SslMode::Prefer)
        .connect_timeout(timeout);
    let what = format!(
        "pgBouncer's admin console on 127.0.0.1:{} as `{}`",
        pooler.listen_port, admin.user
    );
    let (client, connection) = match tokio::time::timeout(timeout, config.connect(crate::pg::tls::prefer_unverified())).await {
        Err(_) => {
            return Err(Error::new(format!(
                "{what} did not answer within {}",
                humantime::format_duration(timeout)
            ))
            .kind(ErrorKind::Connection)
            .hint("something listens on that port but does not answer like pgBouncer; check `listen_port`"))
        }
        Ok(Err(e)) if is_refused(&e) => return Ok(Console::Closed),
        Ok(Err(e)) => {
            let kind = kind_of(&e);
            let login = kind == ErrorKind::Authentication || e.as_db_error().is_some();
            let hint = if login {
                "check that `admin_password` is the password pgBouncer has for the admin user (its auth file and `admin_users`)"
            } else {
                "check that pgBouncer listens on that port, and that it is pgBouncer"
            };
            let error = Error::new(format!("{what} refused dbops: {}", describe(&e)))
                .kind(if kind == ErrorKind::Server {
                    ErrorKind::Authentication
                } else {
                    kind
                })
                .hint(hint);
            return if login {
                Ok(Console::Refused(error))
            } else {
                Err(error)
            };
        }
        Ok(Ok(pair)) => pair,
    };
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(Console::Open(client))
}

pub(crate) async fn show_config(client: &Client) -> Result<BTreeMap<String, Running>> {
    let messages = client.simple_query("SHOW CONFIG").await.map_err(|e| {
        Error::new(format!(
            "cannot read pgBouncer's running configuration: {}",
            describe(&e)
        ))
        .kind(kind_of(&e))
    })?;
    let mut out = BTreeMap::new();
    for message in messages {
        if let SimpleQueryMessage::Row(row) = message {
            let key = row.get("key").unwrap_or_default().to_string();
            let value = row.get("value").unwrap_or_default().to_string();
            let changeable = row.get("changeable").unwrap_or("yes") == "yes";
            out.insert(key, Running { value, changeable });
        }
    }
    Ok(out)
}

pub(crate) async fn reload(client: &Client) -> Result<()> {
    client
        .simple_query("RELOAD")
        .await
        .map(|_| ())
        .map_err(|e| {
            Error::new(format!("pgBouncer refused `RELOAD`: {}", describe(&e))).kind(kind_of(&e))
        })
}

/// Whether a running value is what the file says, after pgBouncer's own
/// normalization (booleans as 0/1, numbers as numbers).
pub(crate) fn same(running: &str, wanted: &str) -> bool {
    let norm = |text: &str| -> String {
        let lower = text.trim().to_ascii_lowercase();
        if let Ok(number) = lower.parse::<f64>() {
            return format!("{number}");
        }
        match lower.as_str() {
            "on" | "true" | "yes" => "1".to_string(),
            "off" | "false" | "no" => "0".to_string(),
            _ => lower,
        }
    };
    norm(running) == norm(wanted)
}

#[cfg(test)]
mod tests {
    use super::same;

    #[test]
    fn running_values_compare_as_pgbouncer_reports_them() {
        assert!(same("20", "20"));
        assert!(same("1", "on"));
        assert!(same("0", "off"));
        assert!(same("120.0", "120"));
        assert!(same("transaction", "Transaction"));
        assert!(!same("session", "transaction"));
        assert!(!same("20", "25"));
    }
}
