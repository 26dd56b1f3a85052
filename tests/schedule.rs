//! `dbops schedule`: CronJobs checked against the Kubernetes schemas
//! offline (kubernetes-validate) and read back with a YAML parser, systemd
//! units through `systemd-analyze verify`, and the crontab's commands run
//! for real against a test cluster, the way cron runs them.

use std::path::PathBuf;
use std::process::Command;

use crate::support::postgres::PgServer;
use crate::support::{hostile_password, Dbops};

/// The venv's tool (`DBOPS_KUBERNETES_VALIDATE`, set by scripts/deps.sh).
fn kubernetes_validate() -> PathBuf {
    std::env::var_os("DBOPS_KUBERNETES_VALIDATE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("target/k8s-venv/bin/kubernetes-validate")
        })
}

/// A file path full of what YAML, systemd and shells treat specially.
const HOSTILE_FILE: &str = "/run/secrets/key: \"it's\" 100% $HOME #x";

fn config(dump_dir: &str) -> String {
    format!(
        r#"[postgres]
admin = {{ env = "DATABASE_ROOT_URL" }}

[roles.app_user]
dsn = {{ env = "DATABASE_URL" }}

[dumps]
databases = ["app"]
directory = "{dump_dir}"
interval = "6h"
rto = "30m"

[environments.staging.postgres]
admin = {{ env = "STAGING_ROOT_URL" }}

[environments.staging.roles.app_user]
dsn = {{ env = "STAGING_URL" }}
"#
    )
}

#[test]
fn cronjobs_pass_the_kubernetes_schemas_and_read_back_exactly() {
    let mut text = config("/var/backups/dbops");
    text.push_str(&format!(
        "\n[restore_test]\nsource = \"dumps\"\n\n[restore_test.evidence_key]\nfile = {}\n\n[environments.prod.postgres]\nadmin = {{ env = \"PROD_ROOT_URL\" }}\n",
        serde_json::to_string(HOSTILE_FILE).unwrap()
    ));
    let d = Dbops::new(&text);
    let out = d.run(&[
        "schedule",
        "--kubernetes",
        "--image",
        "registry.example/dbops:1.2",
    ]);
    out.expect_code(1);
    assert!(
        out.stderr.contains("--restore-volume-size"),
        "{}",
        out.stderr
    );
    let out = d.run(&[
        "schedule",
        "--kubernetes",
        "--image",
        "registry.example/dbops:1.2",
        "--restore-volume-size",
        "20Gi",
        "--secret",
        "db-secrets",
    ]);
    out.expect_code(0);
    let manifests = d.path("cronjobs.yaml");
    std::fs::write(&manifests, &out.stdout).unwrap();
    let check = Command::new(kubernetes_validate())
        .arg("--strict")
        .arg(&manifests)
        .output()
        .expect("kubernetes-validate runs (scripts/deps.sh installs it)");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
    assert!(check.status.success(), "{said}\n{}", out.stdout);
    assert_eq!(
        said.matches("passed for resource cronjob/").count(),
        6,
        "{said}"
    );

    // Read back with a YAML parser: the values are exactly the declared ones.
    let python = kubernetes_validate().with_file_name("python");
    let parsed = Command::new(python)
        .args([
            "-c",
            "import json, sys, yaml; print(json.dumps(list(yaml.safe_load_all(open(sys.argv[1])))))",
        ])
        .arg(&manifests)
        .output()
        .unwrap();
    assert!(
        parsed.status.success(),
        "{}",
        String::from_utf8_lossy(&parsed.stderr)
    );
    let documents: Vec<serde_json::Value> = serde_json::from_slice(&parsed.stdout).unwrap();
    let names: Vec<&str> = documents
        .iter()
        .map(|d| d["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "dbops-drift-staging",
            "dbops-dump-staging",
            "dbops-drill-staging",
            "dbops-drift-prod",
            "dbops-dump-prod",
            "dbops-drill-prod"
        ]
    );
    for document in &documents {
        assert_eq!(document["spec"]["concurrencyPolicy"], "Forbid");
    }
    let drill = &documents[2]["spec"]["jobTemplate"]["spec"];
    // Twice the RTO, and ten minutes: the deadline only stops a hung drill.
    assert_eq!(drill["activeDeadlineSeconds"], 2 * 30 * 60 + 600);
    let pod = &drill["template"]["spec"];
    let container = &pod["containers"][0];
    assert_eq!(
        container["args"],
        serde_json::json!([
            "--file",
            "/etc/dbops/dbops.toml",
            "--environment",
            "staging",
            "restore-test"
        ])
    );
    let env: Vec<(&str, &str, &str)> = container["env"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e.get("valueFrom").is_some())
        .map(|e| {
            (
                e["name"].as_str().unwrap(),
                e["valueFrom"]["secretKeyRef"]["name"].as_str().unwrap(),
                e["valueFrom"]["secretKeyRef"]["key"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        env,
        [
            ("STAGING_ROOT_URL", "db-secrets", "STAGING_ROOT_URL"),
            ("STAGING_URL", "db-secrets", "STAGING_URL")
        ]
    );
    let mounts = container["volumeMounts"].as_array().unwrap();
    assert!(
        mounts
            .iter()
            .any(|m| m["mountPath"] == HOSTILE_FILE && m["name"] == "secrets"),
        "{mounts:?}"
    );
    let restore = pod["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "restore")
        .unwrap();
    assert_eq!(restore["emptyDir"]["sizeLimit"], "20Gi");
    // prod overrides only the admin DSN: it shares DATABASE_URL.
    let prod_env = documents[3]["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
        ["env"]
        .to_string();
    assert!(
        prod_env.contains("PROD_ROOT_URL") && prod_env.contains("DATABASE_URL"),
        "{prod_env}"
    );

    // Bad input: no image; a control character in a value.
    let out = d.run(&["schedule", "--kubernetes"]);
    out.expect_code(1);
    assert!(out.stderr.contains("--image"), "{}", out.stderr);
    let out = d.run(&["schedule", "--cron", "--binary", "/usr/bin/db\nops"]);
    out.expect_code(1);
    assert!(out.stderr.contains("control character"), "{}", out.stderr);
    let out = d.run(&["schedule"]);
    out.expect_code(64);
    let out = d.run(&["schedule", "--cron", "--binary", "bin/dbops"]);
    out.expect_code(1);
    assert!(
        out.stderr.contains("must be an absolute path"),
        "{}",
        out.stderr
    );
    let out = d.run(&["schedule", "--systemd", "--user=-root"]);
    out.expect_code(1);
    assert!(
        out.stderr.contains("not a user name systemd accepts"),
        "{}",
        out.stderr
    );
    // A variable name no Secret key can be.
    d.write_config(&text.replace("\"PROD_ROOT_URL\"", "\"PROD ROOT:URL\""));
    let out = d.run(&[
        "schedule",
        "--kubernetes",
        "--image",
        "x",
        "--restore-volume-size",
        "1Gi",
    ]);
    out.expect_code(1);
    assert!(
        out.stderr
            .contains("`PROD ROOT:URL`, which a Kubernetes Secret cannot hold as a key"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.is_empty(), "nothing rendered: {}", out.stdout);
}

#[test]
fn systemd_units_pass_systemd_analyze_verify() {
    let d = Dbops::new(&config("/var/backups/dbops"));
    // dbops installed under a path systemd must quote and unescape.
    let dir = d.path("opt/dbops 100% $x");
    std::fs::create_dir_all(&dir).unwrap();
    let binary = dir.join("dbops");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_dbops"), &binary).unwrap();
    let units = d.path("units");
    std::fs::create_dir_all(&units).unwrap();
    let out = d.run(&[
        "schedule",
        "--systemd",
        "--binary",
        binary.to_str().unwrap(),
        "--metrics-dir",
        "/var/lib/node_exporter/textfile",
        "--user",
        "root",
        "--out",
        units.to_str().unwrap(),
    ]);
    out.expect_code(0);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&units)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let names: Vec<String> = files
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "dbops-drift-staging.service",
            "dbops-drift-staging.timer",
            "dbops-dump-staging.service",
            "dbops-dump-staging.timer"
        ]
    );
    let verify = Command::new("systemd-analyze")
        .arg("verify")
        .args(&files)
        .output()
        .expect("systemd-analyze runs");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
    assert!(verify.status.success() && said.trim().is_empty(), "{said}");
    let service = std::fs::read_to_string(&files[2]).unwrap();
    assert!(service.contains("100%% $x/dbops\""), "{service}");
    assert!(
        service.contains("OnCalendar")
            || std::fs::read_to_string(&files[3])
                .unwrap()
                .contains("OnCalendar=*-*-* 00/6:15:00")
    );
    assert!(
        service.contains("--metrics-file /var/lib/node_exporter/textfile/dbops-dump-staging.prom"),
        "{service}"
    );
    assert!(
        service.contains("EnvironmentFile=/etc/dbops/dbops.env"),
        "{service}"
    );
}

/// A crontab line's command as cron hands it to `/bin/sh -c`: after the five
/// fields, with `\%` turned back into `%`.
fn cron_command(line: &str) -> String {
    let mut rest = line;
    for _ in 0..5 {
        rest = rest.trim_start().split_once(' ').unwrap().1;
    }
    rest.replace("\\%", "%")
}

/// `NAME='value'` as a shell reads it back.
fn shell_assignment(name: &str, value: &str) -> String {
    format!("{name}='{}'\n", value.replace('\'', "'\\''"))
}

#[test]
fn crontab_commands_run_for_real_against_a_test_cluster() {
    let server = PgServer::start();
    let password = hostile_password("cron");
    let work = tempfile::tempdir().unwrap();
    let dumps = work.path().join("dumps 100%");
    let metrics = work.path().join("metrics 100%");
    std::fs::create_dir_all(&dumps).unwrap();
    std::fs::create_dir_all(&metrics).unwrap();
    crate::support::postgres::give_to_server_user(work.path());
    let d = Dbops::new(&config(dumps.to_str().unwrap()));
    let env_file = work.path().join("dbops.env");
    std::fs::write(
        &env_file,
        shell_assignment("STAGING_ROOT_URL", &server.admin_url())
            + &shell_assignment("STAGING_URL", &server.url("app_user", &password, "app")),
    )
    .unwrap();
    let out = d.run(&[
        "schedule",
        "--cron",
        "--binary",
        env!("CARGO_BIN_EXE_dbops"),
        "--env-file",
        env_file.to_str().unwrap(),
        "--metrics-dir",
        metrics.to_str().unwrap(),
    ]);
    out.expect_code(0);
    assert!(!out.stdout.contains(&password));
    let lines: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .collect();
    assert_eq!(lines.len(), 2, "{}", out.stdout);
    assert!(lines[0].starts_with("0 2 * * * "), "{}", lines[0]);
    assert!(lines[1].starts_with("15 */6 * * * "), "{}", lines[1]);
    // The dump first: drift then finds it fresh.
    let lines = [lines[1], lines[0]];
    // The deploy applies first; then the scheduled jobs run, as cron runs them.
    let apply = d
        .command(&["apply", "--environment", "staging", "--auto-approve"])
        .env("STAGING_ROOT_URL", server.admin_url())
        .env("STAGING_URL", server.url("app_user", &password, "app"))
        .output()
        .unwrap();
    assert!(
        apply.status.success(),
        "{}",
        String::from_utf8_lossy(&apply.stderr)
    );
    for (line, job) in lines.iter().zip(["dump", "drift"]) {
        let run = Command::new("/bin/sh")
            .arg("-c")
            .arg(cron_command(line))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap())
            .current_dir("/")
            .output()
            .unwrap();
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&run.stdout),
            String::from_utf8_lossy(&run.stderr)
        );
        assert!(run.status.success(), "{job}: {said}");
        assert!(!said.contains(&password));
        let prom = std::fs::read_to_string(metrics.join(format!("dbops-{job}-staging.prom")))
            .unwrap_or_else(|e| panic!("{job}'s metrics file: {e}\n{said}"));
        assert!(
            prom.contains(&format!(
                "dbops_run_success{{command=\"{job}\",environment=\"staging\"}} 1"
            )),
            "{prom}"
        );
    }
    let sets = std::fs::read_dir(&dumps).unwrap().count();
    assert!(sets > 0, "the dump job wrote a set");
}
