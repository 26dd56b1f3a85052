//! SQL quoting for identifiers and literals, so hostile names round-trip.

/// Always-quoted identifier: `a"b` -> `"a""b"`.
pub(crate) fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A string literal safe under `standard_conforming_strings`, with the `E''`
/// form when a backslash needs escaping.
pub(crate) fn literal(value: &str) -> String {
    let escaped = value.replace('\'', "''");
    if value.contains('\\') {
        format!("E'{}'", escaped.replace('\\', "\\\\"))
    } else {
        format!("'{escaped}'")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_and_literals_round_trip_hostile_text() {
        assert_eq!(ident("App \"User\""), "\"App \"\"User\"\"\"");
        assert_eq!(literal("it's"), "'it''s'");
        assert_eq!(literal("a\\b"), "E'a\\\\b'");
    }
}
