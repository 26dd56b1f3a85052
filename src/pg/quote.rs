//! SQL quoting for identifiers and literals, so hostile names round-trip.

/// Always-quoted identifier: `a"b` -> `"a""b"`.
///
/// ```
/// assert_eq!(dbops::pg::quote::ident("App \"User\""), "\"App \"\"User\"\"\"");
/// ```
pub(crate) fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A string literal safe under `standard_conforming_strings`, with the `E''`
/// form when a backslash needs escaping.
///
/// ```
/// assert_eq!(dbops::pg::quote::literal("it's"), "'it''s'");
/// assert_eq!(dbops::pg::quote::literal("a\\b"), "E'a\\\\b'");
/// ```
pub(crate) fn literal(value: &str) -> String {
    let escaped = value.replace('\'', "''");
    if value.contains('\\') {
        format!("E'{}'", escaped.replace('\\', "\\\\"))
    } else {
        format!("'{escaped}'")
    }
}
