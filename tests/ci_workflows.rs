//! The CI examples in examples/ci run: their YAML is read (with the
//! check-jsonschema venv's YAML parser; `.ci/run` validates them against the
//! GitHub and GitLab schemas) and every shell step that needs no GitHub or
//! GitLab API is run with bash, in order, against a real PostgreSQL: plan on a
//! pull request (exit 2 for changes is not a failure), apply from the plan
//! saved in the same job with events kept as evidence, then nightly drift.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::support::s3::S3Server;
use crate::support::{Dbops, PgServer};

/// A file with every kind of secret the example workflows export: the DSNs,
/// a role's password, the pooler's admin password, the bucket's endpoint and
/// keys.
fn config(dir: &Path, pooler_port: u16) -> String {
    format!(
        r#"[postgres]
admin = {{ env = "DATABASE_ROOT_URL" }}

[roles.app_user]
dsn = {{ env = "DATABASE_URL" }}

[roles.migrator]
password = {{ env = "MIGRATOR_PASSWORD" }}

[bucket.ci-backups]
endpoint = {{ env = "BACKUP_S3_ENDPOINT" }}
access_key_id = {{ env = "BACKUP_AWS_ACCESS_KEY_ID" }}
secret_access_key = {{ env = "BACKUP_AWS_SECRET_ACCESS_KEY" }}
create = true

[pooler]
config_file = "{dir}/pgbouncer.ini"
auth_file = "{dir}/userlist.txt"
listen_addr = "127.0.0.1"
listen_port = {pooler_port}
admin_console = "localhost"
admin_password = {{ env = "PGBOUNCER_ADMIN_PASSWORD" }}
"#,
        dir = dir.display()
    )
}

fn lint_bin() -> PathBuf {
    std::env::var_os("DBOPS_LINT_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/lint-venv/bin"))
}

/// The YAML file as JSON, parsed by ruamel.yaml (check-jsonschema's parser).
fn yaml(path: &Path) -> serde_json::Value {
    let out = Command::new(lint_bin().join("python"))
        .args([
            "-c",
            "import json, sys\nfrom ruamel.yaml import YAML\nprint(json.dumps(YAML(typ='safe').load(open(sys.argv[1]))))",
        ])
        .arg(path)
        .output()
        .expect("the lint venv's python runs; scripts/test.sh installs it");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

struct Runner {
    dir: PathBuf,
    env: Vec<(String, String)>,
}

impl Runner {
    fn run(&self, script: &str) -> i32 {
        let dbops_dir = Path::new(env!("CARGO_BIN_EXE_dbops")).parent().unwrap();
        let path = format!(
            "{}:{}",
            dbops_dir.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let status = Command::new("bash")
            .args(["-e", "-c", script])
            .current_dir(&self.dir)
            .env("PATH", path)
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        status.code().unwrap_or(-1)
    }
}

fn github_steps(file: &str) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/ci/github")
        .join(file);
    let workflow = yaml(&path);
    let mut scripts = Vec::new();
    for job in workflow["jobs"].as_object().unwrap().values() {
        for step in job["steps"].as_array().unwrap() {
            if let Some(run) = step["run"].as_str() {
                scripts.push(run.to_string());
            }
        }
    }
    assert!(!scripts.is_empty(), "{file} has shell steps");
    scripts
}

fn setup() -> (PgServer, S3Server, Dbops, Runner) {
    let pg = PgServer::start();
    let s3 = S3Server::moto();
    let dbops = Dbops::new("");
    let dir = dbops.path("");
    let port = crate::support::free_port();
    dbops.write_config(&config(&dir, port));
    let runner = Runner {
        env: vec![
            ("DATABASE_ROOT_URL".into(), pg.admin_url()),
            (
                "DATABASE_URL".into(),
                format!("postgres://app_user:ci%20app%20pw@127.0.0.1:{port}/app"),
            ),
            ("MIGRATOR_PASSWORD".into(), "ci migrator pw".into()),
            ("PGBOUNCER_ADMIN_PASSWORD".into(), "ci pooler pw".into()),
            ("BACKUP_S3_ENDPOINT".into(), s3.endpoint()),
            (
                "BACKUP_AWS_ACCESS_KEY_ID".into(),
                crate::support::s3::ACCESS_KEY.into(),
            ),
            (
                "BACKUP_AWS_SECRET_ACCESS_KEY".into(),
                crate::support::s3::SECRET_KEY.into(),
            ),
            (
                "GITHUB_OUTPUT".into(),
                dir.join("github-output").display().to_string(),
            ),
            (
                "GITHUB_STEP_SUMMARY".into(),
                dir.join("summary.md").display().to_string(),
            ),
        ],
        dir,
    };
    (pg, s3, dbops, runner)
}

#[test]
fn the_github_workflows_shell_steps_plan_apply_and_check_drift() {
    let (pg, _s3, dbops, mut runner) = setup();
    // A secret the file needs is missing: the first step fails, naming it.
    let first = github_steps("plan.yml").remove(0);
    assert!(first.contains("--list-secrets"), "{first}");
    let kept = runner.env.clone();
    runner.env.retain(|(k, _)| k != "PGBOUNCER_ADMIN_PASSWORD");
    assert_eq!(runner.run(&first), 1, "a missing secret must fail the job");
    runner.env = kept;
    for script in github_steps("plan.yml") {
        assert_eq!(runner.run(&script), 0, "plan.yml step failed:\n{script}");
    }
    let output = std::fs::read_to_string(dbops.path("github-output")).unwrap();
    assert!(output.contains("exitcode=2"), "{output}");
    assert!(std::fs::read_to_string(dbops.path("plan.md"))
        .unwrap()
        .contains("app_user"));
    assert!(dbops.path("dbops.plan").exists());

    for script in github_steps("apply.yml") {
        assert_eq!(runner.run(&script), 0, "apply.yml step failed:\n{script}");
    }
    let events = std::fs::read_to_string(dbops.path("dbops-events.jsonl")).unwrap();
    assert!(
        events
            .lines()
            .last()
            .unwrap()
            .contains("\"apply.complete\""),
        "{events}"
    );
    for secret in [
        "ci app pw",
        "ci%20app%20pw",
        "ci migrator pw",
        "ci pooler pw",
        crate::support::s3::SECRET_KEY,
    ] {
        assert!(!events.contains(secret), "{secret} leaked");
    }
    // Every line of the JSON-logged apply is JSON, warnings and notes too.
    for line in events.lines() {
        assert!(
            serde_json::from_str::<serde_json::Value>(line).is_ok(),
            "not JSON: {line}"
        );
    }
    assert!(pg.can_login("app_user", "ci app pw", "app"));

    for script in github_steps("drift.yml") {
        assert_eq!(runner.run(&script), 0, "drift.yml step failed:\n{script}");
    }
    let summary = std::fs::read_to_string(dbops.path("summary.md")).unwrap();
    assert!(!summary.is_empty());

    // Drift fails the nightly job.
    pg.sql_ok("ALTER ROLE app_user CONNECTION LIMIT 3");
    for script in github_steps("drift.yml") {
        let expected = if script.contains("dbops drift") { 2 } else { 0 };
        assert_eq!(
            runner.run(&script),
            expected,
            "drift must fail the job:\n{script}"
        );
    }
}

#[test]
fn the_gitlab_jobs_scripts_plan_apply_and_check_drift() {
    let (pg, _s3, dbops, runner) = setup();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/ci/gitlab/.gitlab-ci.yml");
    let pipeline = yaml(&path);
    let script = |job: &str| -> Vec<String> {
        pipeline[job]["script"]
            .as_array()
            .unwrap_or_else(|| panic!("{job} has a script"))
            .iter()
            .map(|l| l.as_str().unwrap().to_string())
            .collect()
    };
    for job in ["dbops-plan", "dbops-apply", "dbops-drift"] {
        for line in script(job) {
            assert_eq!(runner.run(&line), 0, "{job}: `{line}` failed");
        }
    }
    assert!(dbops.path("dbops-events.jsonl").exists());
    assert!(pg.can_login("app_user", "ci app pw", "app"));
    pg.sql_ok("ALTER ROLE app_user CONNECTION LIMIT 3");
    let failed = script("dbops-drift")
        .iter()
        .any(|line| runner.run(line) != 0);
    assert!(failed, "drift must fail the scheduled job");
}

/// The monthly restore-test workflow (GitHub and GitLab) runs the drill as
/// written against a real pgBackRest backup: evidence lands in the bucket,
/// every event line is JSON, and the summary is written.
#[test]
fn the_restore_test_workflows_run_the_drill() {
    use crate::restore_test::{backup_with_a_target, restore_test, sidecar, stack, CHECKS};
    let stack = stack();
    let sidecar = sidecar(&stack);
    backup_with_a_target(&stack);
    let dbops = stack
        .dbops(&restore_test(
            &stack.work,
            CHECKS.replace("equals = \"1\"", "equals = \"2\"").as_str(),
            "",
        ))
        .env("BACKUP_SIDECAR_URL", &sidecar);
    let dir = dbops.path("");
    let mut env: Vec<(String, String)> = dbops
        .env_vars()
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    env.push((
        "GITHUB_STEP_SUMMARY".into(),
        dir.join("summary.md").display().to_string(),
    ));
    let runner = Runner { dir, env };
    for script in github_steps("restore-test.yml") {
        assert_eq!(
            runner.run(&script),
            0,
            "restore-test.yml step failed:\n{script}"
        );
    }
    let events = std::fs::read_to_string(dbops.path("restore-test-events.jsonl")).unwrap();
    for line in events.lines() {
        assert!(
            serde_json::from_str::<serde_json::Value>(line).is_ok(),
            "not JSON: {line}"
        );
    }
    assert!(events.contains("\"restore_test.completed\""), "{events}");
    let summary = std::fs::read_to_string(dbops.path("summary.md")).unwrap();
    assert!(summary.contains("Restore test passed."), "{summary}");
    assert_eq!(stack.evidence_keys().len(), 2);

    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/ci/gitlab/.gitlab-ci.yml");
    let pipeline = yaml(&path);
    for line in pipeline["dbops-restore-test"]["script"].as_array().unwrap() {
        let line = line.as_str().unwrap();
        assert_eq!(runner.run(line), 0, "dbops-restore-test: `{line}` failed");
    }
    assert_eq!(stack.evidence_keys().len(), 4);
    stack.assert_clean();
}

/// examples/ci/github/plan-environments.yml over examples/environments: each
/// matrix job's shell steps, given only its own environment's secrets (the
/// others empty, as a GitHub environment leaves them), against three real
/// clusters: each plans its own cluster and saves a plan naming it.
#[test]
fn the_environments_matrix_plans_each_environment_with_its_own_secrets() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("examples/environments/dbops.toml")).unwrap();
    let workflow = yaml(&root.join("examples/ci/github/plan-environments.yml"));
    let matrix: Vec<&str> = workflow["jobs"]["plan"]["strategy"]["matrix"]["environment"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert_eq!(matrix, ["staging", "prod-eu", "prod-us"]);
    let variables = [
        ("STAGING_ROOT_URL", "STAGING_URL"),
        ("EU_ROOT_URL", "EU_URL"),
        ("US_ROOT_URL", "US_URL"),
    ];
    let servers = [PgServer::start(), PgServer::start(), PgServer::start()];
    let dbops = Dbops::new(&text);
    for ((name, server), (root_url, url)) in matrix.iter().zip(&servers).zip(variables) {
        let mut env: Vec<(String, String)> = variables
            .iter()
            .flat_map(|(a, b)| {
                [
                    (a.to_string(), String::new()),
                    (b.to_string(), String::new()),
                ]
            })
            .filter(|(k, _)| k != root_url && k != url)
            .collect();
        env.extend([
            ("DBOPS_ENVIRONMENT".to_string(), name.to_string()),
            (root_url.to_string(), server.admin_url()),
            (
                url.to_string(),
                server.url("app_user", &format!("{name} app: pw"), "app"),
            ),
            (
                "GITHUB_OUTPUT".to_string(),
                dbops.path(&format!("output-{name}")).display().to_string(),
            ),
        ]);
        let runner = Runner {
            dir: dbops.path(""),
            env,
        };
        for script in github_steps("plan-environments.yml") {
            assert_eq!(runner.run(&script), 0, "{name}: step failed:\n{script}");
        }
        let output = std::fs::read_to_string(dbops.path(&format!("output-{name}"))).unwrap();
        assert!(output.contains("exitcode=2"), "{name}: {output}");
        let plan = std::fs::read_to_string(dbops.path("plan.md")).unwrap();
        assert!(plan.contains("app_user"), "{name}: {plan}");
        let saved = std::fs::read_to_string(dbops.path(&format!("dbops-{name}.plan"))).unwrap();
        let saved: serde_json::Value = serde_json::from_str(&saved).unwrap();
        assert_eq!(saved["environment"], *name);
        assert!(
            !saved.to_string().contains("app: pw"),
            "{name}: a password in the plan"
        );
    }
}
