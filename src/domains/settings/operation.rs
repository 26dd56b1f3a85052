//! The work apply does for settings, and the SQL it becomes. `ALTER SYSTEM`
//! cannot run in a transaction block; a `pg_reload_conf()` follows.

use crate::pg::quote::{ident, literal};

/// Settings that take a list, which `ALTER SYSTEM` must receive as separate
/// literals (`'a', 'b'`), not one string (`'a,b'`) that would become one element.
const LIST_SETTINGS: &[&str] = &[
    "shared_preload_libraries",
    "session_preload_libraries",
    "local_preload_libraries",
    "search_path",
    "temp_tablespaces",
    "unix_socket_directories",
];

pub(crate) fn is_list(name: &str) -> bool {
    LIST_SETTINGS.contains(&name)
}

/// A list value in the form `pg_settings` shows it: elements trimmed, joined by `, `.
pub(crate) fn normalize_list(value: &str) -> String {
    value
        .split(',')
        .map(|item| item.trim().trim_matches('"'))
        .filter(|item| !item.is_empty())
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(Clone, PartialEq, Eq)]
pub(crate) enum Operation {
    /// `sensitive`: the value carries a credential; the statement is kept
    /// out of the server's log.
    Set {
        name: String,
        value: String,
        sensitive: bool,
    },
    Reset {
        name: String,
    },
    /// PostgreSQL's HBA file.
    Hba(super::hba::diff::HbaOperation),
}

/// Without a sensitive value.
impl std::fmt::Debug for Operation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Operation::Set {
                name,
                value,
                sensitive,
            } => {
                let value = if *sensitive { "(sensitive)" } else { value };
                write!(f, "Set({name} = {value:?})")
            }
            Operation::Reset { name } => write!(f, "Reset({name})"),
            Operation::Hba(operation) => write!(f, "Hba({operation:?})"),
        }
    }
}

impl Operation {
    pub(crate) fn sql(&self) -> String {
        match self {
            Operation::Set { name, value, .. } => {
                let rendered = if is_list(name) {
                    let items: Vec<String> =
                        normalize_list(value).split(", ").map(literal).collect();
                    if items.is_empty() {
                        "''".to_string()
                    } else {
                        items.join(", ")
                    }
                } else {
                    literal(value)
                };
                format!("ALTER SYSTEM SET {} = {rendered}", ident(name))
            }
            Operation::Reset { name } => format!("ALTER SYSTEM RESET {}", ident(name)),
            Operation::Hba(_) => String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_quoted_and_lists_split() {
        let set = |name: &str, value: &str| {
            Operation::Set {
                name: name.into(),
                value: value.into(),
                sensitive: false,
            }
            .sql()
        };
        assert_eq!(
            set(
                "archive_command",
                "test ! -f '/a b/%f' && cp %p \"/a b/%f\""
            ),
            "ALTER SYSTEM SET \"archive_command\" = 'test ! -f ''/a b/%f'' && cp %p \"/a b/%f\"'"
        );
        assert_eq!(
            set(
                "shared_preload_libraries",
                "pg_stat_statements,auto_explain"
            ),
            "ALTER SYSTEM SET \"shared_preload_libraries\" = 'pg_stat_statements', 'auto_explain'"
        );
        assert_eq!(
            Operation::Reset {
                name: "work_mem".into()
            }
            .sql(),
            "ALTER SYSTEM RESET \"work_mem\""
        );
    }
}
