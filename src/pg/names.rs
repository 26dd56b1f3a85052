//! Names PostgreSQL accepts as identifiers.

/// PostgreSQL's identifier limit (NAMEDATALEN - 1), in bytes.
pub(crate) const MAX_NAME_BYTES: usize = 63;

/// Why PostgreSQL would not accept `name` as an identifier, if it would not.
pub(crate) fn invalid_name(name: &str, what: &str) -> Option<String> {
    if name.is_empty() {
        return Some(format!("a {what} name cannot be empty"));
    }
    if name.len() > MAX_NAME_BYTES {
        return Some(format!(
            "{what} name `{name}` is {} bytes long; PostgreSQL allows at most {MAX_NAME_BYTES}",
            name.len()
        ));
    }
    if name.contains('\0') {
        return Some(format!("{what} name contains a NUL byte"));
    }
    None
}
