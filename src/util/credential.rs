//! Whether a configuration value carries a credential: a `password=` in a
//! libpq conninfo string, a password in a URL's user information, or an
//! assignment or option whose name says secret, password, token or key in a
//! shell command (`PGPASSWORD=...`, `AWS_SECRET_ACCESS_KEY=...`,
//! `--repo1-s3-key-secret=...`). Such values are never printed. Pure; errs
//! on the side of hiding.

/// Whether `value` carries a credential.
pub(crate) fn carries_credential(value: &str) -> bool {
    squeeze_equals(value)
        .split(|c: char| c.is_whitespace() || matches!(c, ';' | '&' | '|' | '(' | ')' | '`'))
        .any(token_is_credential)
}

/// `password = x` as libpq reads it, as one token: `password=x`.
fn squeeze_equals(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_whitespace() {
            let mut blanks = String::from(c);
            while let Some(&next) = chars.peek() {
                if !next.is_whitespace() {
                    break;
                }
                blanks.push(next);
                chars.next();
            }
            if chars.peek() != Some(&'=') {
                out.push_str(&blanks);
            }
        } else if c == '=' {
            out.push(c);
            while chars.peek().is_some_and(|n| n.is_whitespace()) {
                chars.next();
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn token_is_credential(token: &str) -> bool {
    let token = token.trim_matches(|c| c == '\'' || c == '"');
    if let Some((_, rest)) = token.split_once("://") {
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if let Some(at) = authority.rfind('@') {
            if authority[..at].contains(':') {
                return true;
            }
        }
    }
    let Some((name, value)) = token.split_once('=') else {
        return false;
    };
    if value.is_empty() {
        return false;
    }
    let name = name
        .trim_start_matches('-')
        .trim_matches(|c| c == '\'' || c == '"')
        .to_ascii_lowercase();
    ["password", "passwd", "secret", "token", "credential"]
        .iter()
        .any(|word| name.contains(word))
        || name.split(['_', '-', '.']).any(|part| part == "key")
}

#[cfg(test)]
mod tests {
    use super::carries_credential;

    #[test]
    fn credentials_are_found() {
        for value in [
            "host=primary port=5432 user=replicator password=s3cret",
            "host=primary password = 's3 cret' application_name=standby",
            "postgres://replicator:s3cret@primary:5432/postgres",
            "PGPASSWORD=s3cret pg_receivewal -D /wal",
            "env AWS_SECRET_ACCESS_KEY=abc AWS_ACCESS_KEY_ID=AKIA wal-g wal-push %p",
            "export WALG_LIBSODIUM_KEY=abc; wal-g wal-push %p",
            "pgbackrest --repo1-s3-key-secret=abc archive-push %p",
            "curl -H 'x' https://user:token@example.com/upload/%f",
            "sslpassword=abc",
            "GITHUB_TOKEN=x ./push.sh %p",
        ] {
            assert!(carries_credential(value), "{value}");
        }
    }

    #[test]
    fn plain_values_are_not_credentials() {
        for value in [
            "pgbackrest --config='/etc/pgbackrest/pgbackrest.conf' --stanza=main archive-push %p",
            "sh -c 'set -a; . /etc/wal-g.env; exec wal-g wal-push \"$1\"' walg %p",
            "test ! -f /archive/%f && cp %p /archive/%f",
            "host=primary port=5432 user=replicator sslmode=verify-full sslkey=/etc/ssl/client.key",
            "pg_stat_statements, auto_explain",
            "128MB",
            "https://example.com/path",
            "password=",
        ] {
            assert!(!carries_credential(value), "{value}");
        }
    }
}
