//! Property test of every value dbops renders into a file: for random hostile
//! strings in every field, either resolution refuses the file, or the rendered
//! file, read back by a reader that follows the consumer's own rules, holds
//! exactly what the renderer meant to write and nothing else (no injected line,
//! no lost character). The fields come from the renderers themselves: each
//! value a renderer writes names the key of `dbops.toml` it came from, so a
//! field added later is covered without editing this test. pgbouncer.ini is
//! also read back by pgBouncer itself (`SHOW CONFIG`), after a reload for
//! reloadable settings and after a restart for restart-only ones.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use dbops::engine::session::resolve;
use dbops::managed_files::grammar::{Entry, Written};
use dbops::managed_files::Grammar;
use toml_edit::{DocumentMut, Item, Value};

/// A fixed-seed generator: the same cases on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// A short string leaning on what breaks file formats.
    fn hostile(&mut self) -> String {
        const PIECES: &[&str] = &[
            "a",
            "Z",
            "9",
            "_",
            "-",
            ".",
            " ",
            "  ",
            "\t",
            "\n",
            "\r",
            "\r\n",
            "\0",
            "\u{1b}",
            "=",
            ";",
            "#",
            "%",
            "[",
            "]",
            "'",
            "\"",
            "\\",
            "$",
            "`",
            "$(id)",
            "${HOME}",
            ",",
            "@",
            ":",
            "/",
            "*",
            "é",
            "\u{2028}",
            "\u{200b}",
            "🦀",
            "auth_type = trust",
            "\nauth_type = trust",
            "\nWALG_S3_PREFIX=s3://elsewhere",
            "\n[pgbouncer]",
            "\"\"",
            "''",
            "all",
            "@file",
            "+group",
        ];
        let len = 1 + self.below(5);
        (0..len).map(|_| PIECES[self.below(PIECES.len())]).collect()
    }
}

/// One configuration to vary, with its secrets in files (never the environment).
struct Base {
    dir: tempfile::TempDir,
    toml: String,
}

impl Base {
    fn new(toml: impl Fn(&Path) -> String) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let secrets = dir.path();
        for (name, value) in [
            ("admin", "postgres://postgres:pw@127.0.0.1:5432/postgres"),
            ("app", "app password"),
            ("console", "console password"),
            ("key_id", "AKIAEXAMPLE"),
            ("key_secret", "example/secret+key"),
            ("sidecar", "postgres://backup:pw@db.internal:5432/postgres"),
            (
                "sidecar_socket",
                "postgres://postgres@localhost:5432/postgres?host=/var/run/postgresql",
            ),
        ] {
            std::fs::write(secrets.join(name), value).unwrap();
        }
        let toml = toml(secrets);
        Self { dir, toml }
    }

    fn secret(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Resolves `toml` (written beside the secrets) and renders every file it declares.
    fn render(&self, toml: &str) -> Option<Vec<(String, String, Vec<Entry>)>> {
        let path = self.dir.path().join("dbops.toml");
        std::fs::write(&path, toml).unwrap();
        let resolved = resolve(&path, None).ok()?;
        let files = resolved
            .rendered_files()
            .into_iter()
            .map(|file| {
                let kind = match file.grammar {
                    Grammar::PgBouncerIni => "pgbouncer.ini",
                    Grammar::PgBouncerHba => "hba",
                    Grammar::PgBouncerAuth => "auth",
                    Grammar::Env => "env",
                    Grammar::PgBackRestConf => "pgbackrest.conf",
                };
                (kind.to_string(), file.content, file.entries)
            })
            .collect();
        Some(files)
    }
}

/// The string-valued keys the renderers report, and how to set each.
fn fields(base: &Base) -> Vec<Vec<String>> {
    let files = base
        .render(&base.toml)
        .expect("the base configuration resolves");
    let document: DocumentMut = base.toml.parse().unwrap();
    let mut out = BTreeSet::new();
    for (_, _, entries) in files {
        for entry in entries {
            if settable(&document, &entry.source) {
                out.insert(entry.source);
            }
        }
    }
    assert!(out.len() >= 3, "the renderers report their fields");
    out.into_iter().collect()
}

fn lookup<'a>(document: &'a DocumentMut, path: &[String]) -> Option<&'a Item> {
    let mut item = document.as_item();
    for segment in path {
        item = item.as_table_like()?.get(segment)?;
    }
    Some(item)
}

/// A string, a secret file reference, a string array or a role table name.
fn settable(document: &DocumentMut, path: &[String]) -> bool {
    if path.len() == 2 && path[0] == "roles" {
        return true;
    }
    match lookup(document, path) {
        Some(Item::Value(Value::String(_))) => true,
        Some(Item::Value(Value::InlineTable(t))) => t.contains_key("file"),
        Some(Item::Value(Value::Array(a))) => a.get(0).is_some_and(|v| v.is_str()),
        _ => false,
    }
}

/// The configuration with `value` at `path`, and the secret file it needs.
fn with_value(base: &Base, path: &[String], value: &str) -> String {
    let mut document: DocumentMut = base.toml.parse().unwrap();
    if path.len() == 2 && path[0] == "roles" {
        let roles = document["roles"].as_table_like_mut().unwrap();
        let table = roles.remove(&path[1]).unwrap();
        roles.insert(value, table);
        return document.to_string();
    }
    let (last, parents) = path.split_last().unwrap();
    let mut item = document.as_item_mut();
    for segment in parents {
        item = item.as_table_like_mut().unwrap().get_mut(segment).unwrap();
    }
    let table = item.as_table_like_mut().unwrap();
    match table.get_mut(last).unwrap() {
        Item::Value(Value::InlineTable(reference)) => {
            let file = PathBuf::from(reference.get("file").unwrap().as_str().unwrap());
            std::fs::write(file, value).unwrap();
        }
        Item::Value(Value::Array(array)) => {
            array.replace(0, value);
        }
        slot => *slot = toml_edit::value(value),
    }
    document.to_string()
}

// Readers that follow each consumer's own rules, written from their sources,
// independently of dbops's writers.

/// pgBouncer's ini (libusual `cfparser.c`).
fn read_pgbouncer_ini(text: &str) -> Vec<Written> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut section = String::new();
    let mut p = 0;
    let space = |b: u8| b == b' ' || (b'\t'..=b'\r').contains(&b);
    while p < bytes.len() {
        while p < bytes.len() && space(bytes[p]) {
            p += 1;
        }
        if p >= bytes.len() {
            break;
        }
        if bytes[p] == b'#' || bytes[p] == b';' {
            while p < bytes.len() && bytes[p] != b'\n' {
                p += 1;
            }
            continue;
        }
        if bytes[p] == b'[' {
            let start = p + 1;
            p = start;
            while p < bytes.len() && bytes[p] != b']' && bytes[p] != b'\n' {
                p += 1;
            }
            assert_eq!(bytes.get(p), Some(&b']'), "syntax error in\n{text}");
            section = text[start..p].to_string();
            out.push(Written::Section(section.clone()));
            p += 1;
            continue;
        }
        let key_start = p;
        while p < bytes.len() && (bytes[p].is_ascii_alphanumeric() || b"_.-*".contains(&bytes[p])) {
            p += 1;
        }
        let key = text[key_start..p].to_string();
        while p < bytes.len() && (bytes[p] == b' ' || bytes[p] == b'\t') {
            p += 1;
        }
        assert_eq!(bytes.get(p), Some(&b'='), "syntax error in\n{text}");
        p += 1;
        while p < bytes.len() && (bytes[p] == b' ' || bytes[p] == b'\t') {
            p += 1;
        }
        let value_start = p;
        while p < bytes.len() && bytes[p] != b'\n' {
            p += 1;
        }
        let mut value_end = p;
        while value_end > value_start && space(bytes[value_end - 1]) {
            value_end -= 1;
        }
        out.push(Written::Ini {
            section: section.clone(),
            key,
            value: text[value_start..value_end].to_string(),
        });
    }
    out
}

/// pgBackRest's ini: `[section]`, `key=value` trimmed, `#` comments.
fn read_pgbackrest_conf(text: &str) -> Vec<Written> {
    let mut out = Vec::new();
    let mut section = String::new();
    for line in text.split('\n') {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.starts_with('[') && line.ends_with(']') {
            section = line[1..line.len() - 1].to_string();
            out.push(Written::Section(section.clone()));
            continue;
        }
        let (key, value) = line.split_once('=').expect("a key=value line");
        out.push(Written::Ini {
            section: section.clone(),
            key: key.trim().to_string(),
            value: value.trim().to_string(),
        });
    }
    out
}

/// The env file as `sh` reads it: sourced with `set -a` in an empty environment.
fn read_env_with_sh(text: &str) -> Vec<Written> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("walg.env");
    std::fs::write(&file, text).unwrap();
    let out = std::process::Command::new("env")
        .args(["-i", "sh", "-c", "set -a; . \"$0\"; env -0"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success(), "sh could not source\n{text}");
    let mut vars = Vec::new();
    for pair in out.stdout.split(|b| *b == 0).filter(|p| !p.is_empty()) {
        let pair = String::from_utf8(pair.to_vec()).unwrap();
        let (key, value) = pair.split_once('=').unwrap();
        if ["PWD", "SHLVL", "_", "OLDPWD"].contains(&key) {
            continue;
        }
        vars.push(Written::Env {
            key: key.to_string(),
            value: value.to_string(),
        });
    }
    vars
}

/// Double-quoted fields with `"` doubled, as pgBouncer's auth-file loader
/// and HBA tokenizer read them; unquoted words are not values.
fn read_quoted_fields(text: &str) -> Vec<Written> {
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.trim_start().starts_with('#')) {
        let chars: Vec<char> = line.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            if chars[i] != '"' {
                i += 1;
                continue;
            }
            let mut field = String::new();
            i += 1;
            loop {
                assert!(i < chars.len(), "unterminated quote in\n{text}");
                if chars[i] == '"' {
                    if chars.get(i + 1) == Some(&'"') {
                        field.push('"');
                        i += 2;
                        continue;
                    }
                    i += 1;
                    break;
                }
                field.push(chars[i]);
                i += 1;
            }
            out.push(Written::Quoted(field));
        }
    }
    out
}

fn read(kind: &str, content: &str) -> Vec<Written> {
    match kind {
        "pgbouncer.ini" => read_pgbouncer_ini(content),
        "pgbackrest.conf" => read_pgbackrest_conf(content),
        "env" => read_env_with_sh(content),
        "hba" | "auth" => read_quoted_fields(content),
        other => panic!("no reader for {other}"),
    }
}

fn sorted(mut list: Vec<Written>) -> Vec<Written> {
    list.sort();
    list
}

const CASES_PER_FIELD: usize = 48;

fn check_every_field(base: &Base, seed: u64) -> usize {
    let mut rng = Rng(seed);
    let mut accepted = 0;
    for field in fields(base) {
        for _ in 0..CASES_PER_FIELD {
            let value = rng.hostile();
            let toml = with_value(base, &field, &value);
            let Some(files) = base.render(&toml) else {
                continue;
            };
            accepted += 1;
            for (kind, content, entries) in files {
                let written: Vec<Written> = entries.iter().map(|e| e.written.clone()).collect();
                assert_eq!(
                    sorted(read(&kind, &content)),
                    sorted(written),
                    "{kind} does not read back as written for `{}` = {value:?}:\n{content}",
                    field.join(".")
                );
            }
        }
    }
    accepted
}

fn pooler_base() -> Base {
    Base::new(|secrets| {
        format!(
            r#"[postgres]
admin = {{ file = "{s}/admin" }}

[roles.app_user]
password = {{ file = "{s}/app" }}

[pooler]
config_file = "/etc/pgbouncer/pgbouncer.ini"
auth_file = "/etc/pgbouncer/userlist.txt"
hba_file = "/etc/pgbouncer/hba.conf"
host = "127.0.0.1"
listen_addr = "127.0.0.1"
databases = ["app"]
admin_console = "localhost"
admin_user = "console_admin"
admin_password = {{ file = "{s}/console" }}

[pooler.settings]
server_reset_query = "DISCARD ALL"
auth_query = "SELECT usename, passwd FROM pgbouncer.user_lookup($1)"
syslog_ident = "pgbouncer"
pidfile = "/run/pgbouncer/pgbouncer.pid"
"#,
            s = secrets.display()
        )
    })
}

fn backup_base(tool: &str) -> Base {
    let files = if tool == "wal-g" {
        "env_file = \"/etc/wal-g/walg.env\"\ncompression = \"lz4\"\nconnection = { file = \"SECRETS/sidecar\" }"
    } else {
        "config_file = \"/etc/pgbackrest/pgbackrest.conf\"\nstanza = \"main\"\npg_data = \"/var/lib/postgresql/data\"\nconnection = { file = \"SECRETS/sidecar_socket\" }"
    };
    Base::new(|secrets| {
        format!(
            r#"[postgres]
admin = {{ file = "{s}/admin" }}

[bucket.db-backups]
endpoint = "https://s3.example.test:9000"
access_key_id = {{ file = "{s}/key_id" }}
secret_access_key = {{ file = "{s}/key_secret" }}
region = "eu-central-1"
block_public_access = true

[[bucket.db-backups.lifecycle]]
id = "wal"
prefix = "prod/"
expire_after_days = 30

[backup]
tool = "{tool}"
rpo = "5m"
bucket = "db-backups"
prefix = "prod"
tool_endpoint = "https://s3.internal:9000"
ca_file = "/etc/ssl/ca.pem"
archive_command = "true"
{files}
"#,
            s = secrets.display(),
            files = files.replace("SECRETS", &secrets.display().to_string())
        )
    })
}

/// `[backup] connection`: hostile user, password, database and socket
/// directory, percent-encoded into the DSN as a user would, are refused or
/// read back exactly from the WAL-G env file and pgbackrest.conf.
fn check_connection_parts(tool: &str, seed: u64) -> usize {
    let base = backup_base(tool);
    let mut rng = Rng(seed);
    let mut accepted = 0;
    for _ in 0..CASES_PER_FIELD * 4 {
        let (user, password, database, socket) =
            (rng.hostile(), rng.hostile(), rng.hostile(), rng.hostile());
        let enc = crate::support::percent;
        let dsn = if tool == "wal-g" {
            format!(
                "postgres://{}:{}@db.internal:5432/{}",
                enc(&user),
                enc(&password),
                enc(&database)
            )
        } else {
            format!(
                "postgres://{}@localhost:5432/{}?host={}",
                enc(&user),
                enc(&database),
                enc(&format!("/{socket}"))
            )
        };
        let name = if tool == "wal-g" {
            "sidecar"
        } else {
            "sidecar_socket"
        };
        std::fs::write(base.secret(name), &dsn).unwrap();
        let Some(files) = base.render(&base.toml) else {
            continue;
        };
        accepted += 1;
        for (kind, content, entries) in files {
            let written: Vec<Written> = entries.iter().map(|e| e.written.clone()).collect();
            assert_eq!(
                sorted(read(&kind, &content)),
                sorted(written),
                "{kind} does not read back as written for the DSN {dsn:?}:\n{content}"
            );
            if tool == "wal-g" {
                assert!(
                    content.contains(&format!("PGUSER={}", sh_single(&user))),
                    "{content}"
                );
            }
        }
    }
    accepted
}

/// `'value'` as the env writer quotes it (values with `'` are refused).
fn sh_single(value: &str) -> String {
    format!("'{value}'")
}

#[test]
fn every_rendered_field_is_refused_or_reads_back_exactly() {
    let started = std::time::Instant::now();
    let mut accepted = 0;
    accepted += check_every_field(&pooler_base(), 0x5eed_0001);
    accepted += check_every_field(&backup_base("wal-g"), 0x5eed_0002);
    accepted += check_every_field(&backup_base("pgbackrest"), 0x5eed_0003);
    let walg = check_connection_parts("wal-g", 0x5eed_0004);
    let pgbackrest = check_connection_parts("pgbackrest", 0x5eed_0005);
    assert!(
        walg > 5 && pgbackrest > 5,
        "too few sidecar DSNs were accepted: {walg} and {pgbackrest}"
    );
    accepted += walg + pgbackrest;
    assert!(
        accepted > 50,
        "too few values were accepted to prove anything: {accepted}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
}

/// The hostile values the grammar refuses are refused by `validate` with the
/// key named, and the ones it accepts for the base's secret are never echoed.
#[test]
fn a_refused_value_names_its_key() {
    let base = pooler_base();
    let toml = with_value(
        &base,
        &[
            "pooler".into(),
            "settings".into(),
            "server_reset_query".into(),
        ],
        "DISCARD ALL\nauth_type = trust",
    );
    let path = base.dir.path().join("dbops.toml");
    std::fs::write(&path, toml).unwrap();
    let error = match resolve(&path, None) {
        Ok(_) => panic!("an injected line was accepted"),
        Err(errors) => errors.to_string(),
    };
    assert!(
        error.contains("key `pooler.settings.server_reset_query`: cannot be written into pgbouncer.ini: it holds a line break"),
        "{error}"
    );
    let _ = base.secret("admin");
}

/// pgBouncer itself reads the rendered values back: reloadable settings after
/// a `RELOAD`, restart-only ones after a restart.
#[test]
fn pgbouncer_reads_back_exactly_the_declared_values() {
    use crate::support::pgbouncer::{pooler_table, PgBouncer};
    use crate::support::{free_port, percent, Dbops, PgServer};

    const ADMIN: &str = "console pw";
    let pg = PgServer::start();
    let dir = pg.writable_dir("pgbouncer");
    let port = free_port();
    let config = |reset: &str, auth_query: &str, ident: &str| {
        let quote = |v: &str| toml_edit::Value::from(v).to_string();
        format!(
            r#"[postgres]
admin = {{ env = "DATABASE_ROOT_URL" }}

[roles.app_user]
dsn = {{ env = "DATABASE_URL" }}

{pooler}logfile = "{dir}/pgbouncer.log"
server_reset_query = {}
auth_query = {}
syslog_ident = {}
"#,
            quote(reset),
            quote(auth_query),
            quote(ident),
            pooler = pooler_table(&dir, port, "ADMIN"),
            dir = dir.display()
        )
    };
    let dbops = Dbops::new(&config("DISCARD ALL", "SELECT 1", "pgbouncer"))
        .env("DATABASE_ROOT_URL", &pg.admin_url())
        .env(
            "DATABASE_URL",
            &format!(
                "postgres://app_user:{}@127.0.0.1:{port}/app",
                percent("app pw")
            ),
        )
        .env("ADMIN", ADMIN);
    dbops.run(&["apply", "--auto-approve"]).expect_code(0);
    let start = || PgBouncer::start(&dir.join("pgbouncer.ini"), port, &dir.join("pgbouncer.log"));
    let mut bouncer = start();
    let show = |bouncer: &PgBouncer, key: &str| -> String {
        let out = std::process::Command::new("psql")
            .args([
                "-X",
                "-A",
                "-t",
                "-h",
                "127.0.0.1",
                "-U",
                "pgbouncer_admin",
                "-d",
                "pgbouncer",
            ])
            .arg("-p")
            .arg(bouncer.port.to_string())
            .args(["-F", "\u{1f}", "-R", "\u{1e}", "-c", "SHOW CONFIG"])
            .env("PGPASSWORD", ADMIN)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.split('\u{1e}')
            .find_map(|row| {
                let mut fields = row.trim_start_matches('\n').split('\u{1f}');
                (fields.next() == Some(key)).then(|| fields.next().unwrap_or("").to_string())
            })
            .unwrap_or_else(|| panic!("`{key}` missing from SHOW CONFIG:\n{text}"))
    };

    let mut rng = Rng(0x5eed_0004);
    let mut reloaded = 0;
    let mut restarted = 0;
    let mut attempts = 0;
    while (reloaded < 12 || restarted < 3) && attempts < 400 {
        attempts += 1;
        let (reset, query, ident) = (rng.hostile(), rng.hostile(), rng.hostile());
        let restart = restarted < 3 && reloaded % 4 == 3;
        let ident = if restart {
            ident
        } else {
            show(&bouncer, "syslog_ident")
        };
        dbops.write_config(&config(&reset, &query, &ident));
        let validate = dbops.run(&["validate"]);
        if validate.code != 0 {
            assert!(
                validate.stderr.contains("key `pooler.settings."),
                "{}",
                validate.stderr
            );
            continue;
        }
        dbops.run(&["apply", "--auto-approve"]).expect_code(0);
        if restart {
            drop(bouncer);
            bouncer = start();
            assert_eq!(show(&bouncer, "syslog_ident"), ident, "after a restart");
            restarted += 1;
        }
        assert_eq!(show(&bouncer, "server_reset_query"), reset);
        assert_eq!(show(&bouncer, "auth_query"), query);
        reloaded += 1;
    }
    assert!(
        reloaded >= 12 && restarted >= 3,
        "only {reloaded} reloads and {restarted} restarts in {attempts} attempts"
    );
    assert!(
        bouncer.can_login("app_user", "app pw", "app"),
        "{}",
        bouncer.log()
    );
}
