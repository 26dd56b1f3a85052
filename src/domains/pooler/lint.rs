//! Security lints for the pooler, from `validate` and `plan`: SCRAM only, the
//! admin console never reachable from outside, and the app reaching only the
//! pooler while dbops reaches PostgreSQL directly. Messages name DSNs by their
//! environment variable, never by their content.

use std::net::IpAddr;

pub(crate) fn is_loopback(address: &str) -> bool {
    address
        .split(',')
        .map(str::trim)
        .all(|a| a == "localhost" || a.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback()))
}

pub(crate) fn is_wildcard(address: &str) -> bool {
    matches!(address.trim(), "*" | "0.0.0.0" | "::")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_and_wildcards() {
        assert!(is_loopback("127.0.0.1"));
        assert!(is_loopback("127.0.0.1, ::1"));
        assert!(is_loopback("localhost"));
        assert!(!is_loopback("0.0.0.0"));
        assert!(!is_loopback("127.0.0.1,10.0.0.5"));
        assert!(is_wildcard("*") && is_wildcard("0.0.0.0") && !is_wildcard("127.0.0.1"));
    }
}
