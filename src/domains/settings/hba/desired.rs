//! The HBA file as resolved: typed lines, each checked against what the
//! renderer can write and the matcher can evaluate.

use std::net::IpAddr;

/// A connection type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Local,
    Host,
    HostSsl,
    HostNoSsl,
}

impl Kind {
    pub(crate) fn word(self) -> &'static str {
        match self {
            Kind::Local => "local",
            Kind::Host => "host",
            Kind::HostSsl => "hostssl",
            Kind::HostNoSsl => "hostnossl",
        }
    }
}

/// A database or user field entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Name {
    All,
    Named(String),
    /// `+group`: members of the group (users only).
    Group(String),
}

/// An address: a CIDR, or `all`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Address {
    All,
    Cidr(IpAddr, u8),
}

/// The methods dbops writes: those it can vouch for and evaluate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    ScramSha256,
    Peer,
    Cert,
    Reject,
}

impl Method {
    pub(crate) fn word(self) -> &'static str {
        match self {
            Method::ScramSha256 => "scram-sha-256",
            Method::Peer => "peer",
            Method::Cert => "cert",
            Method::Reject => "reject",
        }
    }
}

/// One line, and why it is there (its comment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Line {
    pub(crate) kind: Kind,
    pub(crate) databases: Vec<Name>,
    pub(crate) users: Vec<Name>,
    pub(crate) address: Option<Address>,
    pub(crate) method: Method,
    pub(crate) why: String,
}

/// An application role: its DSN's database, and whether its DSN requires TLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApplicationRole {
    pub(crate) name: String,
    pub(crate) database: String,
    pub(crate) tls: bool,
}

/// `[server.hba]`, resolved: the lines in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DesiredHba {
    pub(crate) lines: Vec<Line>,
}
