//! Byte counts for people, as PostgreSQL prints them (1024-based).

/// `1.5 GB`, `512 MB`, `12 kB`, `10 B` (1024-based, as PostgreSQL prints).
pub(crate) fn human(bytes: u64) -> String {
    let units = ["B", "kB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < units.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 || value >= 100.0 {
        format!("{value:.0} {}", units[unit])
    } else {
        format!("{value:.1} {}", units[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::human;

    #[test]
    fn sizes_read_as_postgresql_prints_them() {
        assert_eq!(human(10), "10 B");
        assert_eq!(human(1536), "1.5 kB");
        assert_eq!(human(512 << 20), "512 MB");
        assert_eq!(human(3 << 40), "3.0 TB");
    }
}
