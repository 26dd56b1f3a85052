//! From `[server.hba]` and the declared roles to the file's lines: the
//! application roles' lines (from `application_from` only, rejected
//! elsewhere), the admin's local peer line, then the declared rules. Every
//! name is checked for what PostgreSQL's HBA reader and the matcher take:
//! no control character, no `"`, no `@file`; `+group` only for plain names;
//! addresses as CIDRs or `all` (no host names, `samehost` or `samenet`).

use std::net::IpAddr;

use super::desired::{Address, ApplicationRole, DesiredHba, Kind, Line, Method, Name};
use super::raw::{RawHba, RawRule};
use crate::diagnostics::{Key, Resolver};
use crate::error::Result;

/// Where the application may connect from.
enum From {
    Local,
    Cidr(Address),
}

pub(crate) fn resolve(
    raw: &RawHba,
    application: &[ApplicationRole],
    admin: &str,
    r: &mut Resolver<'_>,
) -> Option<DesiredHba> {
    let mut lines = Vec::new();
    let mut failed = false;
    let mut from = Vec::new();
    for (index, entry) in raw.application_from.iter().enumerate() {
        let key = r.key(&["server", "hba", "application_from", &index.to_string()]);
        if entry == "local" {
            from.push(From::Local);
            continue;
        }
        match cidr(entry, &key) {
            Ok(address) => from.push(From::Cidr(address)),
            Err(error) => {
                r.error(error);
                failed = true;
            }
        }
    }
    if from.is_empty() && !application.is_empty() && !failed {
        r.error(
            r.key(&["server", "hba", "application_from"])
                .error("names no place the application's roles may connect from: they could not log in at all")
                .hint("`application_from = [\"local\"]` when pgBouncer reaches PostgreSQL over its Unix socket, or the pooler's CIDR (`\"10.0.0.5/32\"`)"),
        );
        failed = true;
    }
    for role in application {
        match application_lines(role, &from) {
            Ok(role_lines) => lines.extend(role_lines),
            Err(error) => {
                r.error(r.key(&["roles", &role.name, "dsn"]).error(error));
                failed = true;
            }
        }
    }
    match plain(admin) {
        Ok(admin) => lines.push(Line {
            kind: Kind::Local,
            databases: vec![Name::All],
            users: vec![Name::Named(admin)],
            address: None,
            method: Method::Peer,
            why: "the admin's maintenance, on the local socket".into(),
        }),
        Err(why) => {
            r.error(r.key(&["postgres", "admin"]).error(format!(
                "the admin DSN's user cannot be written into pg_hba.conf: {why}"
            )));
            failed = true;
        }
    }
    for (index, rule) in raw.rules.iter().enumerate() {
        let key = r.key(&["server", "hba", "rules", &index.to_string()]);
        match line(rule, &key) {
            Ok(line) => lines.push(line),
            Err(error) => {
                r.error(error);
                failed = true;
            }
        }
    }
    (!failed).then_some(DesiredHba { lines })
}

/// An application role's lines: allowed from each place, rejected elsewhere.
fn application_lines(
    role: &ApplicationRole,
    from: &[From],
) -> std::result::Result<Vec<Line>, String> {
    let (Ok(database), Ok(user)) = (plain(&role.database), plain(&role.name)) else {
        return Err(format!(
            "role `{}` or its database cannot be written into pg_hba.conf (a `\"` or a control character)",
            role.name
        ));
    };
    let mut lines = Vec::new();
    let why = format!("`{}`: only from `application_from`, SCRAM only", role.name);
    for place in from {
        let (kind, address) = match place {
            From::Local => (Kind::Local, None),
            From::Cidr(address) => (
                if role.tls { Kind::HostSsl } else { Kind::Host },
                Some(*address),
            ),
        };
        lines.push(Line {
            kind,
            databases: vec![Name::Named(database.clone())],
            users: vec![Name::Named(user.clone())],
            address,
            method: Method::ScramSha256,
            why: why.clone(),
        });
    }
    let reject = format!("`{}`: nowhere else", role.name);
    if !from.iter().any(|f| matches!(f, From::Local)) {
        lines.push(Line {
            kind: Kind::Local,
            databases: vec![Name::All],
            users: vec![Name::Named(user.clone())],
            address: None,
            method: Method::Reject,
            why: reject.clone(),
        });
    }
    lines.push(Line {
        kind: Kind::Host,
        databases: vec![Name::All],
        users: vec![Name::Named(user)],
        address: Some(Address::All),
        method: Method::Reject,
        why: reject,
    });
    Ok(lines)
}

/// A name as the HBA reader takes it inside double quotes.
fn plain(name: &str) -> std::result::Result<String, &'static str> {
    if name.is_empty() {
        return Err("it is empty");
    }
    if name.contains('"') {
        return Err("it holds a `\"`, which pg_hba.conf cannot quote");
    }
    if name.chars().any(char::is_control) {
        return Err("it holds a control character");
    }
    Ok(name.to_string())
}

fn cidr(text: &str, key: &Key<'_>) -> Result<Address> {
    if text == "all" {
        return Ok(Address::All);
    }
    let refused = |why: &str| {
        key.error(format!("`{text}` {why}"))
            .hint("write a CIDR such as `10.0.0.5/32` or `::1/128`, or `all`")
    };
    if matches!(text, "samehost" | "samenet") {
        return Err(refused("is not evaluated by dbops's lockout guard"));
    }
    let Some((ip, bits)) = text.split_once('/') else {
        return Err(refused("is not a CIDR (host names are not evaluated)"));
    };
    let ip: IpAddr = ip
        .parse()
        .map_err(|_| refused("is not a CIDR (host names are not evaluated)"))?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    match bits.parse::<u8>() {
        Ok(bits) if bits <= max => Ok(Address::Cidr(ip, bits)),
        _ => Err(refused("has a prefix length out of range")),
    }
}

fn names(list: &[String], users: bool, key: &Key<'_>) -> Result<Vec<Name>> {
    if list.is_empty() {
        return Err(key.error("is empty").hint("name at least one, or `all`"));
    }
    list.iter()
        .map(|name| {
            if name == "all" {
                return Ok(Name::All);
            }
            if name.starts_with('@') {
                return Err(key.error(format!(
                    "`{name}` names a file, which dbops's lockout guard does not evaluate"
                )));
            }
            if !users && matches!(name.as_str(), "sameuser" | "samerole" | "samegroup" | "replication") {
                return Err(key.error(format!(
                    "`{name}` is not evaluated by dbops's lockout guard"
                )).hint("name the databases"));
            }
            if let Some(group) = name.strip_prefix('+').filter(|_| users) {
                let ok = !group.is_empty()
                    && group
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
                return if ok {
                    Ok(Name::Group(group.to_string()))
                } else {
                    Err(key.error(format!(
                        "`{name}`: a `+group` must be a plain lower-case name (PostgreSQL cannot quote it)"
                    )))
                };
            }
            plain(name)
                .map(Name::Named)
                .map_err(|why| key.error(format!("a name cannot be written into pg_hba.conf: {why}")))
        })
        .collect()
}

fn line(rule: &RawRule, key: &Key<'_>) -> Result<Line> {
    let kind = match rule.kind.as_str() {
        "local" => Kind::Local,
        "host" => Kind::Host,
        "hostssl" => Kind::HostSsl,
        "hostnossl" => Kind::HostNoSsl,
        other => {
            return Err(key
                .error(format!(
                    "`type = \"{other}\"` is not a connection type dbops writes"
                ))
                .hint("use `local`, `host`, `hostssl` or `hostnossl`"))
        }
    };
    let method = match rule.method.as_str() {
        "scram-sha-256" => Method::ScramSha256,
        "peer" => Method::Peer,
        "cert" => Method::Cert,
        "reject" => Method::Reject,
        "trust" | "password" | "md5" => {
            return Err(key
                .error(format!("`method = \"{}\"` is weaker than SCRAM; dbops does not write it", rule.method))
                .hint("use `scram-sha-256`"))
        }
        other => {
            return Err(key
                .error(format!("`method = \"{other}\"` is not a method dbops writes and its lockout guard evaluates"))
                .hint("use `scram-sha-256`, `peer`, `cert` or `reject`"))
        }
    };
    let address = match (kind, &rule.address) {
        (Kind::Local, None) => None,
        (Kind::Local, Some(_)) => {
            return Err(key.error("a `local` line has no `address`"));
        }
        (_, None) => {
            return Err(key
                .error("a `host` line needs an `address`")
                .hint("a CIDR, or `all`"));
        }
        (_, Some(text)) => Some(cidr(text, key)?),
    };
    Ok(Line {
        kind,
        databases: names(&rule.database, false, key)?,
        users: names(&rule.user, true, key)?,
        address,
        method,
        why: "declared in `[[server.hba.rules]]`".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::Locate;
    use crate::domains::settings::hba::render::render;
    use crate::error::Location;

    struct Nowhere;
    impl Locate for Nowhere {
        fn locate(&self, _: &[&str]) -> Option<Location> {
            None
        }
    }

    fn rule(kind: &str, user: &str, address: Option<&str>, method: &str) -> RawRule {
        RawRule {
            kind: kind.into(),
            database: vec!["all".into()],
            user: vec![user.into()],
            address: address.map(str::to_string),
            method: method.into(),
        }
    }

    #[test]
    fn the_file_dbops_renders() {
        let raw = RawHba {
            application_from: vec!["local".into(), "10.0.0.5/32".into()],
            rules: vec![
                rule("host", "postgres", Some("127.0.0.1/32"), "scram-sha-256"),
                rule("hostssl", "+ops", Some("::1/128"), "cert"),
            ],
        };
        let application = [ApplicationRole {
            name: "app user".into(),
            database: "app".into(),
            tls: false,
        }];
        let mut r = Resolver::new(&Nowhere);
        let desired = resolve(&raw, &application, "postgres", &mut r).unwrap();
        assert!(!r.has_errors());
        insta::assert_snapshot!(render(&desired));
    }

    #[test]
    fn what_the_guard_cannot_evaluate_or_the_file_cannot_carry_is_refused() {
        for (raw_rule, expected) in [
            (
                rule("host", "all", Some("samenet"), "scram-sha-256"),
                "`samenet` is not evaluated",
            ),
            (
                rule("host", "all", Some("db.internal"), "scram-sha-256"),
                "host names are not evaluated",
            ),
            (
                rule("host", "@admins", Some("all"), "scram-sha-256"),
                "names a file",
            ),
            (
                rule("host", "a\"b", Some("all"), "scram-sha-256"),
                "cannot quote",
            ),
            (
                rule("host", "a\nb", Some("all"), "scram-sha-256"),
                "control character",
            ),
            (
                rule("host", "+Ops Team", Some("all"), "scram-sha-256"),
                "a `+group` must be a plain",
            ),
            (
                rule("host", "all", Some("all"), "trust"),
                "weaker than SCRAM",
            ),
            (
                rule("host", "all", Some("all"), "ldap"),
                "not a method dbops writes",
            ),
            (
                rule("local", "all", Some("all"), "peer"),
                "a `local` line has no `address`",
            ),
        ] {
            let raw = RawHba {
                application_from: vec!["local".into()],
                rules: vec![raw_rule],
            };
            let mut r = Resolver::new(&Nowhere);
            assert!(
                resolve(&raw, &[], "postgres", &mut r).is_none(),
                "{expected}"
            );
            let (errors, _) = r.finish();
            let text = errors[0].to_string();
            assert!(text.contains(expected), "{expected}: {text}");
        }
    }
}
