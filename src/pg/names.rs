//! Names PostgreSQL accepts as identifiers: the rule every domain that takes
//! a role, database or schema name from the file checks it against.

use crate::diagnostics::Key;
use crate::error::Result;

/// PostgreSQL's identifier limit (NAMEDATALEN - 1), in bytes.
pub const MAX_NAME_BYTES: usize = 63;

/// A name PostgreSQL accepts as an identifier.
pub fn check_name(name: &str, what: &str, key: &Key<'_>) -> Result<()> {
    if name.is_empty() {
        return Err(key.error(format!("a {what} name cannot be empty")));
    }
    if name.len() > MAX_NAME_BYTES {
        return Err(key.error(format!(
            "{what} name `{name}` is {} bytes long; PostgreSQL allows at most {MAX_NAME_BYTES}",
            name.len()
        )));
    }
    if name.contains('\0') {
        return Err(key.error(format!("{what} name contains a NUL byte")));
    }
    Ok(())
}
