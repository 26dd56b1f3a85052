//! Which lines of a managed file a plan may show. A line is shown only when it
//! is proven free of secrets: a key the renderer lists as public, a section
//! header, a blank line. Everything else, in the old content on disk as in the
//! new, is replaced by a placeholder, so taking over a hand-written file never
//! prints what it held (`export AWS_SECRET_ACCESS_KEY=...`, a `password=` in a
//! connection string, a secret pasted into a comment).

/// What replaces a line that may hold a secret.
pub(crate) const HIDDEN: &str = "(line hidden: it may hold a secret)";

/// The first line of every file dbops renders, after its comment marker.
pub(crate) const HEADER: &str =
    "Rendered by dbops from dbops.toml; edits here are overwritten by the next apply.";

/// A comment line that is exactly the header dbops writes.
fn is_header(trimmed: &str) -> bool {
    trimmed.trim_start_matches(['#', ';']).trim() == HEADER
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Redaction {
    /// No line can hold a secret (an HBA file dbops renders).
    Nothing,
    /// `KEY=VALUE` lines: shown when `KEY` is public; a listed secret key
    /// shows as `KEY=(sensitive)`.
    Env {
        public: &'static [&'static str],
        secret: &'static [&'static str],
    },
    /// An ini file: section headers, and `key = value` lines whose key is
    /// listed; in `connstring_section`, lines whose connection string holds
    /// only listed parameters (pgBouncer's `[databases]`).
    Ini {
        public: &'static [&'static str],
        secret: &'static [&'static str],
        connstring_section: Option<&'static str>,
        connstring_public: &'static [&'static str],
    },
    /// pgBouncer's auth file: `"user" "secret"`; the user is shown, the secret never.
    AuthFile,
    /// PostgreSQL's HBA file: a line is shown, but the value of an option
    /// that holds a secret (`ldapbindpasswd=`, `radiussecrets=`) never.
    Hba,
}

/// One line as a plan may show it.
enum Shown {
    Line(String),
    /// The line may hold a secret; the placeholder stands in for it.
    Hidden(String),
}

impl Redaction {
    fn lines<'a>(&'a self, content: &'a str) -> impl Iterator<Item = (&'a str, Shown)> + 'a {
        let mut section = String::new();
        content.lines().map(move |line| {
            let trimmed = line.trim();
            if trimmed.starts_with('[') && trimmed.ends_with(']') {
                section = trimmed[1..trimmed.len() - 1].trim().to_string();
            }
            (line, self.show(line, &section))
        })
    }

    fn show(&self, line: &str, section: &str) -> Shown {
        let trimmed = line.trim();
        if trimmed.is_empty() || is_header(trimmed) {
            return Shown::Line(line.to_string());
        }
        match self {
            Redaction::Nothing => Shown::Line(line.to_string()),
            Redaction::Env { public, secret } => match trimmed.split_once('=') {
                Some((key, _)) if public.contains(&key) && is_env_key(key) => {
                    Shown::Line(line.to_string())
                }
                Some((key, _)) if secret.contains(&key) && is_env_key(key) => {
                    Shown::Hidden(format!("{key}=(sensitive)"))
                }
                _ => Shown::Hidden(HIDDEN.to_string()),
            },
            Redaction::Ini {
                public,
                secret,
                connstring_section,
                connstring_public,
            } => {
                if trimmed.starts_with('[') && trimmed.ends_with(']') {
                    return Shown::Line(line.to_string());
                }
                let Some((key, value)) = trimmed.split_once('=') else {
                    return Shown::Hidden(HIDDEN.to_string());
                };
                let key = key.trim();
                if Some(section) == *connstring_section {
                    let safe = !key.is_empty()
                        && key
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                        && connstring_keys(value).is_some_and(|keys| {
                            keys.iter().all(|k| connstring_public.contains(&k.as_str()))
                        });
                    return if safe {
                        Shown::Line(line.to_string())
                    } else {
                        Shown::Hidden(HIDDEN.to_string())
                    };
                }
                if listed(public, key) {
                    Shown::Line(line.to_string())
                } else if listed(secret, key) {
                    Shown::Hidden(format!("{key}=(sensitive)"))
                } else {
                    Shown::Hidden(HIDDEN.to_string())
                }
            }
            Redaction::Hba => {
                let secret = |token: &str| {
                    token.split_once('=').is_some_and(|(key, _)| {
                        let key = key.to_ascii_lowercase();
                        key.contains("passwd") || key.contains("secret") || key.contains("password")
                    })
                };
                if !line.split_whitespace().any(secret) {
                    return Shown::Line(line.to_string());
                }
                let shown: Vec<String> = line
                    .split_whitespace()
                    .map(|token| match token.split_once('=') {
                        Some((key, _)) if secret(token) => format!("{key}=(sensitive)"),
                        _ => token.to_string(),
                    })
                    .collect();
                Shown::Hidden(shown.join(" "))
            }
            Redaction::AuthFile => match auth_user(trimmed) {
                Some(user) => Shown::Hidden(format!("{user} \"(sensitive)\"")),
                None => Shown::Hidden(HIDDEN.to_string()),
            },
        }
    }

    /// The content as a plan may show it.
    pub(crate) fn redact(&self, content: &str) -> String {
        self.lines(content)
            .map(|(_, shown)| match shown {
                Shown::Line(line) | Shown::Hidden(line) => line + "\n",
            })
            .collect()
    }

    /// The lines that may hold secrets, in full: to tell whether a secret changed.
    pub(crate) fn secret_lines(&self, content: &str) -> Vec<String> {
        self.lines(content)
            .filter_map(|(line, shown)| match shown {
                Shown::Hidden(_) => Some(line.to_string()),
                Shown::Line(_) => None,
            })
            .collect()
    }
}

fn is_env_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// The parameter names of a libpq-style `key=value key=value` string, or
/// `None` when it does not parse as one.
fn connstring_keys(value: &str) -> Option<Vec<String>> {
    let mut keys = Vec::new();
    for part in value.split_whitespace() {
        let (key, value) = part.split_once('=')?;
        if key.is_empty()
            || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            || value.contains('\'')
        {
            return None;
        }
        keys.push(key.to_ascii_lowercase());
    }
    Some(keys)
}

/// The quoted user of an auth-file line, as written (`"app_user"`).
fn auth_user(line: &str) -> Option<&str> {
    let rest = line.strip_prefix('"')?;
    let mut end = None;
    let bytes = rest.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'"' {
            if bytes.get(i + 1) == Some(&b'"') {
                i += 2;
                continue;
            }
            end = Some(i);
            break;
        }
        i += 1;
    }
    end.map(|e| &line[..e + 2])
}

/// Whether `key` is in `list`, where `repo*-REST` stands for `repoN-REST`
/// with N a pgBackRest repository number (1 to 256).
fn listed(list: &[&str], key: &str) -> bool {
    list.iter().any(|entry| match entry.strip_prefix("repo*-") {
        Some(rest) => key
            .strip_prefix("repo")
            .and_then(|k| k.split_once('-'))
            .is_some_and(|(n, r)| {
                r == rest
                    && !n.starts_with('0')
                    && n.parse::<u16>().is_ok_and(|n| (1..=256).contains(&n))
            }),
        None => *entry == key,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_files_show_only_public_keys() {
        let env = Redaction::Env {
            public: &["AWS_REGION", "WALG_S3_PREFIX"],
            secret: &["AWS_SECRET_ACCESS_KEY"],
        };
        let old = "AWS_REGION=eu\nexport AWS_SECRET_ACCESS_KEY=hunter2\nWALG_LIBSODIUM_KEY=k3y\nPGPASSWORD=pw\n# pasted: hunter3\n\n";
        let shown = env.redact(old);
        assert!(env
            .redact("AWS_SECRET_ACCESS_KEY=hunter2\n")
            .contains("AWS_SECRET_ACCESS_KEY=(sensitive)"));
        for secret in ["hunter2", "k3y", "pw\n", "hunter3"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(shown.starts_with("AWS_REGION=eu\n"));
        assert_eq!(env.secret_lines(old).len(), 4);
    }

    #[test]
    fn ini_connection_strings_with_passwords_are_hidden() {
        let ini = Redaction::Ini {
            public: &["pool_mode"],
            secret: &[],
            connstring_section: Some("databases"),
            connstring_public: &["host", "port", "dbname"],
        };
        let old = "[databases]\napp = host=db port=5432 dbname=app\nold = host=db password=hunter2\n[pgbouncer]\npool_mode = session\nauth_query = x\n";
        let shown = ini.redact(old);
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("app = host=db port=5432 dbname=app"));
        assert!(shown.contains("pool_mode = session"));
        assert!(!shown.contains("auth_query"));
    }

    #[test]
    fn auth_files_show_users_only() {
        assert_eq!(
            Redaction::AuthFile
                .redact("\"we\"\"ird\" \"SCRAM-SHA-256$4096:abc$def:ghi\"\ngarbage hunter2\n"),
            format!("\"we\"\"ird\" \"(sensitive)\"\n{HIDDEN}\n")
        );
    }

    #[test]
    fn repository_keys_match_every_repository_number() {
        let list = ["repo*-s3-bucket", "pg1-path"];
        for key in [
            "repo1-s3-bucket",
            "repo2-s3-bucket",
            "repo256-s3-bucket",
            "pg1-path",
        ] {
            assert!(listed(&list, key), "{key}");
        }
        for key in [
            "repo0-s3-bucket",
            "repo257-s3-bucket",
            "repo02-s3-bucket",
            "repo-s3-bucket",
            "repo2-s3-key",
            "repox-s3-bucket",
        ] {
            assert!(!listed(&list, key), "{key}");
        }
    }
}
