//! The lockout guard's matcher: which line of an HBA file a connection
//! meets first, as PostgreSQL decides it, for the subset dbops writes:
//! `local`, `host`, `hostssl`, `hostnossl`; databases by name or `all`;
//! users by name, `+group` or `all`; CIDR addresses or `all`. Pure.

use std::collections::BTreeSet;
use std::net::IpAddr;

use super::desired::{Address, Kind, Line, Method, Name};

/// A connection as the server sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Connection {
    /// `None`: the Unix socket.
    pub(crate) address: Option<IpAddr>,
    pub(crate) ssl: bool,
    pub(crate) database: String,
    pub(crate) user: String,
    /// Every role the user is a member of (for `+group`).
    pub(crate) groups: BTreeSet<String>,
    /// Whether it logs in with a client certificate (for `cert`).
    pub(crate) client_certificate: bool,
}

impl Connection {
    /// How this connection reads in a message.
    pub(crate) fn describe(&self) -> String {
        let from = match self.address {
            None => "the local socket".to_string(),
            Some(ip) => format!("{ip}{}", if self.ssl { " over TLS" } else { "" }),
        };
        format!(
            "user `{}` to database `{}` from {from}",
            self.user, self.database
        )
    }
}

fn contains(ip: IpAddr, network: IpAddr, bits: u8) -> bool {
    match (ip, network) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(bits))
            };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(bits))
            };
            u128::from(a) & mask == u128::from(n) & mask
        }
        // An IPv4 client of an IPv6 socket shows as `::ffff:a.b.c.d`.
        (IpAddr::V6(a), IpAddr::V4(_)) => a
            .to_ipv4_mapped()
            .is_some_and(|v4| contains(IpAddr::V4(v4), network, bits)),
        (IpAddr::V4(_), IpAddr::V6(_)) => false,
    }
}

fn matches(line: &Line, connection: &Connection) -> bool {
    let kind = match (line.kind, connection.address) {
        (Kind::Local, None) => true,
        (Kind::Host, Some(_)) => true,
        (Kind::HostSsl, Some(_)) => connection.ssl,
        (Kind::HostNoSsl, Some(_)) => !connection.ssl,
        _ => false,
    };
    let address = match (line.address, connection.address) {
        (None, _) | (Some(Address::All), _) => true,
        (Some(Address::Cidr(network, bits)), Some(ip)) => contains(ip, network, bits),
        (Some(Address::Cidr(..)), None) => false,
    };
    let database = line.databases.iter().any(|d| match d {
        Name::All => true,
        Name::Named(n) => n == &connection.database,
        Name::Group(_) => false,
    });
    let user = line.users.iter().any(|u| match u {
        Name::All => true,
        Name::Named(n) => n == &connection.user,
        Name::Group(g) => g == &connection.user || connection.groups.contains(g),
    });
    kind && address && database && user
}

/// The first line `connection` meets, and its index; `None` when none does
/// (PostgreSQL then refuses it).
pub(crate) fn first_match<'a>(
    lines: &'a [Line],
    connection: &Connection,
) -> Option<(usize, &'a Line)> {
    lines
        .iter()
        .enumerate()
        .find(|(_, line)| matches(line, connection))
}

/// Whether `connection` would still log in: its first line accepts it by a
/// method it can satisfy (a password for SCRAM, the local socket for peer,
/// a client certificate for cert). `Err` says why not.
pub(crate) fn admits(lines: &[Line], connection: &Connection) -> Result<(), String> {
    match first_match(lines, connection) {
        None => Err("no line matches it".into()),
        Some((index, line)) => {
            let ok = match line.method {
                Method::ScramSha256 => true,
                Method::Peer => connection.address.is_none(),
                Method::Cert => connection.client_certificate,
                Method::Reject => false,
            };
            if ok {
                Ok(())
            } else {
                Err(format!(
                    "its first matching line, line {} of the rules dbops writes (`{}`), says `{}`",
                    index + 1,
                    line.why,
                    line.method.word()
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(kind: Kind, user: Name, address: Option<Address>, method: Method) -> Line {
        Line {
            kind,
            databases: vec![Name::All],
            users: vec![user],
            address,
            method,
            why: "test".into(),
        }
    }

    fn admin(address: Option<&str>) -> Connection {
        Connection {
            address: address.map(|a| a.parse().unwrap()),
            ssl: false,
            database: "postgres".into(),
            user: "postgres".into(),
            groups: BTreeSet::from(["ops".to_string()]),
            client_certificate: false,
        }
    }

    #[test]
    fn first_match_decides_as_postgresql_does() {
        let loopback = Some(Address::Cidr("127.0.0.0".parse().unwrap(), 8));
        let lines = vec![
            line(
                Kind::Host,
                Name::Named("app".into()),
                Some(Address::All),
                Method::Reject,
            ),
            line(
                Kind::Local,
                Name::Named("postgres".into()),
                None,
                Method::Peer,
            ),
            line(Kind::HostSsl, Name::All, loopback, Method::ScramSha256),
            line(
                Kind::Host,
                Name::Group("ops".into()),
                loopback,
                Method::ScramSha256,
            ),
        ];
        assert_eq!(admits(&lines, &admin(None)), Ok(()));
        assert_eq!(first_match(&lines, &admin(Some("127.0.0.1"))).unwrap().0, 3);
        assert_eq!(admits(&lines, &admin(Some("127.0.0.1"))), Ok(()));
        let outside = admits(&lines, &admin(Some("10.1.2.3")));
        assert_eq!(outside, Err("no line matches it".into()));
        let mut app = admin(Some("127.0.0.1"));
        app.user = "app".into();
        assert!(admits(&lines, &app).unwrap_err().contains("says `reject`"));
        // An IPv4 client seen through an IPv6 socket.
        assert_eq!(admits(&lines, &admin(Some("::ffff:127.0.0.1"))), Ok(()));
        // Peer is for the socket only.
        let peer_only = vec![line(
            Kind::Host,
            Name::All,
            Some(Address::All),
            Method::Peer,
        )];
        assert!(admits(&peer_only, &admin(Some("127.0.0.1"))).is_err());
    }
}
