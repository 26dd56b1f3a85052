//! `dbops dump`: one set per database, now. Before anything is written:
//! pg_dump must not be older than the server, every database must exist,
//! and no other dump may run (an advisory lock on the admin session, so two
//! hosts cannot dump the same cluster at once either). Per database: a
//! read-only repeatable-read transaction exports its snapshot, the row
//! counts are read in it, pg_dump dumps that very snapshot (`--snapshot`)
//! and its output streams through SHA-256 into the set; then the roles
//! (without passwords), then `manifest.json`, last. A database that fails
//! leaves no manifest (its partial file is removed, its upload aborted) and
//! the others still run; the command then exits 1 naming what it left.
//! After a success, a directory's sets outside the retention windows are
//! pruned (never the newest complete one, never what is not a set).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime};

use tokio::io::AsyncReadExt;
use tokio_postgres::Client;

use super::desired::{DesiredDumps, Destination, DumpFormat};
use super::layout::{self, Class};
use super::manifest::{self, Manifest, ManifestFile, TableRows};
use super::retention::{keep, Dated};
use super::store::{dump_name, unix, RemoveOnDrop, SetEntry, Store};
use crate::dsn::Dsn;
use crate::error::{Error, ErrorKind, Result};
use crate::events::{Event, EventName, EventSink, Level};
use crate::pg::connect::{connect, server_error, Access};

/// `pg_try_advisory_lock` key of `dbops dump`: "dbdump" as a number.
pub(crate) const DUMP_LOCK_KEY: i64 = 0x6462_6475_6d70;

pub(crate) struct Request<'a> {
    pub(crate) desired: &'a DesiredDumps,
    pub(crate) admin: &'a Dsn,
    pub(crate) timeout: Duration,
    /// Only these databases (`--database`), else every declared one.
    pub(crate) only: &'a [String],
}

/// One database's dump, done.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct Done {
    pub(crate) database: String,
    pub(crate) location: String,
    pub(crate) class: Option<Class>,
    pub(crate) bytes: u64,
    pub(crate) sha256: String,
    pub(crate) seconds: f64,
}

/// One database that failed, and what it left.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct Failed {
    pub(crate) database: String,
    pub(crate) error: String,
    pub(crate) left: String,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub(crate) struct Outcome {
    pub(crate) done: Vec<Done>,
    pub(crate) failed: Vec<Failed>,
    /// Sets the pruner removed.
    pub(crate) pruned: Vec<String>,
    pub(crate) destination: String,
}

/// The programs, found and checked against the server.
struct Tools {
    pg_dump: PathBuf,
    pg_dumpall: PathBuf,
    version: String,
}

pub(crate) async fn run(request: &Request<'_>, sink: &dyn EventSink) -> Result<Outcome> {
    let desired = request.desired;
    let databases: Vec<String> = if request.only.is_empty() {
        desired.databases.clone()
    } else {
        for name in request.only {
            if !desired.databases.contains(name) {
                return Err(Error::config(format!(
                    "`--database {name}`: `{name}` is not one of the databases `[dumps]` dumps"
                ))
                .hint(format!("the file dumps {}", quoted(&desired.databases))));
            }
        }
        request.only.to_vec()
    };
    let admin = connect(request.admin, Access::ReadOnly, request.timeout).await?;
    let server = server(&admin).await?;
    let tools = tools(desired.bindir.as_deref(), &server)?;
    let missing = missing_databases(&admin, &databases).await?;
    if !missing.is_empty() {
        return Err(Error::config(format!(
            "cannot dump {}: no such database on the server",
            quoted(&missing)
        ))
        .key("dumps.databases")
        .hint("fix `[dumps] databases`, or create the database first; nothing was written"));
    }
    check_destination(&desired.destination)?;
    lock(&admin).await?;
    let store = Store::open(&desired.destination, request.timeout).await;
    let mut outcome = Outcome {
        destination: desired.destination.describe(),
        ..Outcome::default()
    };
    for database in &databases {
        match dump_one(request, &store, &tools, &server, database, sink).await {
            Ok(done) => {
                sink.emit(
                    Event::message(
                        EventName::DumpCompleted,
                        format!(
                            "dumped `{database}`: {} bytes in {:.1}s into `{}`",
                            done.bytes, done.seconds, done.location
                        ),
                    )
                    .details(serde_json::to_value(&done).expect("serialises")),
                );
                outcome.done.push(done);
            }
            Err((error, left)) => {
                sink.emit(
                    Event::message(
                        EventName::DumpFailed,
                        format!("dump of `{database}` failed: {}", error.message()),
                    )
                    .level(Level::Error)
                    .details(serde_json::json!({ "database": database, "left": left })),
                );
                outcome.failed.push(Failed {
                    database: database.clone(),
                    error: error.headline(),
                    left,
                });
            }
        }
    }
    if let Store::Directory(_) = store {
        for done in &outcome.done {
            outcome
                .pruned
                .extend(prune(&store, desired, &done.database, sink).await?);
        }
    }
    Ok(outcome)
}

/// What the server says of itself.
pub(crate) struct Server {
    pub(crate) version: String,
    pub(crate) major: u32,
    pub(crate) system_identifier: String,
}

async fn server(admin: &Client) -> Result<Server> {
    let row = admin
        .query_one(
            "SELECT current_setting('server_version'), current_setting('server_version_num')::int",
            &[],
        )
        .await
        .map_err(|e| server_error("cannot read the server's version", &e))?;
    let number: i32 = row.get(1);
    let system_identifier = match admin
        .query_one(
            "SELECT system_identifier::text FROM pg_control_system()",
            &[],
        )
        .await
    {
        Ok(row) => row.get(0),
        Err(_) => "unknown".to_string(),
    };
    Ok(Server {
        version: row.get(0),
        major: (number / 10_000) as u32,
        system_identifier,
    })
}

/// pg_dump and pg_dumpall from the bindir, `pg_config --bindir` or `PATH`;
/// refused when older than the server (it cannot dump a newer one).
fn tools(bindir: Option<&Path>, server: &Server) -> Result<Tools> {
    let found = |name: &str| -> Option<PathBuf> {
        if let Some(dir) = bindir {
            let path = dir.join(name);
            return path.is_file().then_some(path);
        }
        if let Ok(out) = std::process::Command::new("pg_config")
            .arg("--bindir")
            .output()
        {
            let path = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()).join(name);
            if out.status.success() && path.is_file() {
                return Some(path);
            }
        }
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
            .map(|dir| dir.join(name))
            .find(|path| path.is_file())
    };
    let missing = |name: &str| {
        Error::new(format!("`{name}` is not found{}", match bindir {
            Some(dir) => format!(" in `dumps.bindir` ({})", dir.display()),
            None => ": no `pg_config` on `PATH`, and none there".to_string(),
        }))
        .hint("install PostgreSQL's client programs of the server's major version (`postgresql-client-15`), or set `[dumps] bindir`")
    };
    let pg_dump = found("pg_dump").ok_or_else(|| missing("pg_dump"))?;
    let pg_dumpall = found("pg_dumpall").ok_or_else(|| missing("pg_dumpall"))?;
    let out = std::process::Command::new(&pg_dump)
        .arg("--version")
        .output()
        .map_err(|e| Error::new(format!("cannot run `{}`: {e}", pg_dump.display())))?;
    let version_line = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let version = version_line
        .split_whitespace()
        .find(|w| w.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .unwrap_or_default()
        .to_string();
    let major: u32 = version
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .ok_or_else(|| {
            Error::new(format!(
                "`{} --version` says `{version_line}`, which names no version",
                pg_dump.display()
            ))
        })?;
    if major < server.major {
        return Err(Error::new(format!(
            "`{}` is version {version}, older than the server ({}): pg_dump cannot dump a newer server; nothing was written",
            pg_dump.display(),
            server.version
        ))
        .hint(format!(
            "install pg_dump {} or newer (`postgresql-client-{}`), or point `[dumps] bindir` at it",
            server.major, server.major
        )));
    }
    Ok(Tools {
        pg_dump,
        pg_dumpall,
        version,
    })
}

async fn missing_databases(admin: &Client, databases: &[String]) -> Result<Vec<String>> {
    let rows = admin
        .query(
            "SELECT datname::text FROM pg_database WHERE datname = ANY($1) AND datallowconn",
            &[&databases],
        )
        .await
        .map_err(|e| server_error("cannot list the databases", &e))?;
    let present: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    Ok(databases
        .iter()
        .filter(|d| !present.contains(d))
        .cloned()
        .collect())
}

/// A directory destination must exist and be writable before anything runs.
fn check_destination(destination: &Destination) -> Result<()> {
    if let Destination::Directory(path) = destination {
        let probe = path.join(format!(".dbops-dump-probe.{}", std::process::id()));
        std::fs::File::create(&probe)
            .and_then(|_| std::fs::remove_file(&probe))
            .map_err(|e| {
                Error::new(format!(
                    "cannot write in `dumps.directory` `{}`: {}; nothing was written",
                    path.display(),
                    crate::util::files::io_reason(&e)
                ))
                .kind(ErrorKind::Local)
                .hint("create the directory, owned by the user dbops runs as")
            })?;
    }
    Ok(())
}

async fn lock(admin: &Client) -> Result<()> {
    let row = admin
        .query_one("SELECT pg_try_advisory_lock($1)", &[&DUMP_LOCK_KEY])
        .await
        .map_err(|e| server_error("cannot take the dump lock", &e))?;
    if row.get::<_, bool>(0) {
        return Ok(());
    }
    let holder = admin
        .query_opt(
            "SELECT pid, coalesce(client_addr::text, 'local'), application_name \
             FROM pg_stat_activity WHERE pid = (SELECT pid FROM pg_locks \
             WHERE locktype = 'advisory' AND granted AND objid = ($1 & 4294967295)::oid \
             AND classid = ($1 >> 32)::oid LIMIT 1)",
            &[&DUMP_LOCK_KEY],
        )
        .await
        .ok()
        .flatten()
        .map(|r| {
            format!(
                " (pid {}, from {}, `{}`)",
                r.get::<_, i32>(0),
                r.get::<_, String>(1),
                r.get::<_, String>(2)
            )
        })
        .unwrap_or_default();
    Err(Error::new(format!(
        "another `dbops dump` is running on this cluster{holder}; nothing was written"
    ))
    .kind(ErrorKind::Conflict)
    .hint("two dumps never run at once: wait for it to finish"))
}

/// One database: its set, or the error and what it left behind.
async fn dump_one(
    request: &Request<'_>,
    store: &Store,
    tools: &Tools,
    server: &Server,
    database: &str,
    sink: &dyn EventSink,
) -> std::result::Result<Done, (Error, String)> {
    let started = Instant::now();
    let started_at = SystemTime::now();
    let nothing = |e: Error| (e, "nothing".to_string());
    let desired = request.desired;
    let dsn = request.admin.with_database(database);
    let client = connect(&dsn, Access::ReadOnly, request.timeout)
        .await
        .map_err(nothing)?;
    client
        .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .await
        .map_err(|e| nothing(server_error("cannot start the dump's transaction", &e)))?;
    let snapshot: String = client
        .query_one("SELECT pg_export_snapshot()", &[])
        .await
        .map_err(|e| nothing(server_error("cannot export a snapshot", &e)))?
        .get(0);
    let tables = counts(&client, &desired.count_rows)
        .await
        .map_err(nothing)?;
    let (location, class) = new_set(store, database).await.map_err(nothing)?;
    sink.emit(
        Event::message(
            EventName::DumpStarted,
            format!("dumping `{database}` into `{location}`"),
        )
        .details(serde_json::json!({ "database": database, "location": location })),
    );
    let left = |e: Error| {
        let what = match store {
            Store::Directory(_) => format!(
                "the set folder `{location}` without a manifest (its partial file removed)"
            ),
            Store::Bucket(_) => format!(
                "no object of the dump (its multipart upload aborted) under `{location}`, and no manifest"
            ),
        };
        (e, what)
    };
    let directory_format = desired.format == DumpFormat::Directory;
    let files = if directory_format {
        dump_directory(tools, &dsn, &snapshot, desired.jobs, &location, database)
            .await
            .map_err(left)?
    } else {
        vec![
            dump_custom(tools, &dsn, &snapshot, store, &location, database)
                .await
                .map_err(left)?,
        ]
    };
    client.batch_execute("COMMIT").await.ok();
    let roles = dump_roles(tools, request.admin, store, &location)
        .await
        .map_err(left)?;
    let document = manifest_of(ManifestParts {
        database,
        class,
        directory_format,
        files,
        roles,
        tools,
        server,
        started_at,
        tables,
    });
    let (bytes, sha256) = (document.bytes, document.sha256.clone());
    let mut text = serde_json::to_vec_pretty(&document).expect("manifest serialises");
    text.push(b'\n');
    store
        .write_small(&location, "manifest.json", &text)
        .await
        .map_err(left)?;
    Ok(Done {
        database: database.to_string(),
        location,
        class,
        bytes,
        sha256,
        seconds: (started.elapsed().as_secs_f64() * 10.0).round() / 10.0,
    })
}

struct ManifestParts<'a> {
    database: &'a str,
    class: Option<Class>,
    directory_format: bool,
    files: Vec<ManifestFile>,
    roles: ManifestFile,
    tools: &'a Tools,
    server: &'a Server,
    started_at: SystemTime,
    tables: Vec<TableRows>,
}

fn manifest_of(p: ManifestParts<'_>) -> Manifest {
    let (bytes, sha256) = if p.directory_format {
        (
            p.files.iter().map(|f| f.bytes).sum(),
            crate::util::digest::sha256_hex(manifest::listing(&p.files).as_bytes()),
        )
    } else {
        (p.files[0].bytes, p.files[0].sha256.clone())
    };
    Manifest {
        format_version: "1.0".into(),
        database: p.database.to_string(),
        class: p.class.map(|c| c.word().to_string()),
        format: if p.directory_format {
            "directory"
        } else {
            "custom"
        }
        .into(),
        bytes,
        sha256,
        files: p.files,
        roles: p.roles,
        pg_dump_version: p.tools.version.clone(),
        server_version: p.server.version.clone(),
        system_identifier: p.server.system_identifier.clone(),
        started_at: humantime::format_rfc3339_seconds(p.started_at).to_string(),
        finished_at: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
        dbops_version: env!("CARGO_PKG_VERSION").into(),
        tables: p.tables,
    }
}

/// Row counts in the exported snapshot: estimates for every table, exact
/// for the declared ones present in this database.
async fn counts(client: &Client, exact: &[(String, String)]) -> Result<Vec<TableRows>> {
    let rows = client
        .query(
            "SELECT n.nspname::text, c.relname::text, c.reltuples::bigint \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind IN ('r', 'p') AND n.nspname <> 'information_schema' \
               AND n.nspname NOT LIKE 'pg\\_%' \
             ORDER BY 1, 2",
            &[],
        )
        .await
        .map_err(|e| server_error("cannot read the tables' row estimates", &e))?;
    let mut out = Vec::new();
    for row in rows {
        let (schema, table): (String, String) = (row.get(0), row.get(1));
        let counted = exact.iter().any(|(s, t)| *s == schema && *t == table);
        let rows = if counted {
            let statement = format!(
                "SELECT count(*) FROM {}.{}",
                crate::pg::quote::ident(&schema),
                crate::pg::quote::ident(&table)
            );
            client
                .query_one(statement.as_str(), &[])
                .await
                .map_err(|e| server_error(format!("cannot count `{schema}.{table}`"), &e))?
                .get(0)
        } else {
            row.get::<_, i64>(2)
        };
        out.push(TableRows {
            schema,
            table,
            rows,
            exact: counted,
        });
    }
    Ok(out)
}

/// A new set's location: never an existing one (a second dump in the same
/// second waits for the next), classified among the sets already there.
async fn new_set(store: &Store, database: &str) -> Result<(String, Option<Class>)> {
    for _ in 0..5 {
        let at = unix(SystemTime::now());
        let class = match store {
            Store::Directory(_) => None,
            Store::Bucket(_) => {
                // The week may have begun last month: two months suffice.
                let since = at - 40 * 86_400;
                let existing: Vec<i64> = store
                    .list(database, since)
                    .await?
                    .iter()
                    .filter(|s| s.complete)
                    .map(|s| s.at)
                    .collect();
                if existing.contains(&at) {
                    tokio::time::sleep(Duration::from_millis(1100)).await;
                    continue;
                }
                Some(layout::classify(&existing, at))
            }
        };
        let location = store.location(database, at, class);
        match store.create(&location) {
            Ok(()) => return Ok((location, class)),
            Err(_) if Path::new(&location).exists() => {
                tokio::time::sleep(Duration::from_millis(1100)).await;
            }
            Err(e) => return Err(e),
        }
    }
    Err(Error::new(format!(
        "cannot find a free set name for `{database}` after five seconds"
    )))
}

fn command(program: &Path, dsn: &Dsn) -> tokio::process::Command {
    use secrecy::ExposeSecret;
    let mut command = tokio::process::Command::new(program);
    command
        .env("PGAPPNAME", "dbops-dump")
        .env_remove("PGPASSWORD")
        .env_remove("PGSERVICE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if let Some(password) = dsn.password() {
        command.env("PGPASSWORD", password.expose_secret());
    }
    command
}

/// Runs pg_dump in the custom format, its output streamed into the set.
async fn dump_custom(
    tools: &Tools,
    dsn: &Dsn,
    snapshot: &str,
    store: &Store,
    location: &str,
    database: &str,
) -> Result<ManifestFile> {
    let mut child = command(&tools.pg_dump, dsn)
        .arg("--format=custom")
        .arg(format!("--snapshot={snapshot}"))
        .arg("--no-password")
        .arg(format!("--dbname={}", dsn.conninfo_without_password()))
        .spawn()
        .map_err(|e| Error::new(format!("cannot run `{}`: {e}", tools.pg_dump.display())))?;
    let mut stdout = child.stdout.take().expect("piped");
    let stderr = collect(child.stderr.take().expect("piped"));
    let name = dump_name(database, false);
    // Checked once the stream ended, before the dump takes its name. When
    // the write fails first, this future and `child` are dropped and
    // pg_dump, blocked on a pipe nobody reads, is killed (`kill_on_drop`).
    let exited = async move {
        let status = child
            .wait()
            .await
            .map_err(|e| Error::new(format!("cannot wait for pg_dump: {e}")))?;
        if status.success() {
            return Ok(());
        }
        let said = stderr.await.unwrap_or_default();
        Err(failed("pg_dump", status, &said))
    };
    let (bytes, sha256) = store
        .write_stream(location, &name, &mut stdout, exited)
        .await?;
    Ok(ManifestFile {
        name,
        bytes,
        sha256,
    })
}

/// pg_dump's directory format (local directories only, parallel with
/// `jobs`), then each file hashed.
async fn dump_directory(
    tools: &Tools,
    dsn: &Dsn,
    snapshot: &str,
    jobs: Option<u32>,
    location: &str,
    database: &str,
) -> Result<Vec<ManifestFile>> {
    let name = dump_name(database, true);
    let partial = Path::new(location).join(format!("{name}.partial"));
    let mut command = command(&tools.pg_dump, dsn);
    command
        .arg("--format=directory")
        .arg(format!("--snapshot={snapshot}"))
        .arg("--no-password")
        .arg(format!("--file={}", partial.display()))
        .arg(format!("--dbname={}", dsn.conninfo_without_password()));
    if let Some(jobs) = jobs {
        command.arg(format!("--jobs={jobs}"));
    }
    // Removed however this ends short of the rename, a signal included.
    let guard = RemoveOnDrop(Some(partial.clone()));
    let result = async {
        let child = command
            .stdout(Stdio::null())
            .spawn()
            .map_err(|e| Error::new(format!("cannot run `{}`: {e}", tools.pg_dump.display())))?;
        let out = child
            .wait_with_output()
            .await
            .map_err(|e| Error::new(format!("cannot wait for pg_dump: {e}")))?;
        if !out.status.success() {
            return Err(failed(
                "pg_dump",
                out.status,
                &String::from_utf8_lossy(&out.stderr),
            ));
        }
        let mut files = Vec::new();
        let mut entries: Vec<_> = std::fs::read_dir(&partial)
            .map_err(|e| Error::new(format!("cannot list `{}`: {e}", partial.display())))?
            .flatten()
            .collect();
        entries.sort_by_key(std::fs::DirEntry::file_name);
        for entry in entries {
            let mut file = tokio::fs::File::open(entry.path()).await.map_err(|e| {
                Error::new(format!("cannot read `{}`: {e}", entry.path().display()))
            })?;
            let (bytes, sha256) = digest(&mut file).await?;
            files.push(ManifestFile {
                name: format!("{name}/{}", entry.file_name().to_string_lossy()),
                bytes,
                sha256,
            });
        }
        std::fs::rename(&partial, Path::new(location).join(&name))
            .map_err(|e| Error::new(format!("cannot rename `{}`: {e}", partial.display())))?;
        Ok(files)
    }
    .await;
    if result.is_ok() {
        guard.defuse();
    }
    result
}

/// The roles without passwords, beside the dump.
async fn dump_roles(
    tools: &Tools,
    admin: &Dsn,
    store: &Store,
    location: &str,
) -> Result<ManifestFile> {
    let out = command(&tools.pg_dumpall, admin)
        .arg("--roles-only")
        .arg("--no-role-passwords")
        .arg("--no-password")
        .arg(format!("--dbname={}", admin.conninfo_without_password()))
        .output()
        .await
        .map_err(|e| Error::new(format!("cannot run `{}`: {e}", tools.pg_dumpall.display())))?;
    if !out.status.success() {
        return Err(failed(
            "pg_dumpall",
            out.status,
            &String::from_utf8_lossy(&out.stderr),
        ));
    }
    store
        .write_small(location, "roles.sql", &out.stdout)
        .await?;
    Ok(ManifestFile {
        name: "roles.sql".into(),
        bytes: out.stdout.len() as u64,
        sha256: crate::util::digest::sha256_hex(&out.stdout),
    })
}

/// SHA-256 of a reader, and its length.
pub(crate) async fn digest(
    reader: &mut (dyn tokio::io::AsyncRead + Unpin + Send),
) -> Result<(u64, String)> {
    super::store::copy_hashed(
        reader,
        &mut tokio::io::sink(),
        |e| Error::new(format!("cannot read the dump: {e}")),
        |e| Error::new(format!("cannot hash the dump: {e}")),
    )
    .await
}

fn collect(mut stderr: tokio::process::ChildStderr) -> tokio::task::JoinHandle<String> {
    tokio::task::spawn(async move {
        let mut text = Vec::new();
        let _ = (&mut stderr).take(64 << 10).read_to_end(&mut text).await;
        String::from_utf8_lossy(&text).into_owned()
    })
}

fn failed(program: &str, status: std::process::ExitStatus, stderr: &str) -> Error {
    let said: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    let tail = said[said.len().saturating_sub(3)..].join("; ");
    let how = match status.code() {
        Some(code) => format!("exited {code}"),
        None => "was killed by a signal".to_string(),
    };
    Error::new(format!(
        "{program} {how}{}",
        if tail.is_empty() {
            String::new()
        } else {
            format!(": {tail}")
        }
    ))
    .kind(ErrorKind::Server)
}

/// Removes a directory's sets the policy no longer keeps.
async fn prune(
    store: &Store,
    desired: &DesiredDumps,
    database: &str,
    sink: &dyn EventSink,
) -> Result<Vec<String>> {
    if let Store::Bucket(_) = store {
        return Ok(Vec::new());
    }
    let sets: Vec<SetEntry> = store.list(database, 0).await?;
    let dated: Vec<Dated> = sets
        .iter()
        .map(|s| Dated {
            at: s.at,
            complete: s.complete,
        })
        .collect();
    let now = unix(SystemTime::now());
    let mut removed = Vec::new();
    for (set, kept) in sets.iter().zip(keep(&dated, desired.retention, now)) {
        if kept {
            continue;
        }
        store.delete(set)?;
        sink.emit(
            Event::message(EventName::DumpPruned, format!("pruned `{}`", set.location))
                .details(serde_json::json!({ "database": database, "location": set.location })),
        );
        removed.push(set.location.clone());
    }
    Ok(removed)
}

fn quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
