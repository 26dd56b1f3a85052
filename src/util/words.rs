//! Counting in words for what dbops prints: `2 roles`, `1 role`. Only
//! English plurals made with a final `s`, which is every noun dbops counts.

/// `count` of `what` (a plural noun), singular for one.
pub(crate) fn counted(count: usize, what: &str) -> String {
    match what.strip_suffix('s') {
        Some(one) if count == 1 => format!("1 {one}"),
        _ => format!("{count} {what}"),
    }
}

#[cfg(test)]
mod tests {
    use super::counted;

    #[test]
    fn one_of_a_kind_is_singular() {
        assert_eq!(counted(1, "databases"), "1 database");
        assert_eq!(counted(1, "backup tools"), "1 backup tool");
        assert_eq!(counted(0, "settings"), "0 settings");
        assert_eq!(counted(3, "environments"), "3 environments");
    }
}
