//! Opening sessions: from a parsed [`Dsn`] to a `tokio_postgres::Client`, with a
//! deadline on the whole handshake and, for `plan` and `drift`, a read-only
//! session. Connection errors name the redacted DSN, never its password.

use std::time::Duration;

use secrecy::ExposeSecret;
use tokio_postgres::config::SslMode;
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, Config, NoTls};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::tls::{Mode, TlsSettings};
use crate::dsn::Dsn;
use crate::error::{Error, ErrorKind, Result};

/// Whether the session may write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    ReadOnly,
    ReadWrite,
    /// Only proves a login (through a pooler, which refuses `options`).
    LoginOnly,
}

pub(crate) const APPLICATION_NAME: &str = "dbops";

/// `--statement-lock-timeout`: PostgreSQL's `lock_timeout` on every session
/// dbops opens to a server, so no statement waits without bound on a lock
/// another session holds. Set once from the command line before any session
/// opens, like `PGOPTIONS` for libpq; 10 s unless set.
static STATEMENT_LOCK_TIMEOUT: std::sync::OnceLock<Duration> = std::sync::OnceLock::new();

/// The default of `--statement-lock-timeout`.
const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(10);

pub(crate) fn set_statement_lock_timeout(timeout: Duration) {
    let _ = STATEMENT_LOCK_TIMEOUT.set(timeout);
}

pub(crate) fn statement_lock_timeout() -> Duration {
    STATEMENT_LOCK_TIMEOUT
        .get()
        .copied()
        .unwrap_or(DEFAULT_LOCK_TIMEOUT)
}

fn config(dsn: &Dsn, access: Access, timeout: Duration) -> Result<Config> {
    let mut config = Config::new();
    config
        .user(&dsn.user)
        .host(&dsn.host)
        .port(dsn.port)
        .dbname(&dsn.database)
        .application_name(APPLICATION_NAME)
        .connect_timeout(timeout);
    if let Some(password) = dsn.password() {
        config.password(password.expose_secret().as_bytes());
    }
    if let Some(address) = dsn.params.get("hostaddr") {
        let ip: std::net::IpAddr = address.parse().map_err(|_| {
            Error::new("the DSN's `hostaddr` is not an IP address")
            .kind(ErrorKind::Config)
            .hint("`hostaddr` is the numeric address to connect to; `host` stays the name TLS verifies")
        })?;
        config.hostaddr(ip);
    }
    // At least 1 ms: PostgreSQL reads 0 as "wait forever".
    let lock_ms = statement_lock_timeout()
        .as_millis()
        .clamp(1, i32::MAX as u128);
    match access {
        Access::ReadOnly => config.options(format!(
            "-c default_transaction_read_only=on -c lock_timeout={lock_ms}"
        )),
        Access::ReadWrite => config.options(format!("-c lock_timeout={lock_ms}")),
        Access::LoginOnly => &mut config,
    };
    Ok(config)
}

/// A DSN made ready to connect: its libpq-style settings and TLS connector.
struct Prepared {
    config: Config,
    mode: Mode,
    tls: Option<MakeRustlsConnect>,
}

fn prepare(dsn: &Dsn, access: Access, timeout: Duration) -> Result<Prepared> {
    let mut config = config(dsn, access, timeout)?;
    let settings = TlsSettings::from_dsn(dsn)?;
    config.ssl_mode(match settings.mode {
        Mode::Disable | Mode::Allow => SslMode::Disable,
        Mode::Prefer => SslMode::Prefer,
        _ => SslMode::Require,
    });
    let tls = match settings.mode {
        Mode::Disable => None,
        _ => Some(settings.connector()?),
    };
    Ok(Prepared {
        config,
        mode: settings.mode,
        tls,
    })
}

impl Prepared {
    /// One connection attempt with the DSN's TLS settings; `allow` tries
    /// without TLS first and with TLS when the server refuses that.
    async fn establish(&self) -> std::result::Result<Client, tokio_postgres::Error> {
        let first = match (&self.tls, self.config.get_ssl_mode()) {
            (Some(tls), SslMode::Prefer | SslMode::Require) => {
                Self::spawn(self.config.connect(tls.clone()).await)
            }
            _ => Self::spawn(self.config.connect(NoTls).await),
        };
        match (first, &self.tls) {
            (Err(e), Some(tls)) if self.mode == Mode::Allow && e.code().is_some() => {
                let mut config = self.config.clone();
                config.ssl_mode(SslMode::Require);
                Self::spawn(config.connect(tls.clone()).await)
            }
            (result, _) => result,
        }
    }

    fn spawn<S, T>(
        result: std::result::Result<
            (Client, tokio_postgres::Connection<S, T>),
            tokio_postgres::Error,
        >,
    ) -> std::result::Result<Client, tokio_postgres::Error>
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
        T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let (client, connection) = result?;
        let task = tokio::spawn(async move {
            // Errors surface on the client's next call.
            let _ = connection.await;
        });
        crate::section::track(task);
        Ok(client)
    }
}

/// Connects, bounded by `timeout` for the TCP connect and the whole handshake.
pub(crate) async fn connect(dsn: &Dsn, access: Access, timeout: Duration) -> Result<Client> {
    match connect_if_exists(dsn, access, timeout).await? {
        Connected::Client(client) => Ok(client),
        Connected::NoSuchDatabase => Err(Error::new(format!(
            "cannot connect to {dsn}: database `{}` does not exist",
            dsn.database
        ))
        .kind(ErrorKind::Connection)
        .hint("create it, or point the DSN at an existing database")),
    }
}

/// A session, or the fact that its database does not exist (yet).
pub(crate) enum Connected {
    Client(Client),
    NoSuchDatabase,
}

/// Like [`connect`], but a missing database is an answer, not an error.
pub(crate) async fn connect_if_exists(
    dsn: &Dsn,
    access: Access,
    timeout: Duration,
) -> Result<Connected> {
    let prepared = prepare(dsn, access, timeout)?;
    let attempt = tokio::time::timeout(timeout, prepared.establish()).await;
    let client = match attempt {
        Err(_) => {
            return Err(Error::new(format!(
                "cannot connect to {dsn}: no answer within {}",
                humantime::format_duration(timeout)
            ))
            .kind(ErrorKind::Connection)
            .hint("check the host and port, and that the server is up; `--connect-timeout` sets the limit"))
        }
        Ok(Err(e)) if e.code() == Some(&SqlState::INVALID_CATALOG_NAME) => return Ok(Connected::NoSuchDatabase),
        Ok(Err(e)) => return Err(connect_error(dsn, &e)),
        Ok(Ok(client)) => client,
    };
    Ok(Connected::Client(client))
}

/// What one login attempt found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Login {
    Accepted,
    /// The server answered and refused the credentials.
    Refused,
    /// Nothing answered (refused connection, timeout, unknown host): the reason.
    Unreachable(String),
    /// The server answered with another error: its message.
    Failed(String),
    /// A pooler accepted the client, but its own login to the server was
    /// refused when a statement needed one: the message.
    ServerRefused(String),
    /// A pooler accepted the client, but no statement answered in time
    /// (pgBouncer keeps clients waiting while its server logins fail): why.
    Stalled(String),
}

/// Logs in with `dsn` and runs `SELECT 1`: through a pooler the statement
/// needs a server connection, which a new one logs in for; a refused server
/// login is `ServerRefused`. (An idle server connection may serve it
/// instead: a success proves the client login, not every server login.)
pub(crate) async fn try_statement(dsn: &Dsn, timeout: Duration) -> Login {
    let client = match login(dsn, timeout).await {
        Ok(client) => client,
        Err(failed) => return failed,
    };
    match tokio::time::timeout(timeout, client.simple_query("SELECT 1")).await {
        Err(_) => Login::Stalled(format!(
            "`SELECT 1` did not answer within {}",
            humantime::format_duration(timeout)
        )),
        Ok(Ok(_)) => Login::Accepted,
        Ok(Err(e)) => {
            let message = describe(&e);
            let lower = message.to_ascii_lowercase();
            if lower.contains("login") || lower.contains("authentication") {
                Login::ServerRefused(message)
            } else {
                Login::Failed(message)
            }
        }
    }
}

async fn login(dsn: &Dsn, timeout: Duration) -> std::result::Result<Client, Login> {
    let prepared = match prepare(dsn, Access::LoginOnly, timeout) {
        Ok(prepared) => prepared,
        Err(e) => return Err(Login::Failed(e.message().to_string())),
    };
    Err(
        match tokio::time::timeout(timeout, prepared.establish()).await {
            Err(_) => Login::Unreachable(format!(
                "no answer within {}",
                humantime::format_duration(timeout)
            )),
            Ok(Ok(client)) => return Ok(client),
            // pgBouncer reports a refused password with SQLSTATE 08P01.
            Ok(Err(e))
                if is_bad_password(&e)
                    || e.as_db_error().is_some_and(|db| {
                        db.message().contains("password authentication failed")
                            || db.message().contains("SASL authentication failed")
                    }) =>
            {
                Login::Refused
            }
            Ok(Err(e)) if is_refused(&e) => Login::Unreachable("connection refused".into()),
            Ok(Err(e)) if e.code().is_none() => Login::Unreachable(describe(&e)),
            Ok(Err(e)) => Login::Failed(describe(&e)),
        },
    )
}

/// The server is not listening: the TCP connection was refused.
pub(crate) fn is_refused(error: &tokio_postgres::Error) -> bool {
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            return io.kind() == std::io::ErrorKind::ConnectionRefused;
        }
        source = cause.source();
    }
    false
}

/// What a failed login attempt means for a password check.
pub(crate) fn is_bad_password(error: &tokio_postgres::Error) -> bool {
    error.code() == Some(&SqlState::INVALID_PASSWORD)
}

fn connect_error(dsn: &Dsn, error: &tokio_postgres::Error) -> Error {
    let reason = describe(error);
    let out = Error::new(format!("cannot connect to {dsn}: {reason}")).kind(kind_of(error));
    if is_bad_password(error) {
        return out.hint("the password in the DSN is not the one the server has for this user");
    }
    match tls_hint(&reason, error.code(), dsn) {
        Some(hint) => out.hint(hint),
        None if error.code().is_none() => {
            out.hint("check the host and port, and that the server is up")
        }
        None => out,
    }
}

/// The TLS cause of a failed connection, named as precisely as the error
/// allows; `None` when TLS is not the cause.
fn tls_hint(reason: &str, code: Option<&SqlState>, dsn: &Dsn) -> Option<&'static str> {
    let lower = reason.to_ascii_lowercase();
    let mode = dsn.params.get("sslmode").map_or("prefer", String::as_str);
    if lower.contains("server does not support tls") || lower.contains("does not support ssl") {
        return Some("the DSN requires TLS (`sslmode`), and the server does not offer it: turn on `ssl` on the server, or lower `sslmode`");
    }
    if lower.contains("unknownissuer") || lower.contains("unknown issuer") {
        return Some("the server's certificate is not signed by a CA in `sslrootcert`: give the CA that signed it");
    }
    if lower.contains("notvalidforname") || lower.contains("not valid for name") {
        return Some("the server's certificate does not name the DSN's host, which `sslmode=verify-full` checks: connect by a name the certificate holds, or use `verify-ca`");
    }
    if lower.contains("expired") {
        return Some("the server's certificate has expired: renew it on the server");
    }
    if lower.contains("notvalidyet") || lower.contains("not valid yet") {
        return Some("the server's certificate is not valid yet: check the clocks of the server and of this machine");
    }
    if lower.contains("certificate") {
        return Some("the server's certificate was refused: check `sslrootcert` and the certificate the server presents");
    }
    // pg_hba.conf admits this client only over TLS (`hostssl`).
    let no_encryption = lower.contains("no encryption")
        && code == Some(&SqlState::INVALID_AUTHORIZATION_SPECIFICATION);
    if no_encryption && matches!(mode, "disable" | "allow") {
        return Some("the server admits this user only over TLS (a `hostssl` line in pg_hba.conf), and the DSN's `sslmode` does not use it: use `sslmode=require` or stricter");
    }
    if lower.contains("handshake") || lower.contains("tls") {
        return Some("the TLS handshake failed: check the server's `ssl` settings and the DSN's `sslmode`, `sslcert` and `sslkey`");
    }
    None
}

/// The kind of a server or client error.
pub(crate) fn kind_of(error: &tokio_postgres::Error) -> ErrorKind {
    match error.code() {
        None => ErrorKind::Connection,
        Some(code)
            if *code == SqlState::INVALID_PASSWORD
                || *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION =>
        {
            ErrorKind::Authentication
        }
        Some(code) if *code == SqlState::INSUFFICIENT_PRIVILEGE => ErrorKind::Permission,
        Some(code) if *code == SqlState::LOCK_NOT_AVAILABLE => ErrorKind::Conflict,
        Some(code) if code.code().starts_with("08") => ErrorKind::Connection,
        Some(_) => ErrorKind::Server,
    }
}

/// An error from a statement: the server's message, kind by its SQLSTATE.
pub(crate) fn server_error(
    context: impl std::fmt::Display,
    error: &tokio_postgres::Error,
) -> Error {
    Error::new(format!("{context}: {}", describe(error)))
        .kind(kind_of(error))
        .sqlstate(error.code().map(SqlState::code))
}

/// A server or client error in one line: the server's message, else the
/// client's error chain.
pub(crate) fn describe(error: &tokio_postgres::Error) -> String {
    if let Some(db) = error.as_db_error() {
        return db.message().to_string();
    }
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        match cause.downcast_ref::<std::io::Error>() {
            Some(io) => text = format!("{text}: {}", crate::util::files::io_reason(io)),
            None => text = format!("{text}: {cause}"),
        }
        source = cause.source();
    }
    text.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_start_read_only_or_not_with_a_bounded_lock_wait() {
        let dsn = Dsn::parse("postgres://u:p@127.0.0.1/db").unwrap();
        let timeout = Duration::from_secs(1);
        let read_only = config(&dsn, Access::ReadOnly, timeout).unwrap();
        assert_eq!(
            read_only.get_options(),
            Some("-c default_transaction_read_only=on -c lock_timeout=10000")
        );
        let read_write = config(&dsn, Access::ReadWrite, timeout).unwrap();
        assert_eq!(read_write.get_options(), Some("-c lock_timeout=10000"));
        assert_eq!(read_write.get_application_name(), Some(APPLICATION_NAME));
        // A pooler refuses startup options: a login-only session has none.
        let login = config(&dsn, Access::LoginOnly, timeout).unwrap();
        assert_eq!(login.get_options(), None);
    }

    #[test]
    fn tls_hints_name_the_cause() {
        let dsn = Dsn::parse("postgres://u:p@h/db?sslmode=disable").unwrap();
        let hint = |reason: &str, code: Option<&SqlState>| tls_hint(reason, code, &dsn);
        assert!(hint(
            "error performing tls handshake: server does not support tls",
            None
        )
        .unwrap()
        .contains("does not offer it"));
        assert!(hint("invalid peer certificate: UnknownIssuer", None)
            .unwrap()
            .contains("not signed by a CA"));
        assert!(hint("invalid peer certificate: NotValidForName", None)
            .unwrap()
            .contains("does not name the DSN's host"));
        assert!(hint(
            "no pg_hba.conf entry for host \"127.0.0.1\", user \"u\", database \"db\", no encryption",
            Some(&SqlState::INVALID_AUTHORIZATION_SPECIFICATION)
        )
        .unwrap()
        .contains("only over TLS"));
        assert_eq!(hint("connection refused", None), None);
    }

    #[test]
    fn tls_settings_are_checked_before_connecting() {
        let dsn = Dsn::parse("postgres://u:p@h/db?sslmode=verify-full").unwrap();
        let error = prepare(&dsn, Access::ReadOnly, Duration::from_secs(1))
            .err()
            .unwrap();
        assert!(error.message().contains("no root certificate"));
        assert_eq!(
            Dsn::parse("postgres://u:p@h/db?hostaddr=localhost").unwrap_err(),
            crate::dsn::DsnError::BadHostaddr
        );
    }
}
