//! docs/backup.md's "Logical dumps" section, run as written: its TOML
//! applied (the directory moved into this test's), the cron line's command
//! run by `sh` as cron would, the writer's policy parsed, and the restore
//! steps run against a fresh cluster, which then holds the rows and owners.

use std::path::Path;
use std::process::Command;

use crate::support::deployment::{standard_config, Deployment};
use crate::support::postgres::{bindir, SUPERUSER_PASSWORD};
use crate::support::PgServer;

fn section() -> String {
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/backup.md"))
        .unwrap();
    let start = doc.find("## Logical dumps").expect("the section");
    doc[start..].to_string()
}

/// The fenced blocks of `language` in `text`, in order.
fn blocks(text: &str, language: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Option<Vec<&str>> = None;
    for line in text.lines() {
        match &mut current {
            None if line.trim() == format!("```{language}") => current = Some(Vec::new()),
            Some(lines) if line.trim() == "```" => {
                out.push(lines.join("\n"));
                current = None;
            }
            Some(lines) => lines.push(line),
            None => {}
        }
    }
    out
}

fn sh_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', "'\\''"))
}

#[test]
fn the_dumps_section_runs_as_written() {
    let text = section();
    let work = tempfile::tempdir().unwrap();
    let dumps = work.path().join("dumps");
    std::fs::create_dir(&dumps).unwrap();
    let toml = blocks(&text, "toml")
        .remove(0)
        .replace("/var/backups/dbops", dumps.to_str().unwrap());
    let d = Deployment::with_config(&format!("{}\n{toml}\n", standard_config()));
    d.apply();
    d.server.sql(
        "app",
        "CREATE TABLE orders (id int PRIMARY KEY, total numeric); \
         INSERT INTO orders SELECT g, g * 1.5 FROM generate_series(1, 3000) g; \
         ALTER TABLE orders OWNER TO app_user;",
    );

    // The cron line's command.
    let env_file = work.path().join("dbops.env");
    let env: String = d
        .dbops
        .env_vars()
        .iter()
        .map(|(k, v)| format!("{k}={}\n", sh_quote(v)))
        .collect();
    std::fs::write(&env_file, env).unwrap();
    let textfile = work.path().join("textfile");
    std::fs::create_dir(&textfile).unwrap();
    let scripts = blocks(&text, "sh");
    let cron: String = scripts[0]
        .split_whitespace()
        .skip(5)
        .collect::<Vec<_>>()
        .join(" ");
    let cron = cron
        .replace("/usr/local/bin/dbops", env!("CARGO_BIN_EXE_dbops"))
        .replace("/etc/dbops/dbops.env", env_file.to_str().unwrap())
        .replace(
            "/etc/dbops/dbops.toml",
            d.dbops.path("dbops.toml").to_str().unwrap(),
        )
        .replace(
            "/var/lib/prometheus/node-exporter",
            textfile.to_str().unwrap(),
        );
    let out = Command::new("sh")
        .args(["-c", &cron])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap())
        .current_dir("/")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(textfile.join("dbops-dump.prom").exists());
    let manifest = std::fs::read_dir(dumps.join("app"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .next()
        .unwrap();
    // app/YYYY/MM/DD/HHMMSSZ
    let mut set = manifest;
    for _ in 0..3 {
        set = std::fs::read_dir(&set)
            .unwrap()
            .flatten()
            .next()
            .unwrap()
            .path();
    }
    assert!(set.join("manifest.json").exists(), "{}", set.display());
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(set.join("manifest.json")).unwrap()).unwrap();
    let orders = manifest["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"] == "orders")
        .unwrap();
    assert_eq!(orders["rows"], 3000);
    assert_eq!(orders["exact"], true);

    // The writer's policy is JSON.
    let policy: serde_json::Value = serde_json::from_str(&blocks(&text, "json").remove(0)).unwrap();
    assert_eq!(policy["Statement"].as_array().unwrap().len(), 2);

    // The restore steps, as written, against a fresh cluster.
    let fresh = PgServer::start();
    let steps = scripts[1]
        .lines()
        .map(|line| match line.strip_prefix("SET=") {
            Some(_) => format!("SET={}", sh_quote(set.to_str().unwrap())),
            None => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    let out = Command::new("sh")
        .args(["-e", "-c", &steps])
        .env(
            "PATH",
            format!("{}:{}", bindir().display(), std::env::var("PATH").unwrap()),
        )
        .env("PGHOST", "127.0.0.1")
        .env("PGPORT", fresh.port.to_string())
        .env("PGUSER", "postgres")
        .env("PGPASSWORD", SUPERUSER_PASSWORD)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        fresh.sql("app", "SELECT count(*), sum(total) FROM orders"),
        "3000|6752250.0"
    );
    assert_eq!(
        fresh.sql(
            "app",
            "SELECT tableowner FROM pg_tables WHERE tablename = 'orders'"
        ),
        "app_user"
    );
}
