//! PostgreSQL connection URLs (DSNs): parsing with a real URL parser, and a
//! redacting wrapper so a DSN can be printed without its password.
//!
//! Follows libpq's URI rules: `postgres://` or `postgresql://`, percent-encoded
//! user and password, IPv6 hosts in brackets, port 5432 by default, the database
//! from the path (the user name when the path is empty), other parameters such as
//! `sslmode` kept. A `password` query parameter is taken as the password. Parse
//! errors never quote the input: it may hold a secret.

use std::collections::BTreeMap;
use std::fmt;

use percent_encoding::percent_decode_str;
use secrecy::SecretString;

/// The default PostgreSQL port, as libpq uses it.
pub(crate) const DEFAULT_PORT: u16 = 5432;

/// Where libpq looks for the server's Unix socket when a DSN names no host
/// (Debian's and the official images' build).
const DEFAULT_SOCKET_DIRECTORY: &str = "/var/run/postgresql";

/// libpq's `postgres://user@/db?host=/run/postgresql` names no host in the
/// URI (a Unix socket). A URL parser refuses an empty host after user
/// information, so one stands in while parsing: the text to parse, and
/// whether the host was empty.
fn with_host_placeholder(input: &str) -> (String, bool) {
    let Some((scheme, rest)) = input.split_once("://") else {
        return (input.to_string(), false);
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let (userinfo, host_port) = match authority.rfind('@') {
        Some(at) => (&authority[..=at], &authority[at + 1..]),
        None => ("", authority),
    };
    if !host_port.is_empty() && !host_port.starts_with(':') {
        return (input.to_string(), false);
    }
    (
        format!("{scheme}://{userinfo}localhost{host_port}{tail}"),
        true,
    )
}

#[derive(Clone)]
pub(crate) struct Dsn {
    pub(crate) user: String,
    password: Option<SecretString>,
    /// Host name or address; IPv6 without brackets.
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) database: String,
    pub(crate) params: BTreeMap<String, String>,
}

/// Why a DSN could not be parsed. Holds no part of the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DsnError {
    NotAUrl(String),
    NotPostgres,
    NoUser,
    NoHost,
    NotUtf8(&'static str),
    BadPort,
    /// A `%` not followed by two hexadecimal digits, which libpq refuses.
    BadPercent(&'static str),
    /// `hostaddr` is not a numeric address.
    BadHostaddr,
}

/// Every connection parameter libpq knows (PostgreSQL 17), so a DSN naming
/// another is told apart: refused in the admin DSN, a warning in an
/// application's (which its own driver may read: `?schema=`).
pub(crate) const LIBPQ_PARAMETERS: &[&str] = &[
    "application_name",
    "channel_binding",
    "client_encoding",
    "connect_timeout",
    "dbname",
    "fallback_application_name",
    "gssdelegation",
    "gssencmode",
    "gsslib",
    "host",
    "hostaddr",
    "keepalives",
    "keepalives_count",
    "keepalives_idle",
    "keepalives_interval",
    "krbsrvname",
    "load_balance_hosts",
    "options",
    "passfile",
    "password",
    "port",
    "replication",
    "require_auth",
    "requirepeer",
    "requiressl",
    "service",
    "ssl_max_protocol_version",
    "ssl_min_protocol_version",
    "sslcert",
    "sslcertmode",
    "sslcompression",
    "sslcrl",
    "sslcrldir",
    "sslkey",
    "sslmode",
    "sslnegotiation",
    "sslpassword",
    "sslrootcert",
    "sslsni",
    "target_session_attrs",
    "tcp_user_timeout",
    "user",
];

/// The predicate of "the DSN in `$VAR` ...": it reads after the DSN's name.
impl fmt::Display for DsnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DsnError::NotAUrl(reason) => write!(f, "is not a valid URL ({reason})"),
            DsnError::NotPostgres => write!(
                f,
                "is not a PostgreSQL URL: it must start with `postgres://` or `postgresql://`"
            ),
            DsnError::NoUser => write!(f, "names no user"),
            DsnError::NoHost => write!(f, "names no host"),
            DsnError::BadPort => write!(f, "has a `port` parameter that is not a port number"),
            DsnError::BadHostaddr => write!(
                f,
                "has a `hostaddr` parameter that is not an IP address (`host` stays the name TLS verifies)"
            ),
            DsnError::BadPercent(part) => write!(
                f,
                "has a `%` in its {part} not followed by two hexadecimal digits (libpq refuses it; write `%25` for a `%`)"
            ),
            DsnError::NotUtf8(part) => {
                write!(f, "has a {part} that is not valid UTF-8 once percent-decoded")
            }
        }
    }
}

impl Dsn {
    pub(crate) fn parse(input: &str) -> Result<Self, DsnError> {
        check_percent_encoding(input.trim())?;
        let (text, empty_host) = with_host_placeholder(input.trim());
        let url = url::Url::parse(&text).map_err(|e| DsnError::NotAUrl(e.to_string()))?;
        let scheme = url.scheme();
        if scheme != "postgres" && scheme != "postgresql" {
            return Err(DsnError::NotPostgres);
        }
        let user = decode(url.username(), "user")?;
        if user.is_empty() {
            return Err(DsnError::NoUser);
        }
        let mut password = match url.password() {
            Some(p) => Some(decode(p, "password")?),
            None => None,
        };
        let mut host = match url.host() {
            _ if empty_host => DEFAULT_SOCKET_DIRECTORY.to_string(),
            Some(url::Host::Domain(d)) if !d.is_empty() => decode(d, "host")?,
            Some(url::Host::Ipv4(a)) => a.to_string(),
            Some(url::Host::Ipv6(a)) => a.to_string(),
            _ => return Err(DsnError::NoHost),
        };
        let mut port = url.port().unwrap_or(DEFAULT_PORT);
        let path = url.path().trim_start_matches('/');
        let database = if path.is_empty() {
            user.clone()
        } else {
            decode(path, "database name")?
        };
        let mut params = BTreeMap::new();
        for (key, value) in url.query_pairs() {
            // As in libpq, a query parameter names what the URI left out or overrides it.
            match key.as_ref() {
                "password" => password = Some(value.into_owned()),
                "host" if !value.is_empty() => host = value.into_owned(),
                "port" => port = value.parse().map_err(|_| DsnError::BadPort)?,
                "hostaddr" if value.parse::<std::net::IpAddr>().is_err() => {
                    return Err(DsnError::BadHostaddr)
                }
                _ => {
                    params.insert(key.into_owned(), value.into_owned());
                }
            }
        }
        Ok(Self {
            user,
            password: password.map(SecretString::from),
            host,
            port,
            database,
            params,
        })
    }

    /// The parameters libpq does not know, by name.
    pub(crate) fn unknown_params(&self) -> Vec<&str> {
        self.params
            .keys()
            .map(String::as_str)
            .filter(|key| !LIBPQ_PARAMETERS.contains(key))
            .collect()
    }

    pub(crate) fn password(&self) -> Option<&SecretString> {
        self.password.as_ref()
    }

    pub(crate) fn set_password(&mut self, password: &str) {
        self.password = Some(SecretString::from(password.to_string()));
    }

    /// A copy of this DSN that points at another database on the same server.
    pub(crate) fn with_database(&self, database: &str) -> Dsn {
        let mut dsn = self.clone();
        dsn.database = database.to_string();
        dsn
    }

    /// libpq's `key='value'` form without the password (for a client
    /// program's `--dbname`, visible in `ps`: the password goes in
    /// `PGPASSWORD`). Values are quoted as libpq parses them.
    pub(crate) fn conninfo_without_password(&self) -> String {
        let quote = |v: &str| format!("'{}'", v.replace('\\', "\\\\").replace('\'', "\\'"));
        let mut parts = vec![
            format!("host={}", quote(&self.host)),
            format!("port={}", self.port),
            format!("user={}", quote(&self.user)),
            format!("dbname={}", quote(&self.database)),
        ];
        for (key, value) in &self.params {
            let own = ["host", "port", "user", "dbname", "password"];
            if LIBPQ_PARAMETERS.contains(&key.as_str()) && !own.contains(&key.as_str()) {
                parts.push(format!("{key}={}", quote(value)));
            }
        }
        parts.join(" ")
    }

    /// `host:port`, with IPv6 addresses in brackets.
    pub(crate) fn endpoint(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// libpq decodes a URI's parts strictly: every `%` starts two hexadecimal
/// digits. Which part is wrong is named; nothing of it is quoted.
fn check_percent_encoding(input: &str) -> Result<(), DsnError> {
    let Some((_, rest)) = input.split_once("://") else {
        return Ok(());
    };
    let (before_query, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (authority, path) = before_query.split_once('/').unwrap_or((before_query, ""));
    let (userinfo, host) = match authority.rfind('@') {
        Some(at) => (&authority[..at], &authority[at + 1..]),
        None => ("", authority),
    };
    let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    for (text, part) in [
        (user, "user"),
        (password, "password"),
        (host, "host"),
        (path, "database name"),
        (query, "query"),
    ] {
        let bytes = text.as_bytes();
        let bad = bytes.iter().enumerate().any(|(i, b)| {
            *b == b'%'
                && !(bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                    && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
        });
        if bad {
            return Err(DsnError::BadPercent(part));
        }
    }
    Ok(())
}

fn decode(raw: &str, part: &'static str) -> Result<String, DsnError> {
    percent_decode_str(raw)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| DsnError::NotUtf8(part))
}

/// Prints `postgres://user:****@host:port/database`: never the password.
impl fmt::Display for Dsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secret = if self.password.is_some() { ":****" } else { "" };
        write!(
            f,
            "postgres://{}{}@{}/{}",
            self.user,
            secret,
            self.endpoint(),
            self.database
        )
    }
}

impl fmt::Debug for Dsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Dsn({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn parse(s: &str) -> Dsn {
        Dsn::parse(s).unwrap()
    }

    #[test]
    fn decodes_user_password_and_database() {
        let dsn = parse("postgres://app%20user:p%40ss%3Aw%2Frd%25%27%22%20x@db.internal:6432/my%20db?sslmode=disable");
        assert_eq!(dsn.user, "app user");
        assert_eq!(dsn.password().unwrap().expose_secret(), "p@ss:w/rd%'\" x");
        assert_eq!(dsn.host, "db.internal");
        assert_eq!(dsn.port, 6432);
        assert_eq!(dsn.database, "my db");
        assert_eq!(
            dsn.params.get("sslmode").map(String::as_str),
            Some("disable")
        );
    }

    #[test]
    fn defaults_port_and_database_like_libpq() {
        let dsn = parse("postgresql://app_user:pw@localhost");
        assert_eq!(dsn.port, 5432);
        assert_eq!(dsn.database, "app_user");
    }

    #[test]
    fn ipv6_host() {
        let dsn = parse("postgres://u:pw@[::1]:5433/app");
        assert_eq!(dsn.host, "::1");
        assert_eq!(dsn.endpoint(), "[::1]:5433");
    }

    #[test]
    fn password_from_query_parameter() {
        let dsn = parse("postgres://u@h/app?password=s%40cret&application_name=x");
        assert_eq!(dsn.password().unwrap().expose_secret(), "s@cret");
        assert!(!dsn.params.contains_key("password"));
    }

    #[test]
    fn display_and_debug_redact_the_password() {
        let dsn = parse("postgres://u:hunter2@h:1/app");
        assert_eq!(dsn.to_string(), "postgres://u:****@h:1/app");
        assert!(!format!("{dsn:?}").contains("hunter2"));
    }

    #[test]
    fn a_unix_socket_like_libpq() {
        let dsn = parse("postgres://backup@/postgres?host=/run/postgresql&port=5433");
        assert_eq!(dsn.host, "/run/postgresql");
        assert_eq!(dsn.port, 5433);
        assert_eq!(dsn.user, "backup");
        assert_eq!(dsn.database, "postgres");
        assert!(dsn.params.is_empty());
        let default = parse("postgres://u:p%40ss@/app");
        assert_eq!(default.host, "/var/run/postgresql");
        assert_eq!(default.password().unwrap().expose_secret(), "p@ss");
        let port_only = parse("postgresql://u@:6000/app?host=%2Ftmp%2Fsockets");
        assert_eq!(
            (port_only.host.as_str(), port_only.port),
            ("/tmp/sockets", 6000)
        );
        // A host in the query wins over the URI's, as in libpq.
        let both = parse("postgres://u@localhost:5432/app?host=/run/postgresql");
        assert_eq!(both.host, "/run/postgresql");
    }

    #[test]
    fn errors_never_quote_the_input() {
        for input in [
            "mysql://u:hunter2@h/db",
            "postgres://:hunter2@h/db",
            "hunter2",
            "postgres://u:hunter2@h:99999/db",
            "postgres://u:hunter2@h/db?port=many",
        ] {
            let err = Dsn::parse(input).unwrap_err().to_string();
            assert!(!err.contains("hunter2"), "{err}");
        }
        assert_eq!(
            Dsn::parse("mysql://u:p@h/db").unwrap_err(),
            DsnError::NotPostgres
        );
        // `user:pass@host` parses as a URL whose scheme is the user name.
        let error = Dsn::parse("app_user:hunter2@db/app")
            .unwrap_err()
            .to_string();
        assert!(
            !error.contains("app_user") && !error.contains("hunter2"),
            "{error}"
        );
        assert_eq!(
            Dsn::parse("postgres://:p@h/db").unwrap_err(),
            DsnError::NoUser
        );
    }

    #[test]
    fn bad_percent_encoding_is_refused_like_libpq() {
        for (input, part) in [
            ("postgres://u:hunter2%zz@h/db", "password"),
            ("postgres://u%4@h/db", "user"),
            ("postgres://u:p@h/d%b", "database name"),
            ("postgres://u:p@h/db?sslmode=%", "query"),
        ] {
            assert_eq!(
                Dsn::parse(input).unwrap_err(),
                DsnError::BadPercent(part),
                "{input}"
            );
        }
        assert!(!DsnError::BadPercent("password")
            .to_string()
            .contains("hunter2"));
        assert_eq!(
            parse("postgres://u:100%25@h/db")
                .password()
                .unwrap()
                .expose_secret(),
            "100%"
        );
    }

    #[test]
    fn parameters_libpq_does_not_know_are_named() {
        let dsn = parse("postgres://u:p@h/db?sslmode=require&schema=public&pgbouncer=true");
        assert_eq!(dsn.unknown_params(), ["pgbouncer", "schema"]);
        assert!(
            parse("postgres://u:p@h/db?application_name=x&target_session_attrs=any")
                .unknown_params()
                .is_empty()
        );
    }
}
