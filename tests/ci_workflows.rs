//! The CI examples in examples/ci run: their YAML is read (with the
//! check-jsonschema venv's YAML parser; `.ci/run` validates them against the
//! GitHub and GitLab schemas) and every shell step that needs no GitHub or
//! GitLab API is run with bash, in order, against a real PostgreSQL: plan on a
//! pull request (exit 2 for changes is not a failure), apply from the plan
//! saved in the same job with events kept as evidence, then nightly drift.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::support::{Dbops, PgServer};

const CONFIG: &str = "[postgres]\nadmin = { env = \"DATABASE_ROOT_URL\" }\n\n[roles.app_user]\ndsn = { env = \"DATABASE_URL\" }\n";

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

fn setup() -> (PgServer, Dbops, Runner) {
    let pg = PgServer::start();
    let dbops = Dbops::new(CONFIG);
    let dir = dbops.path("");
    let runner = Runner {
        env: vec![
            ("DATABASE_ROOT_URL".into(), pg.admin_url()),
            (
                "DATABASE_URL".into(),
                pg.url("app_user", "ci app pw", "app"),
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
    (pg, dbops, runner)
}

#[test]
fn the_github_workflows_shell_steps_plan_apply_and_check_drift() {
    let (pg, dbops, runner) = setup();
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
    assert!(!events.contains("ci app pw"));
    assert!(pg.can_login("app_user", "ci app pw", "app"));

    for script in github_steps("drift.yml") {
        assert_eq!(runner.run(&script), 0, "drift.yml step failed:\n{script}");
    }
    let summary = std::fs::read_to_string(dbops.path("summary.md")).unwrap();
    assert!(!summary.is_empty());

    // Drift fails the nightly job.
    pg.sql_ok("ALTER ROLE app_user CONNECTION LIMIT 3");
    for script in github_steps("drift.yml") {
        assert_eq!(runner.run(&script), 2, "drift must fail the job");
    }
}

#[test]
fn the_gitlab_jobs_scripts_plan_apply_and_check_drift() {
    let (pg, dbops, runner) = setup();
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
