//! Which privileges each kind of object takes, and the `ALL` shorthand.

use crate::config::raw::GrantOn;

/// Privileges PostgreSQL 15 defines for each kind, in its own order.
pub fn valid(on: GrantOn) -> &'static [&'static str] {
    match on {
        GrantOn::Database => &["CREATE", "CONNECT", "TEMPORARY"],
        GrantOn::Schema => &["USAGE", "CREATE"],
        GrantOn::Tables => &[
            "SELECT",
            "INSERT",
            "UPDATE",
            "DELETE",
            "TRUNCATE",
            "REFERENCES",
            "TRIGGER",
        ],
        GrantOn::Sequences => &["USAGE", "SELECT", "UPDATE"],
        GrantOn::Functions => &["EXECUTE"],
    }
}

/// The word for a kind in messages and attribute names.
pub fn noun(on: GrantOn) -> &'static str {
    match on {
        GrantOn::Database => "database",
        GrantOn::Schema => "schema",
        GrantOn::Tables => "tables",
        GrantOn::Sequences => "sequences",
        GrantOn::Functions => "functions",
    }
}

/// The object keyword in `GRANT ... ON <keyword> name`.
pub fn object_keyword(on: GrantOn) -> &'static str {
    match on {
        GrantOn::Database => "DATABASE",
        GrantOn::Schema => "SCHEMA",
        GrantOn::Tables => "TABLE",
        GrantOn::Sequences => "SEQUENCE",
        GrantOn::Functions => "FUNCTION",
    }
}

/// Normalizes one written privilege (`select`, `TEMP`), or says why it is not
/// one `on` takes. `ALL` expands to every privilege of the kind.
pub fn parse(on: GrantOn, written: &str) -> Result<Vec<&'static str>, String> {
    let upper = written.trim().to_ascii_uppercase();
    let upper = match upper.as_str() {
        "TEMP" => "TEMPORARY".to_string(),
        "ALL PRIVILEGES" => "ALL".to_string(),
        _ => upper,
    };
    if upper == "ALL" {
        return Ok(valid(on).to_vec());
    }
    valid(on)
        .iter()
        .find(|p| **p == upper)
        .map(|p| vec![*p])
        .ok_or_else(|| {
            format!(
                "`{written}` is not a privilege on {}; valid: {}, or `ALL`",
                noun(on),
                valid(on)
                    .iter()
                    .map(|p| format!("`{p}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_expands() {
        assert_eq!(parse(GrantOn::Tables, "select").unwrap(), vec!["SELECT"]);
        assert_eq!(parse(GrantOn::Database, "temp").unwrap(), vec!["TEMPORARY"]);
        assert_eq!(parse(GrantOn::Functions, "ALL").unwrap(), vec!["EXECUTE"]);
        assert_eq!(parse(GrantOn::Schema, "all privileges").unwrap().len(), 2);
        let error = parse(GrantOn::Sequences, "INSERT").unwrap_err();
        assert!(
            error.contains(
                "`INSERT` is not a privilege on sequences; valid: `USAGE`, `SELECT`, `UPDATE`"
            ),
            "{error}"
        );
        assert!(parse(GrantOn::Functions, "SELECT").is_err());
    }
}
