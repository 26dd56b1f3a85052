//! pgBouncer's admin console: `SHOW CONFIG` to see what is running, and
//! `RELOAD`. Reached on 127.0.0.1 at `listen_port` as the admin user, over the
//! simple query protocol the console speaks. Used only with `admin_console =
//! "localhost"`; an unreachable console is "not running", not an error.

use std::collections::BTreeMap;
use std::time::Duration;

use secrecy::ExposeSecret;
use tokio_postgres::{Client, Config, NoTls, SimpleQueryMessage};

use super::desired::{AdminConsole, DesiredPooler};
use crate::error::{Error, Result};
use crate::postgres::connect::describe;

/// A running setting: its value and whether `RELOAD` can change it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Running {
    pub value: String,
    pub changeable: bool,
}

pub async fn connect(pooler: &DesiredPooler, timeout: Duration) -> Option<Client> {
    let AdminConsole::Localhost { user, password } = &pooler.admin else {
        return None;
    };
    let mut config = Config::new();
    config
        .host("127.0.0.1")
        .port(pooler.listen_port)
        .user(user)
        .password(password.expose_secret().as_bytes())
        .dbname("pgbouncer")
        .connect_timeout(timeout);
    let (client, connection) = tokio::time::timeout(timeout, config.connect(NoTls))
        .await
        .ok()?
        .ok()?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Some(client)
}

pub async fn show_config(client: &Client) -> Result<BTreeMap<String, Running>> {
    let messages = client.simple_query("SHOW CONFIG").await.map_err(|e| {
        Error::new(format!(
            "cannot read pgBouncer's running configuration: {}",
            describe(&e)
        ))
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

pub async fn reload(client: &Client) -> Result<()> {
    client
        .simple_query("RELOAD")
        .await
        .map(|_| ())
        .map_err(|e| Error::new(format!("pgBouncer refused `RELOAD`: {}", describe(&e))))
}

/// Whether a running value is what the file says, after pgBouncer's own
/// normalization (booleans as 0/1, numbers as numbers).
pub fn same(running: &str, wanted: &str) -> bool {
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
