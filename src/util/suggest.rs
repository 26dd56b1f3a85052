//! "Did you mean ...?": the known names closest to a misspelled one.

/// Up to `limit` candidates similar to `name`, most similar first.
pub(crate) fn closest<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    limit: usize,
) -> Vec<&'a str> {
    let mut scored: Vec<(f64, &str)> = candidates
        .into_iter()
        .map(|known| (strsim::jaro_winkler(name, known), known))
        .filter(|(score, _)| *score > 0.85)
        .collect();
    scored.sort_by(|a, b| {
        b.0.partial_cmp(&a.0)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.1.cmp(b.1))
    });
    scored.into_iter().take(limit).map(|(_, n)| n).collect()
}

/// `did you mean `a` or `b`?`, or `None` when nothing is close.
pub(crate) fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let close = closest(name, candidates, 3);
    if close.is_empty() {
        return None;
    }
    let names: Vec<String> = close.iter().map(|n| format!("`{n}`")).collect();
    Some(format!("did you mean {}?", names.join(" or ")))
}

#[cfg(test)]
mod tests {
    #[test]
    fn suggests_close_names() {
        assert_eq!(
            super::did_you_mean("pool_mod", ["pool_mode", "listen_port"]).as_deref(),
            Some("did you mean `pool_mode`?")
        );
        assert_eq!(super::did_you_mean("zzz", ["pool_mode"]), None);
    }
}
