//! Roles: DSNs parsed and cross-checked, attributes defaulted, memberships.

use super::*;

pub(super) fn resolve_role(
    name: &str,
    role: &RawRole,
    source: &SourceFile,
    admin: &Dsn,
    admin_ref: &SecretRef,
) -> Result<DesiredRole> {
    let role_at = source.locate(&["roles", name]);
    check_name(name, "role", role_at.clone())?;
    if name.starts_with("pg_") {
        return Err(Error::new(format!(
            "role `{name}`: names beginning with `pg_` are reserved for PostgreSQL's built-in roles"
        ))
        .at(role_at));
    }

    let (dsn, password) = match (&role.dsn, &role.password) {
        (Some(_), Some(_)) => {
            return Err(Error::new(format!(
                "role `{name}` sets both `dsn` and `password`; the DSN already carries the password"
            ))
            .at(source.locate(&["roles", name, "password"]))
            .hint("keep `dsn` and remove `password`"))
        }
        (Some(reference), None) => {
            let path = ["roles", name, "dsn"];
            let dsn = resolve_dsn(reference, source, &path)?;
            let at = source.locate(&path);
            if dsn.user != name {
                return Err(Error::new(format!(
                    "role `{name}`: the DSN in `{}` is for user `{}`, not `{name}`",
                    reference.source_name(),
                    dsn.user
                ))
                .at(at)
                .hint(format!(
                    "rename the table to `[roles.{}]` or point `dsn` at the DSN of `{name}`",
                    dsn.user
                )));
            }
            if dsn.user == admin.user {
                let mut error = Error::new(format!(
                    "role `{name}` is the admin user of `{}`; dbops connects as the admin and does not manage it",
                    admin_ref.source_name()
                ))
                .at(at.clone());
                if !dsn.same_password(admin) {
                    error = error.cause(format!(
                        "`{}` and `{}` name the same user with different passwords",
                        admin_ref.source_name(),
                        reference.source_name()
                    ));
                }
                return Err(error.hint("give the application its own role"));
            }
            let login = role.login.unwrap_or(true);
            if dsn.password().is_none() && login {
                return Err(Error::new(format!(
                    "role `{name}`: the DSN in `{}` has no password, and `{name}` is a login role",
                    reference.source_name()
                ))
                .at(at)
                .hint("put the password in the DSN, percent-encoded: `postgres://USER:PASSWORD@HOST/DATABASE`"));
            }
            check_name(&dsn.database, "database", at)?;
            let password = dsn.password().cloned();
            (Some(dsn), password)
        }
        (None, Some(reference)) => {
            let at = source.locate(&["roles", name, "password"]);
            let secret = reference
                .resolve()
                .map_err(|e| Error::new(format!("key `roles.{name}.password`: {e}")).at(at))?;
            (None, Some(secret))
        }
        (None, None) => (None, None),
    };

    let connection_limit = role.connection_limit.unwrap_or(-1);
    if connection_limit < -1 {
        return Err(Error::new(format!(
            "key `roles.{name}.connection_limit`: {connection_limit} is not a connection limit"
        ))
        .at(source.locate(&["roles", name, "connection_limit"]))
        .hint("use a number of connections, or -1 for no limit"));
    }
    let valid_until = match &role.valid_until {
        None => None,
        Some(text) => normalize_valid_until(text).map_err(|why| {
            Error::new(format!("key `roles.{name}.valid_until`: {why}"))
                .at(source.locate(&["roles", name, "valid_until"]))
                .hint("write an RFC 3339 UTC timestamp such as `2027-01-01T00:00:00Z`, a date such as `2027-01-01`, or `infinity`")
        })?,
    };

    let mut member_of = BTreeSet::new();
    for (index, group) in role.member_of.iter().flatten().enumerate() {
        let at = source.locate(&["roles", name, "member_of", &index.to_string()]);
        check_name(group, "role", at.clone())?;
        if group == name {
            return Err(Error::new(format!("role `{name}` cannot be a member of itself")).at(at));
        }
        member_of.insert(group.clone());
    }

    let has_password = password.is_some();
    Ok(DesiredRole {
        name: name.to_string(),
        attributes: RoleAttributes {
            login: role.login.unwrap_or(has_password || dsn.is_some()),
            superuser: role.superuser.unwrap_or(false),
            createdb: role.createdb.unwrap_or(false),
            createrole: role.createrole.unwrap_or(false),
            inherit: role.inherit.unwrap_or(true),
            replication: role.replication.unwrap_or(false),
            bypass_rls: role.bypass_rls.unwrap_or(false),
            connection_limit,
            valid_until,
        },
        password,
        dsn,
        member_of,
    })
}

/// `infinity` -> `None`; a date or RFC 3339 UTC timestamp -> `YYYY-MM-DDTHH:MM:SSZ`.
pub fn normalize_valid_until(text: &str) -> std::result::Result<Option<String>, String> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("infinity") {
        return Ok(None);
    }
    let utc = if text.len() == 10 {
        Some(format!("{text}T00:00:00"))
    } else {
        text.strip_suffix('Z')
            .or_else(|| text.strip_suffix("+00:00"))
            .map(str::to_string)
    };
    let time = utc
        .and_then(|t| humantime::parse_rfc3339_weak(&t).ok())
        .ok_or_else(|| format!("`{text}` is not a UTC timestamp"))?;
    Ok(Some(humantime::format_rfc3339_seconds(time).to_string()))
}

#[cfg(test)]
mod tests {
    use super::normalize_valid_until;

    #[test]
    fn valid_until_normalizes() {
        assert_eq!(normalize_valid_until("infinity").unwrap(), None);
        assert_eq!(
            normalize_valid_until("2027-01-01").unwrap().as_deref(),
            Some("2027-01-01T00:00:00Z")
        );
        assert_eq!(
            normalize_valid_until("2027-01-01T10:20:30Z")
                .unwrap()
                .as_deref(),
            Some("2027-01-01T10:20:30Z")
        );
        assert_eq!(
            normalize_valid_until("2027-01-01T10:20:30+00:00")
                .unwrap()
                .as_deref(),
            Some("2027-01-01T10:20:30Z")
        );
        assert!(normalize_valid_until("2027-01-01T10:20:30+02:00").is_err());
        assert!(normalize_valid_until("2027-01-01T10:20:30").is_err());
        assert!(normalize_valid_until("next week").is_err());
    }
}
