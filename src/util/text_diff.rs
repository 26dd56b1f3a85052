//! A unified diff of two texts, line by line, without headers: how plans show a
//! rendered file or a lifecycle configuration. Callers redact before diffing.

pub(crate) fn unified(before: &str, after: &str) -> String {
    let diff = similar::TextDiff::from_lines(before, after);
    let mut out = String::new();
    for change in diff.iter_all_changes() {
        let sign = match change.tag() {
            similar::ChangeTag::Delete => "-",
            similar::ChangeTag::Insert => "+",
            similar::ChangeTag::Equal => " ",
        };
        out.push_str(sign);
        out.push_str(change.value());
        if !change.value().ends_with('\n') {
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn marks_each_line() {
        assert_eq!(super::unified("a\nb\n", "a\nc"), " a\n-b\n+c\n");
    }
}
