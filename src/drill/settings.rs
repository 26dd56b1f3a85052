//! `[restore_test]`: how a drill restores into a throwaway server and what
//! it checks there, as written and resolved. Shared by every domain that
//! drills (physical backups, logical dumps); it names none of them.

use std::path::PathBuf;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::diagnostics::Resolver;
use crate::error::Result;

/// `[restore_test]`: how `dbops restore-test` restores the newest backup
/// into a throwaway server, and what it checks there.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRestoreTest {
    /// What `dbops restore-test` restores: `physical` (the newest base
    /// backup and WAL of `[backup]`) or `dumps` (the newest set of each
    /// database of `[dumps]`). Default: `physical` when `[backup]` is
    /// declared, else `dumps`. `--source` overrides it for one run.
    pub(crate) source: Option<Source>,
    /// Directory of `pg_ctl` and `postgres`. Default: `pg_config --bindir`,
    /// else the directory of `pg_ctl` on `PATH`.
    pub(crate) pg_bindir: Option<String>,
    /// The OS user the restored server runs as when dbops runs as root.
    /// Default: `postgres`.
    pub(crate) os_user: Option<String>,
    /// Where the throwaway data directory goes. Default: a new temporary directory.
    pub(crate) work_dir: Option<String>,
    /// The restored server's port on 127.0.0.1. Default: a free one.
    #[schemars(range(min = 1, max = 65535))]
    pub(crate) port: Option<u16>,
    /// Queries run against the restored server, each with an expectation.
    #[serde(default)]
    pub(crate) checks: Vec<RawCheck>,
    /// A secret (`{ env = "..." }` or `{ file = "..." }`) that restore-test
    /// signs its evidence with (HMAC-SHA256) and drift proves it by; only
    /// those two may hold it. Without it, evidence is unauthenticated.
    pub(crate) evidence_key: Option<crate::secret::SecretRef>,
    /// Checks of the restored data beyond the declared queries: `amcheck`
    /// (`pg_amcheck --heapallindexed` on every database), `checksums`
    /// (`pg_checksums --check` on the stopped copy) and `read_all` (every
    /// row of every table). Any failure fails the drill.
    #[serde(default)]
    pub(crate) verify: Vec<Verify>,
    /// Libraries that run jobs (`pg_cron`, `pg_partman_bgw`, `pglogical`, ...)
    /// the throwaway server may still preload; by default it preloads none of
    /// them, so no job of production's runs on the copy.
    #[serde(default)]
    pub(crate) keep_preload_libraries: Vec<String>,
    /// pgBackRest: after a passing drill, mark the restored backup in
    /// pgBackRest's own listing (`pgbackrest annotate`, keys
    /// `dbops-restore-test` and `dbops-evidence`). This writes to the
    /// production repository, which a drill otherwise never does: off by
    /// default.
    pub(crate) annotate: Option<bool>,
}

/// One `[[restore_test.checks]]`: a query and what it must return.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCheck {
    /// A name for the evidence, e.g. `migrations`.
    pub(crate) name: String,
    /// The database the query runs in.
    pub(crate) database: String,
    /// One SQL statement, e.g. `SELECT id FROM drizzle.__drizzle_migrations ORDER BY id DESC LIMIT 1`.
    pub(crate) sql: String,
    /// Passes when the query returns at least this many rows.
    pub(crate) min_rows: Option<u64>,
    /// Passes when the first column of the first row, as text, equals this.
    pub(crate) equals: Option<String>,
}

/// One `[[restore_test.checks]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Check {
    pub(crate) name: String,
    pub(crate) database: String,
    pub(crate) sql: String,
    pub(crate) expect: Expectation,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Expectation {
    MinRows(u64),
    Equals(String),
}

/// What a drill restores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Source {
    Physical,
    Dumps,
}

/// One check of the restored data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Verify {
    Amcheck,
    Checksums,
    ReadAll,
}

impl Verify {
    pub(crate) fn word(self) -> &'static str {
        match self {
            Verify::Amcheck => "amcheck",
            Verify::Checksums => "checksums",
            Verify::ReadAll => "read_all",
        }
    }
}

/// `[restore_test]`, resolved.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct RestoreTest {
    /// `source`, when written.
    pub(crate) source: Option<Source>,
    pub(crate) pg_bindir: Option<PathBuf>,
    pub(crate) os_user: String,
    pub(crate) work_dir: Option<PathBuf>,
    pub(crate) port: Option<u16>,
    pub(crate) checks: Vec<Check>,
    /// `evidence_key`: signs evidence (restore-test) and proves it (drift).
    pub(crate) evidence_key: Option<EvidenceKey>,
    /// `verify`: checks of the restored data.
    pub(crate) verify: Vec<Verify>,
    /// Job-running libraries the throwaway server may still preload.
    pub(crate) keep_preload_libraries: Vec<String>,
    /// `annotate`: mark a backup a drill proved (pgBackRest).
    pub(crate) annotate: bool,
}

/// The key evidence is signed with; compared, never printed.
#[derive(Clone)]
pub(crate) struct EvidenceKey(pub(crate) secrecy::SecretString);

impl EvidenceKey {
    pub(crate) fn expose_secret(&self) -> &str {
        secrecy::ExposeSecret::expose_secret(&self.0)
    }
}

impl PartialEq for EvidenceKey {
    fn eq(&self, other: &Self) -> bool {
        self.expose_secret() == other.expose_secret()
    }
}

impl Eq for EvidenceKey {}

impl std::fmt::Debug for EvidenceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EvidenceKey(****)")
    }
}

/// Resolves `[restore_test]`; its defaults when it is not declared. Each
/// domain that drills resolves it (the resolver reports an error once).
pub(crate) fn restore_test(raw: Option<&RawRestoreTest>, r: &Resolver<'_>) -> Result<RestoreTest> {
    let Some(raw) = raw else {
        return Ok(RestoreTest {
            os_user: "postgres".into(),
            ..RestoreTest::default()
        });
    };
    let mut checks = Vec::new();
    let mut names = std::collections::BTreeSet::new();
    for (i, check) in raw.checks.iter().enumerate() {
        let index = i.to_string();
        let key = |name: &str| r.key(&["restore_test", "checks", &index, name]);
        if !names.insert(check.name.clone()) {
            return Err(key("name").error(format!(
                "check `{}` is declared twice; evidence names each check once",
                check.name
            )));
        }
        if check.sql.trim().is_empty() {
            return Err(key("sql").error("is empty"));
        }
        let expect = match (check.min_rows, &check.equals) {
            (Some(n), None) => Expectation::MinRows(n),
            (None, Some(value)) => Expectation::Equals(value.clone()),
            (None, None) => {
                return Err(key("name")
                    .error(format!("check `{}` has no expectation", check.name))
                    .hint("add `min_rows = N` or `equals = \"VALUE\"`"))
            }
            (Some(_), Some(_)) => {
                return Err(key("equals")
                    .error(format!(
                        "check `{}` has both `min_rows` and `equals`",
                        check.name
                    ))
                    .hint("keep one expectation per check"))
            }
        };
        checks.push(Check {
            name: check.name.clone(),
            database: check.database.clone(),
            sql: check.sql.clone(),
            expect,
        });
    }
    if let Some(dir) = &raw.work_dir {
        // It goes into `unix_socket_directories`, a comma-separated list, and
        // into postgresql.auto.conf, which has no escape for a line break.
        if dir.chars().any(|c| c.is_control() || c == ',') {
            return Err(r
                .key(&["restore_test", "work_dir"])
                .error("holds a comma or a control character, which PostgreSQL's `unix_socket_directories` cannot carry")
                .hint("choose a plain directory path"));
        }
    }
    if let Some(user) = &raw.os_user {
        // PostgreSQL refuses to run as root: said now, not after the fetch.
        let root = user == "root"
            || user == "0"
            || crate::util::owner::resolve_owner(user).is_ok_and(|(uid, _)| uid == 0);
        if root {
            return Err(r
                .key(&["restore_test", "os_user"])
                .error(format!(
                    "`{user}` is root, and PostgreSQL refuses to run as root"
                ))
                .hint(
                    "name the unprivileged OS user the restored server runs as, usually `postgres`",
                ));
        }
    }
    if raw.port == Some(0) {
        return Err(r
            .key(&["restore_test", "port"])
            .error("must be between 1 and 65535")
            .hint("leave it out to use a free port"));
    }
    let evidence_key = match &raw.evidence_key {
        None => None,
        Some(reference) => {
            let key = r.key(&["restore_test", "evidence_key"]);
            let secret = key.secret(reference)?;
            if secrecy::ExposeSecret::expose_secret(&secret).len() < 16 {
                return Err(key.error("is shorter than 16 bytes").hint(
                    "use a random key of 32 bytes or more, for example `openssl rand -hex 32`",
                ));
            }
            Some(EvidenceKey(secret))
        }
    };
    Ok(RestoreTest {
        source: raw.source,
        evidence_key,
        keep_preload_libraries: raw.keep_preload_libraries.clone(),
        annotate: raw.annotate.unwrap_or(false),
        verify: raw.verify.clone(),
        pg_bindir: raw.pg_bindir.as_ref().map(PathBuf::from),
        os_user: raw.os_user.clone().unwrap_or_else(|| "postgres".into()),
        work_dir: raw.work_dir.as_ref().map(PathBuf::from),
        port: raw.port,
        checks,
    })
}
