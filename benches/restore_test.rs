//! Benchmark: `dbops restore-test` (without `verify`) against the bare
//! commands a person would run for the same drill, same run, same backup:
//! `pgbackrest restore` into a fresh directory, the throwaway settings, the
//! server started and polled until promoted. pgBackRest reaches the local
//! S3 server (moto) through a TLS proxy, as in the tests. The database
//! holds `DBOPS_BENCH_RESTORE_MB` MB (default 512). Run with `cargo bench
//! --bench restore_test`; figures go in docs/performance.md.

#[path = "../tests/support/mod.rs"]
#[expect(dead_code, reason = "a bench uses part of the test support")]
mod support;

#[path = "common/mod.rs"]
#[expect(dead_code, reason = "it fills a database, and times its own commands")]
mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use support::postgres::{bindir, give_to_server_user, is_root, server_command};
use support::s3::{S3Server, ACCESS_KEY, BUCKET, SECRET_KEY};
use support::tls_proxy::TlsProxy;
use support::{free_port, run_checked, Dbops, PgServer};

fn pgbackrest(conf: &Path, stanza: &str, args: &[&str]) -> Command {
    let mut command = if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--", "pgbackrest"]);
        c
    } else {
        Command::new("pgbackrest")
    };
    command
        .arg(format!("--config={}", conf.display()))
        .arg(format!("--stanza={stanza}"))
        .arg("--log-level-console=warn")
        .args(args);
    command
}

/// The bare drill: restore, settings, start, wait for promotion, stop.
fn by_hand(conf: &Path, stanza: &str, work: &Path) -> Duration {
    let data = work.join("data");
    let socket = work.join("socket");
    std::fs::create_dir_all(&socket).unwrap();
    give_to_server_user(work);
    let started = Instant::now();
    run_checked(&mut pgbackrest(
        conf,
        stanza,
        &[
            &format!("--pg1-path={}", data.display()),
            "--archive-mode=off",
            "--type=default",
            "restore",
        ],
    ));
    let port = free_port();
    let settings = format!(
        "\nport = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\nhot_standby = off\narchive_mode = off\narchive_command = ''\nlogging_collector = off\n",
        socket.display()
    );
    let auto = data.join("postgresql.auto.conf");
    let mut text = std::fs::read_to_string(&auto).unwrap_or_default();
    text.push_str(&settings);
    std::fs::write(&auto, text).unwrap();
    give_to_server_user(work);
    run_checked(
        server_command("pg_ctl")
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(work.join("server.log"))
            .args(["-W", "start"]),
    );
    let deadline = Instant::now() + Duration::from_secs(1800);
    loop {
        let out = server_command("psql")
            .args(["-X", "-qAt", "-U", "postgres", "-d", "postgres", "-h"])
            .arg(&socket)
            .args(["-p", &port.to_string(), "-c", "SELECT pg_is_in_recovery()"])
            .output()
            .unwrap();
        if String::from_utf8_lossy(&out.stdout).trim() == "f" {
            break;
        }
        assert!(Instant::now() < deadline, "never promoted");
        std::thread::sleep(Duration::from_millis(200));
    }
    let took = started.elapsed();
    run_checked(server_command("pg_ctl").arg("-D").arg(&data).args([
        "-m",
        "immediate",
        "-w",
        "stop",
    ]));
    std::fs::remove_dir_all(work).unwrap();
    took
}

/// The servers and the configured dbops of one run.
struct Stack {
    _pg: PgServer,
    s3: S3Server,
    _proxy: TlsProxy,
    conf: std::path::PathBuf,
    stanza: String,
    work: std::path::PathBuf,
    dbops: Dbops,
    size: String,
}

/// A server archiving to pgBackRest through the proxy, `megabytes` of
/// data, and one full backup.
fn stack(megabytes: u64) -> Stack {
    let pg = PgServer::start();
    let s3 = S3Server::moto();
    let proxy = TlsProxy::start(s3.port);
    let dir = pg.writable_dir("pgbackrest");
    let conf = dir.join("pgbackrest.conf");
    let work = pg.writable_dir("restore-work");
    let stanza = format!("s{}", pg.port);
    let owner = if is_root() {
        "file_owner = \"postgres\"\n"
    } else {
        ""
    };
    let config = format!(
        r#"[postgres]
admin = {{ env = "DATABASE_ROOT_URL" }}

[server]
restart_command = {restart}

{BUCKET}
[backup]
tool = "pgbackrest"
rpo = "5m"
rto = "2h"
bucket = "db-backups"
prefix = "prod"
stanza = "{stanza}"
tool_endpoint = "https://localhost:{tls}"
ca_file = "{cert}"
config_file = "{conf}"
pg_data = "{data}"
connection = {{ env = "BACKUP_SIDECAR_URL" }}
{owner}
[restore_test]
work_dir = "{work}"
"#,
        restart = serde_json::Value::String(pg.restart_command()),
        tls = proxy.port,
        cert = proxy.cert.display(),
        conf = conf.display(),
        data = pg.data_dir().display(),
        work = work.display(),
    );
    let sidecar = format!(
        "postgres://postgres@localhost:{}/postgres?host={}",
        pg.port,
        pg.socket_dir().display()
    );
    let dbops = Dbops::new(&config)
        .env("DATABASE_ROOT_URL", &pg.admin_url())
        .env("BACKUP_S3_ENDPOINT", &s3.endpoint())
        .env("BACKUP_AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("BACKUP_AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        .env("BACKUP_SIDECAR_URL", &sidecar);
    let applied = dbops.run(&["apply", "--auto-approve", "--allow-restart"]);
    assert_eq!(applied.code, 0, "{}", applied.stderr);

    let size = common::fill(&pg, megabytes);
    eprintln!("database `app`: {size}; PostgreSQL {}", bindir().display());
    run_checked(&mut pgbackrest(&conf, &stanza, &["stanza-create"]));
    run_checked(&mut pgbackrest(&conf, &stanza, &["backup"]));

    Stack {
        _pg: pg,
        s3,
        _proxy: proxy,
        conf,
        stanza,
        work,
        dbops,
        size,
    }
}

fn main() {
    let megabytes: u64 = std::env::var("DBOPS_BENCH_RESTORE_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(512);
    // Named bindings keep the server and the proxy alive to the end.
    let Stack {
        _pg: _server,
        s3,
        _proxy: _tls,
        conf,
        stanza,
        work,
        dbops,
        size,
    } = stack(megabytes);
    // Alternating rounds, medians: the S3 server's speed drifts between runs.
    let rounds: usize = std::env::var("DBOPS_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let (mut floors, mut tooks, mut restores) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        floors.push(by_hand(
            &conf,
            &stanza,
            &work.join(format!("by-hand-{round}")),
        ));
        let started = Instant::now();
        let out = dbops.run(&["restore-test", "--format", "json"]);
        tooks.push(started.elapsed());
        assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
        let evidence: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        restores.push(
            evidence["evidence"]["durations"]["restore_seconds"]
                .as_f64()
                .unwrap(),
        );
        if std::env::var_os("DBOPS_BENCH_SHOW_LOG").is_some() {
            let uri = evidence["evidence_uri"].as_str().unwrap();
            let key = uri
                .trim_start_matches("s3://db-backups/")
                .replace("evidence.json", "restore.log");
            let log = s3.client().get("db-backups", &key);
            for line in String::from_utf8_lossy(&log)
                .lines()
                .filter(|l| l.contains("Z "))
            {
                eprintln!("{line}");
            }
        }
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(|a, b| a.total_cmp(b));
        v[v.len() / 2]
    };
    let floor = median(floors.iter().map(Duration::as_secs_f64).collect());
    let took = median(tooks.iter().map(Duration::as_secs_f64).collect());
    let restore = median(restores);
    println!("| database | rounds | bare restore + start + promotion (median) | dbops restore-test, whole process (median) | ratio | of which fetch + replay |");
    println!("|---|---|---|---|---|---|");
    println!(
        "| {size} | {rounds} | {floor:.2} s | {took:.2} s | {:.2}x | {restore:.2} s |",
        took / floor
    );
    eprintln!("floors: {floors:?}\ndbops: {tooks:?}");
}
