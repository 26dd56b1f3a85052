//! docs/backup.md from its first block: the whole file it shows is applied
//! (paths moved into this test's directory, and the TLS proxy in front of
//! the local S3 server added as `tool_endpoint` and `ca_file`), with admin and
//! sidecar DSNs over the Unix socket in libpq's form; then the setup steps
//! run as written (pgBackRest as `postgres`), the scheduled full backup's
//! command runs, the systemd units pass `systemd-analyze verify`, and drift
//! is clean.

use std::path::Path;

use crate::support::postgres::is_root;
use crate::support::s3::{assert_no_keys, S3Server, ACCESS_KEY, SECRET_KEY};
use crate::support::tls_proxy::TlsProxy;
use crate::support::{Dbops, PgServer};

fn doc() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/backup.md")).unwrap()
}

/// The fenced blocks of `language` in `text`, in order.
fn blocks(text: &str, language: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Option<Vec<String>> = None;
    for line in text.lines() {
        let trimmed = line.trim_start();
        match &mut current {
            None if trimmed == format!("```{language}") => current = Some(Vec::new()),
            Some(lines) if trimmed == "```" => {
                out.push(lines.join("\n"));
                current = None;
            }
            Some(lines) => lines.push(line.strip_prefix("   ").unwrap_or(line).to_string()),
            None => {}
        }
    }
    out
}

/// Runs `script` as the database's OS user with `env`.
fn as_postgres(script: &str, env: &[(&str, String)]) -> String {
    let mut command = if is_root() {
        let mut c = std::process::Command::new("runuser");
        c.args(["-u", "postgres", "--", "env"]);
        c
    } else {
        std::process::Command::new("env")
    };
    command.arg(format!("PATH={}", std::env::var("PATH").unwrap()));
    for (name, value) in env {
        command.arg(format!("{name}={value}"));
    }
    command.args(["timeout", "300", "sh", "-ec", script]);
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "failed:\n{script}\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

#[test]
fn the_backup_guide_sets_up_pgbackrest_as_written() {
    let doc = doc();
    let pg = PgServer::start();
    pg.admit_local_admin();
    let s3 = S3Server::moto();
    let proxy = TlsProxy::start(s3.port);
    let dir = pg.writable_dir("guide");
    let conf = dir.join("pgbackrest.conf");
    let stanza = format!("g{}", pg.port);
    let moved = |text: &str| {
        text.replace(
            "/etc/pgbackrest/pgbackrest.conf",
            &conf.display().to_string(),
        )
        .replace(
            "/var/lib/postgresql/15/main",
            &pg.data_dir().display().to_string(),
        )
        .replace("--stanza=main", &format!("--stanza={stanza}"))
    };
    // The first block, as written but for paths, the stanza and the restart.
    let first = blocks(&doc, "toml").remove(0);
    assert!(first.contains("[bucket.db-backups]") && first.contains("[postgres]"));
    let config = moved(&first)
        .replace("stanza = \"main\"", &format!("stanza = \"{stanza}\""))
        .replace(
            "restart_command = \"systemctl restart postgresql\"",
            &format!(
                "restart_command = {}",
                serde_json::Value::String(pg.restart_command())
            ),
        )
        .replace(
            "[backup]\n",
            &format!(
                "[backup]\ntool_endpoint = \"https://localhost:{}\"\nca_file = \"{}\"\nfile_owner = \"postgres\"\n",
                proxy.port,
                proxy.cert.display()
            ),
        );
    let sidecar = format!(
        "postgres://postgres@/postgres?host={}&port={}",
        pg.socket_dir().display(),
        pg.port
    );
    let dbops = Dbops::new(&config)
        .env("DATABASE_ROOT_URL", &pg.socket_admin_url())
        .env("BACKUP_S3_ENDPOINT", &s3.endpoint())
        .env("BACKUP_AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("BACKUP_AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        .env("BACKUP_SIDECAR_URL", &sidecar);

    let setup_start = doc.find("## Setting up pgBackRest").unwrap();
    let setup_end = doc.find("### Scheduling full backups").unwrap();
    let steps = blocks(&doc[setup_start..setup_end], "sh");
    assert_eq!(steps.len(), 3, "{steps:#?}");
    let env = [
        ("CONFIG", conf.display().to_string()),
        ("STANZA", stanza.clone()),
    ];
    for step in &steps {
        for line in step.lines().filter(|l| !l.trim().is_empty()) {
            match line.strip_prefix("dbops ") {
                Some(args) => {
                    let args: Vec<&str> = args.split_whitespace().collect();
                    let out = dbops.run(&args);
                    assert_eq!(out.code, 0, "`{line}`:\n{}\n{}", out.stdout, out.stderr);
                    assert_no_keys(&out.all());
                }
                None => {
                    as_postgres(line, &env);
                }
            }
        }
    }
    // Archiving runs on dbops's file, through the socket DSN's sidecar settings.
    let rendered = std::fs::read_to_string(&conf).unwrap();
    assert!(
        rendered.contains(&format!("pg1-socket-path={}", pg.socket_dir().display())),
        "{rendered}"
    );
    assert!(pg
        .sql_ok("SHOW archive_command")
        .contains(&format!("--config={}", conf.display())));

    // The scheduled full backup, as the cron line runs it.
    let schedule_start = setup_end;
    let schedule = &doc[schedule_start..];
    let cron = blocks(schedule, "sh").remove(0);
    let line = cron
        .lines()
        .find(|l| !l.starts_with('#'))
        .expect("a cron line");
    let command: Vec<&str> = line.split_whitespace().skip(5).collect();
    as_postgres(&moved(&command.join(" ")), &env);
    let info = as_postgres(
        &format!(
            "pgbackrest --config={} --stanza={stanza} info",
            conf.display()
        ),
        &env,
    );
    assert_eq!(info.matches("full backup:").count(), 2, "{info}");

    // The systemd units are valid units.
    let units = blocks(schedule, "ini");
    assert_eq!(units.len(), 2);
    let unit_dir = tempfile::tempdir().unwrap();
    let service = unit_dir.path().join("pgbackrest-full.service");
    let timer = unit_dir.path().join("pgbackrest-full.timer");
    std::fs::write(&service, moved(&units[0])).unwrap();
    std::fs::write(&timer, &units[1]).unwrap();
    let verify = std::process::Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(&service)
        .arg(&timer)
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );

    let drift = dbops.run(&["drift"]);
    assert_eq!(drift.code, 0, "{}\n{}", drift.stdout, drift.stderr);
    assert_no_keys(&drift.all());
}
