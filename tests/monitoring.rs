//! Metrics files and webhooks, against real servers: the files pass
//! `promtool check metrics` and a real node_exporter serves them (two
//! commands' files in one directory scrape cleanly) with values equal to
//! the run's JSON; webhooks hear of a failure once, of a recovery once, are
//! retried within a bound when the receiver fails or hangs, never change the
//! run's exit code and never carry a secret.

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime};

use crate::support::deployment::{standard_config, Deployment};
use crate::support::monitoring::{promtool, value, NodeExporter, Receiver};
use crate::support::s3::{dbops, S3Server, BUCKET};
use crate::support::PgServer;

fn backup_config() -> String {
    format!(
        r#"[postgres]
admin = {{ env = "DATABASE_ROOT_URL" }}

{BUCKET}
[backup]
bucket = "db-backups"
prefix = "prod"
archive_command = "true"
tool = "wal-g"
rpo = "5m"
max_base_backup_age = "1h"
"#
    )
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// Findings of a JSON report, counted by (id, class).
fn findings(json: &str) -> BTreeMap<(String, String), usize> {
    let document: serde_json::Value = serde_json::from_str(json).unwrap();
    let mut out = BTreeMap::new();
    for finding in document["findings"].as_array().unwrap() {
        let key = (
            finding["id"].as_str().unwrap().to_string(),
            finding["class"].as_str().unwrap().to_string(),
        );
        *out.entry(key).or_default() += 1;
    }
    out
}

#[test]
fn metrics_files_pass_promtool_and_node_exporter_serves_what_the_json_said() {
    let (pg, s3) = (PgServer::start(), S3Server::moto());
    let dbops = dbops(&pg, &s3, &backup_config());
    let metrics = tempfile::tempdir().unwrap();
    let apply_file = metrics.path().join("dbops-apply.prom");
    let drift_file = metrics.path().join("dbops-drift.prom");
    let apply_path = apply_file.to_str().unwrap();
    let drift_path = drift_file.to_str().unwrap();

    dbops
        .run(&["apply", "--auto-approve", "--metrics-file", apply_path])
        .expect_code(0);
    pg.restart();
    let apply_text = std::fs::read_to_string(&apply_file).unwrap();
    assert_eq!(
        value(&apply_text, "dbops_run_success{command=\"apply\"}"),
        Some(1.0)
    );
    // The bucket created and its public access blocked; nothing of the pooler.
    assert_eq!(
        value(
            &apply_text,
            "dbops_apply_changes{command=\"apply\",domain=\"bucket\"}"
        ),
        Some(2.0),
        "{apply_text}"
    );
    assert_eq!(
        value(
            &apply_text,
            "dbops_apply_changes{command=\"apply\",domain=\"pooler\"}"
        ),
        Some(0.0),
        "{apply_text}"
    );

    // No full backup yet: a health finding; the file says what the JSON said.
    let drift = dbops.run(&["drift", "--format", "json", "--metrics-file", drift_path]);
    drift.expect_code(2);
    let text = std::fs::read_to_string(&drift_file).unwrap();
    let found = findings(&drift.stdout);
    assert!(
        found.contains_key(&("backup.health.base_backup".into(), "health".into())),
        "{found:?}"
    );
    for ((id, class), count) in &found {
        let series = format!("dbops_finding{{command=\"drift\",id=\"{id}\",class=\"{class}\"}}");
        assert_eq!(
            value(&text, &series),
            Some(*count as f64),
            "{series} in\n{text}"
        );
    }
    for class in ["health", "security"] {
        let total: usize = found
            .iter()
            .filter(|((_, c), _)| c == class)
            .map(|(_, n)| n)
            .sum();
        let series = format!("dbops_findings{{command=\"drift\",class=\"{class}\"}}");
        assert_eq!(value(&text, &series), Some(total as f64), "{text}");
    }
    assert_eq!(
        value(&text, "dbops_run_success{command=\"drift\"}"),
        Some(0.0)
    );
    assert_eq!(
        value(&text, "dbops_run_exit_code{command=\"drift\"}"),
        Some(2.0)
    );
    assert_eq!(
        value(
            &text,
            "dbops_last_success_timestamp_seconds{command=\"drift\"}"
        ),
        Some(0.0)
    );
    assert_eq!(
        value(
            &text,
            "dbops_backup_newest_full_timestamp_seconds{command=\"drift\"}"
        ),
        Some(0.0)
    );
    let ran = value(&text, "dbops_run_timestamp_seconds{command=\"drift\"}").unwrap();
    assert!((now() - ran).abs() < 60.0, "{ran}");

    // Both files pass promtool's linter and parser.
    for path in [&apply_file, &drift_file] {
        let (code, said) = promtool(
            &["check", "metrics"],
            &std::fs::read_to_string(path).unwrap(),
        );
        assert_eq!(code, 0, "{}: {said}", path.display());
    }

    // A real node_exporter serves both files in one scrape, without error.
    let exporter = NodeExporter::start(metrics.path());
    let scraped = exporter.scrape();
    assert_eq!(
        value(&scraped, "node_textfile_scrape_error"),
        Some(0.0),
        "{scraped}"
    );
    for ((id, class), count) in &found {
        let series = format!("dbops_finding{{class=\"{class}\",command=\"drift\",id=\"{id}\"}}");
        assert_eq!(
            value(&scraped, &series),
            Some(*count as f64),
            "{series} in\n{scraped}"
        );
    }
    assert_eq!(
        value(&scraped, "dbops_run_success{command=\"apply\"}"),
        Some(1.0),
        "{scraped}"
    );
    assert_eq!(
        value(&scraped, "dbops_run_success{command=\"drift\"}"),
        Some(0.0),
        "{scraped}"
    );

    // A full backup appears: clean, a timestamp, the finding's series gone.
    s3.client().put(
        "db-backups",
        "prod/basebackups_005/base_000000010000000000000002_backup_stop_sentinel.json",
    );
    let clean = dbops.run(&["drift", "--metrics-file", drift_path]);
    assert_eq!(clean.code, 0, "{}", clean.all());
    let text = std::fs::read_to_string(&drift_file).unwrap();
    assert!(!text.contains("dbops_finding{"), "{text}");
    let newest = value(
        &text,
        "dbops_backup_newest_full_timestamp_seconds{command=\"drift\"}",
    )
    .unwrap();
    assert!((now() - newest).abs() < 120.0, "{newest}");
    let succeeded = value(
        &text,
        "dbops_last_success_timestamp_seconds{command=\"drift\"}",
    )
    .unwrap();
    assert!((now() - succeeded).abs() < 60.0, "{succeeded}");
    assert!(exporter
        .scrape()
        .contains("dbops_backup_full_backups{command=\"drift\"} 1"));

    // A failing run after it keeps the last success's time.
    pg.sql_ok("CREATE TABLE t AS SELECT 1 AS x");
    let segment = pg.sql_ok("SELECT pg_walfile_name(pg_switch_wal())");
    let deadline = Instant::now() + Duration::from_secs(30);
    while pg.sql_ok("SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver") < segment {
        assert!(Instant::now() < deadline, "{segment} not archived");
        std::thread::sleep(Duration::from_millis(100));
    }
    dbops
        .run(&["drift", "--metrics-file", drift_path])
        .expect_code(2);
    let text = std::fs::read_to_string(&drift_file).unwrap();
    assert_eq!(
        value(
            &text,
            "dbops_last_success_timestamp_seconds{command=\"drift\"}"
        ),
        Some(succeeded),
        "{text}"
    );
    assert!(
        value(
            &text,
            "dbops_wal_last_archived_timestamp_seconds{command=\"drift\"}"
        )
        .is_some_and(|t| (now() - t).abs() < 120.0),
        "{text}"
    );
    let names: Vec<_> = std::fs::read_dir(metrics.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 2, "no temporary file left: {names:?}");
}

#[test]
fn an_unusable_metrics_path_is_refused_before_anything_runs() {
    let d = Deployment::new();
    let file = d.dbops.path("not-a-directory");
    std::fs::write(&file, "").unwrap();
    for (path, said) in [
        (d.dbops.path("missing/dbops.prom"), "is not there"),
        (file.join("dbops.prom"), "is not a directory"),
        (d.dbops.path(""), "names a directory"),
    ] {
        let out = d.dbops.run(&[
            "apply",
            "--auto-approve",
            "--metrics-file",
            path.to_str().unwrap(),
        ]);
        out.expect_code(1);
        assert!(
            out.stderr.contains("--metrics-file") && out.stderr.contains(said),
            "{}",
            out.stderr
        );
    }
    // Nothing was applied.
    assert_eq!(
        d.server
            .sql_ok("SELECT count(*) FROM pg_roles WHERE rolname = 'app_user'"),
        "0"
    );
}

fn notify_config(state: &std::path::Path) -> String {
    format!(
        "{}\n[notify]\nstate_file = \"{}\"\ntimeout = \"1s\"\nretries = 1\n\n[notify.webhooks.ops]\nurl = {{ env = \"DBOPS_WEBHOOK_URL\" }}\n",
        standard_config(),
        state.display()
    )
}

const TOKEN: &str = "T0KEN-s3cr3t";

/// Every payload validates, is JSON by content type, carries neither the
/// token nor a password.
fn check_payloads(receiver: &Receiver, secrets: &[&str]) -> Vec<serde_json::Value> {
    receiver
        .received()
        .iter()
        .map(|r| {
            assert!(r.path.contains(TOKEN), "{}", r.path);
            assert_eq!(r.content_type, "application/json");
            for secret in secrets.iter().chain([&TOKEN]) {
                assert!(!r.body.contains(secret), "{secret} in {}", r.body);
            }
            let payload: serde_json::Value = serde_json::from_str(&r.body).unwrap();
            let violations =
                crate::support::schema::violations("notification.schema.json", &payload);
            assert!(violations.is_empty(), "{violations:?}");
            payload
        })
        .collect()
}

#[test]
fn webhooks_hear_of_a_failure_once_and_of_the_recovery_once_within_a_bound() {
    let receiver = Receiver::start();
    let mut d = Deployment::new();
    let state = d.dbops.path("notify-state.json");
    d.dbops.write_config(&notify_config(&state));
    d.dbops.set_env(
        "DBOPS_WEBHOOK_URL",
        &format!("http://127.0.0.1:{}/hook?token={TOKEN}", receiver.port),
    );
    let secrets = [d.app_password.clone(), d.service_password.clone()];
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();

    // First failure: one POST. A repeat: none.
    d.dbops.run(&["drift"]).expect_code(2);
    let payloads = check_payloads(&receiver, &secrets);
    assert_eq!(payloads.len(), 1);
    assert_eq!(payloads[0]["kind"], "failure");
    assert_eq!(payloads[0]["command"], "drift");
    assert_eq!(payloads[0]["exit_code"], 2);
    assert!(payloads[0]["changes"]["postgres"].as_u64().unwrap() > 0);
    assert!(payloads[0]["text"]
        .as_str()
        .unwrap()
        .contains("dbops drift failed"));
    d.dbops.run(&["drift"]).expect_code(2);
    assert_eq!(receiver.received().len(), 1);

    // Apply (its own state, clean from the start): nothing. Drift recovers: one POST.
    d.apply();
    assert_eq!(receiver.received().len(), 1);
    d.dbops.run(&["drift"]).expect_code(0);
    let payloads = check_payloads(&receiver, &secrets);
    assert_eq!(payloads.len(), 2);
    assert_eq!(payloads[1]["kind"], "recovery");
    d.dbops.run(&["drift"]).expect_code(0);
    assert_eq!(receiver.received().len(), 2);

    // The receiver fails: retried once, reported, the exit code unchanged;
    // the next run, with the receiver back, sends the failure again.
    receiver.answer("500");
    d.set_app_password(&crate::support::hostile_password("rotated"));
    let failed = d.dbops.run(&["drift"]);
    failed.expect_code(2);
    assert_eq!(receiver.received().len(), 4, "one attempt and one retry");
    assert!(
        failed.stderr.contains("cannot notify webhook `ops` of the failure: the receiver answered HTTP 500 (2 attempt(s))"),
        "{}",
        failed.stderr
    );
    assert!(!failed.all().contains(TOKEN));
    receiver.answer("200");
    d.dbops.run(&["drift"]).expect_code(2);
    let payloads = check_payloads(&receiver, &secrets);
    assert_eq!(payloads.len(), 5);
    assert_eq!(payloads[4]["kind"], "failure");

    // A receiver that hangs: bounded (two 1s attempts and a 1s pause), the
    // run's result unchanged.
    d.apply();
    receiver.answer("hang");
    let started = Instant::now();
    let hung = d.dbops.run(&["drift", "--log-format", "json"]);
    hung.expect_code(0);
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    assert!(
        hung.stderr.contains("\"event\":\"notification.failed\""),
        "{}",
        hung.stderr
    );
    assert!(
        hung.stderr.contains("no answer within 1s"),
        "{}",
        hung.stderr
    );
    assert!(!hung.all().contains(TOKEN));

    // A run that cannot reach the server is a failure too, with its error.
    receiver.answer("200");
    d.dbops.run(&["drift"]).expect_code(0);
    let before = receiver.received().len();
    d.dbops.set_env(
        "DATABASE_ROOT_URL",
        &format!(
            "postgresql://postgres@127.0.0.1:{}/postgres",
            crate::support::free_port()
        ),
    );
    d.dbops.run(&["drift"]).expect_code(1);
    let payloads = check_payloads(&receiver, &secrets);
    assert_eq!(payloads.len(), before + 1);
    let last = payloads.last().unwrap();
    assert_eq!(last["kind"], "failure");
    assert_eq!(last["exit_code"], 1);
    assert!(!last["errors"].as_array().unwrap().is_empty(), "{last}");

    // The state file is private.
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&state).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

#[test]
fn bad_notify_settings_are_refused_by_validate_without_quoting_the_url() {
    let cases = [
        (
            "[notify]\nstate_file = \"/tmp/x.json\"\n[notify.webhooks.ops]\nurl = { env = \"DBOPS_WEBHOOK_URL\" }\n",
            Some("ftp://hooks.example.com/T0KEN"),
            "notify.webhooks.ops.url",
            "is not `http` or `https`",
        ),
        (
            "[notify]\nstate_file = \"/tmp/x.json\"\n[notify.webhooks.ops]\nurl = { env = \"DBOPS_WEBHOOK_URL\" }\n",
            None,
            "DBOPS_WEBHOOK_URL",
            "notify.webhooks.ops.url",
        ),
        (
            "[notify]\nstate_file = \"state.json\"\n[notify.webhooks.ops]\nurl = { env = \"DBOPS_WEBHOOK_URL\" }\n",
            Some("https://hooks.example.com/T0KEN"),
            "notify.state_file",
            "not an absolute path",
        ),
        (
            "[notify.webhooks.ops]\nurl = { env = \"DBOPS_WEBHOOK_URL\" }\n",
            Some("https://hooks.example.com/T0KEN"),
            "no `state_file`",
            "notify-state.json",
        ),
        (
            "[notify]\nstate_file = \"/tmp/x.json\"\nretries = 9\n[notify.webhooks.ops]\nurl = { env = \"DBOPS_WEBHOOK_URL\" }\non = [\"sometimes\"]\n",
            Some("https://hooks.example.com/T0KEN"),
            "sometimes",
            "dbops.toml:",
        ),
    ];
    for (section, url, first, second) in cases {
        let dsn = "postgresql://someone:pw@127.0.0.1:1/app";
        let mut dbops = crate::support::Dbops::new(&format!("{}\n{section}", standard_config()))
            .env(
                "DATABASE_ROOT_URL",
                "postgresql://postgres@127.0.0.1:1/postgres",
            )
            .env("DATABASE_URL", dsn)
            .env("DATABASE_SERVICE_URL", &dsn.replace("someone", "other"));
        if let Some(url) = url {
            dbops.set_env("DBOPS_WEBHOOK_URL", url);
        }
        let out = dbops.run(&["validate"]);
        out.expect_code(1);
        assert!(
            out.stderr.contains(first) && out.stderr.contains(second),
            "{section}\n{}",
            out.stderr
        );
        assert!(!out.all().contains("T0KEN"), "{}", out.all());
    }
}

/// `df`'s figures for the filesystem holding `path`: (size, available) bytes.
fn df(path: &std::path::Path) -> (f64, f64) {
    let out = std::process::Command::new("df")
        .args(["-B1", "--output=size,avail"])
        .arg(path)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let line = text.lines().nth(1).unwrap();
    let mut numbers = line.split_whitespace().map(|n| n.parse::<f64>().unwrap());
    (numbers.next().unwrap(), numbers.next().unwrap())
}

#[test]
fn wal_size_and_disk_usage_are_findings_past_their_limits_and_measured_always() {
    let tight = format!(
        "{}\n[capacity]\nwal_size_limit = \"1MB\"\ndisk_usage_percent = 1\n",
        standard_config()
    );
    let d = Deployment::with_config(&tight);
    d.apply();
    let metrics = tempfile::tempdir().unwrap();
    let file = metrics.path().join("dbops-drift.prom");
    let drift = d.dbops.run(&[
        "drift",
        "--format",
        "json",
        "--metrics-file",
        file.to_str().unwrap(),
    ]);
    drift.expect_code(2);
    let found = findings(&drift.stdout);
    assert_eq!(
        found.keys().map(|(id, _)| id.as_str()).collect::<Vec<_>>(),
        ["capacity.disk_usage", "capacity.wal_size"],
        "{}",
        drift.stdout
    );
    assert!(
        drift
            .stdout
            .contains("above `capacity.disk_usage_percent` (1%)"),
        "{}",
        drift.stdout
    );
    let text = std::fs::read_to_string(&file).unwrap();
    let wal = value(&text, "dbops_wal_size_bytes{command=\"drift\"}").unwrap();
    assert!(wal >= 16.0 * 1024.0 * 1024.0, "{text}");
    assert_eq!(
        value(&text, "dbops_wal_size_limit_bytes{command=\"drift\"}"),
        Some(1024.0 * 1024.0)
    );
    let (size, available) = df(&d.server.data_dir());
    assert_eq!(
        value(&text, "dbops_data_filesystem_size_bytes{command=\"drift\"}"),
        Some(size),
        "{text}"
    );
    let free = value(&text, "dbops_data_filesystem_free_bytes{command=\"drift\"}").unwrap();
    assert!(
        (free - available).abs() < size * 0.01,
        "{free} vs {available}"
    );
    let (code, said) = promtool(&["check", "metrics"], &text);
    assert_eq!(code, 0, "{said}");

    // Generous limits: healthy, still measured.
    let roomy = tight
        .replace("\"1MB\"", "\"1TB\"")
        .replace("disk_usage_percent = 1\n", "disk_usage_percent = 99\n");
    d.dbops.write_config(&roomy);
    let drift = d
        .dbops
        .run(&["drift", "--metrics-file", file.to_str().unwrap()]);
    assert_eq!(drift.code, 0, "{}", drift.all());
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(value(&text, "dbops_wal_size_bytes{command=\"drift\"}").is_some());

    // Out of range or unparsable: validate says where.
    for (bad, said) in [
        ("wal_size_limit = \"8gb\"", "unknown unit `gb`"),
        ("disk_usage_percent = 100", "give 1 to 99"),
    ] {
        d.dbops
            .write_config(&format!("{}\n[capacity]\n{bad}\n", standard_config()));
        let out = d.dbops.run(&["validate"]);
        out.expect_code(1);
        assert!(
            out.stderr.contains(said) && out.stderr.contains("dbops.toml:"),
            "{}",
            out.stderr
        );
    }
}

fn examples() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/monitoring")
}

#[test]
fn the_example_alert_rules_pass_their_tests_and_name_only_real_metrics() {
    let dir = examples();
    for args in [
        vec!["check", "rules", "dbops.rules.yml"],
        vec!["test", "rules", "dbops.rules.test.yml"],
    ] {
        let out = std::process::Command::new(crate::support::monitoring::binary("promtool"))
            .args(&args)
            .current_dir(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "promtool {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let known: Vec<String> = dbops::metrics::catalogue_rows()
        .into_iter()
        .map(|[name, ..]| name)
        .collect();
    let rules = std::fs::read_to_string(dir.join("dbops.rules.yml")).unwrap();
    let name = regex::Regex::new(r"dbops_[a-z_]+").unwrap();
    let mut used = std::collections::BTreeSet::new();
    for found in name.find_iter(&rules) {
        assert!(
            known.iter().any(|k| k == found.as_str()),
            "{} is not a dbops metric",
            found.as_str()
        );
        used.insert(found.as_str().to_string());
    }
    assert!(used.len() >= 12, "{used:?}");
}

/// Single-quoted for `sh`'s `.`: every byte kept.
fn sh_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', "'\\''"))
}

#[test]
fn the_example_units_verify_and_the_crontab_lines_run_as_written() {
    let d = Deployment::new();
    d.apply();
    let bin = env!("CARGO_BIN_EXE_dbops");
    let work = tempfile::tempdir().unwrap();
    let textfile = work.path().join("node-exporter");
    std::fs::create_dir(&textfile).unwrap();
    let env_file = work.path().join("dbops.env");
    let env: String = d
        .dbops
        .env_vars()
        .iter()
        .map(|(k, v)| format!("{k}={}\n", sh_quote(v)))
        .collect();
    std::fs::write(&env_file, env).unwrap();
    let localize = |text: &str| {
        text.replace("/usr/local/bin/dbops", bin)
            .replace("/etc/dbops/dbops.env", env_file.to_str().unwrap())
            .replace(
                "/etc/dbops/dbops.toml",
                d.dbops.path("dbops.toml").to_str().unwrap(),
            )
            .replace(
                "/var/lib/prometheus/node-exporter",
                textfile.to_str().unwrap(),
            )
    };

    // systemd's own checker accepts the units as written (the binary's path
    // swapped for this build's).
    for unit in ["dbops-drift.service", "dbops-drift.timer"] {
        let text = std::fs::read_to_string(examples().join(unit)).unwrap();
        std::fs::write(work.path().join(unit), localize(&text)).unwrap();
    }
    let verify = std::process::Command::new("systemd-analyze")
        .arg("verify")
        .arg(work.path().join("dbops-drift.service"))
        .arg(work.path().join("dbops-drift.timer"))
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );

    // Each crontab line's command, run by `sh` as cron would: drift writes
    // a clean file; restore-test (no `[backup]` here) fails and still writes
    // its file, saying so.
    let crontab = std::fs::read_to_string(examples().join("crontab")).unwrap();
    let commands: Vec<String> = crontab
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split_whitespace().skip(5).collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(commands.len(), 2, "{crontab}");
    let run = |command: &str| {
        std::process::Command::new("sh")
            .arg("-c")
            .arg(localize(command))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap())
            .current_dir("/")
            .output()
            .unwrap()
    };
    let drift = run(&commands[0]);
    assert_eq!(
        drift.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&drift.stderr)
    );
    let text = std::fs::read_to_string(textfile.join("dbops-drift.prom")).unwrap();
    assert_eq!(
        value(&text, "dbops_run_success{command=\"drift\"}"),
        Some(1.0)
    );
    let restore = run(&commands[1]);
    assert_eq!(restore.status.code(), Some(1));
    let text = std::fs::read_to_string(textfile.join("dbops-restore-test.prom")).unwrap();
    assert_eq!(
        value(&text, "dbops_run_success{command=\"restore-test\"}"),
        Some(0.0)
    );
    assert_eq!(
        value(&text, "dbops_run_errors{command=\"restore-test\"}"),
        Some(1.0)
    );
}
