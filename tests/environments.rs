//! `[environments.NAME]`: one file, several clusters. Real servers: one in
//! sync, one drifted, one stopped; a staged apply whose second stage fails;
//! a saved plan refused elsewhere; `--parallel 2` counted in the servers'
//! own logs; the bad input of the feature.

use crate::support::postgres::PgServer;
use crate::support::{free_port, hostile_password, Dbops};

/// Three environments over the shared role; each overrides its DSNs, and
/// prod-eu its connection limit.
const CONFIG: &str = r#"[postgres]
admin = { env = "DATABASE_ROOT_URL" }

[roles.app_user]
dsn = { env = "DATABASE_URL" }
connection_limit = 10

[environments.staging.postgres]
admin = { env = "STAGING_ROOT_URL" }

[environments.staging.roles.app_user]
dsn = { env = "STAGING_URL" }

[environments.prod-eu.postgres]
admin = { env = "EU_ROOT_URL" }

[environments.prod-eu.roles.app_user]
dsn = { env = "EU_URL" }
connection_limit = 50

[environments.prod-us.postgres]
admin = { env = "US_ROOT_URL" }

[environments.prod-us.roles.app_user]
dsn = { env = "US_URL" }

[rollout]
order = [["staging"], ["prod-eu"], ["prod-us"]]
"#;

/// A run directory whose three environments point at `servers` (a `None`
/// is a port nothing listens on: a stopped cluster).
fn dbops(servers: [Option<&PgServer>; 3], password: &str) -> Dbops {
    let mut d = Dbops::new(CONFIG);
    for (server, (root, app)) in servers.iter().zip([
        ("STAGING_ROOT_URL", "STAGING_URL"),
        ("EU_ROOT_URL", "EU_URL"),
        ("US_ROOT_URL", "US_URL"),
    ]) {
        let (admin, url) = match server {
            Some(server) => (server.admin_url(), server.url("app_user", password, "app")),
            None => {
                let port = free_port();
                (
                    format!("postgres://postgres:x@127.0.0.1:{port}/postgres"),
                    format!("postgres://app_user:x@127.0.0.1:{port}/app"),
                )
            }
        };
        d.set_env(root, &admin);
        d.set_env(app, &url);
    }
    d
}

fn connection_limit(server: &PgServer) -> String {
    server.sql(
        "postgres",
        "SELECT rolconnlimit FROM pg_roles WHERE rolname = 'app_user'",
    )
}

#[test]
fn drift_over_every_environment_reports_each_and_an_error_beats_drift() {
    let staging = PgServer::start();
    let eu = PgServer::start();
    let password = hostile_password("env");
    let d = dbops([Some(&staging), Some(&eu), None], &password);
    d.run(&["apply", "--environment", "staging", "--auto-approve"])
        .expect_code(0);
    d.run(&["apply", "--environment", "prod-eu", "--auto-approve"])
        .expect_code(0);
    assert_eq!(connection_limit(&staging).trim(), "10");
    assert_eq!(connection_limit(&eu).trim(), "50");
    eu.sql_ok("ALTER ROLE app_user CONNECTION LIMIT 7");

    let out = d.run(&["drift", "--all-environments"]);
    out.expect_code(1);
    for section in [
        "=== environment staging: clean ===",
        "=== environment prod-eu: drift ===",
        "=== environment prod-us: error ===",
        "3 environments: 1 clean, 1 drift (prod-eu), 1 error (prod-us).",
    ] {
        assert!(out.stdout.contains(section), "{section}\n{}", out.stdout);
    }
    let eu_section = out.stdout.split("=== environment prod-eu").nth(1).unwrap();
    assert!(eu_section.contains("connection_limit"), "{eu_section}");
    assert!(
        out.stderr.contains("[prod-us] error:"),
        "the stopped cluster's error is named on stderr\n{}",
        out.stderr
    );
    assert!(!out.all().contains(&password));

    let out = d.run(&["drift", "--all-environments", "--format", "json"]);
    out.expect_code(1);
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(json["exit_code"], 1);
    let environments = json["environments"].as_array().unwrap();
    let statuses: Vec<(&str, &str)> = environments
        .iter()
        .map(|e| (e["name"].as_str().unwrap(), e["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        statuses,
        [
            ("staging", "clean"),
            ("prod-eu", "drift"),
            ("prod-us", "error")
        ]
    );
    assert_eq!(environments[1]["report"]["command"], "drift", "{out:?}");
    assert_eq!(environments[2]["errors"][0]["kind"], "connection");

    // Without the stopped cluster: drift beats clean.
    let out = d.run(&["plan", "--environment", "prod-eu", "--detailed-exitcode"]);
    out.expect_code(2);
    d.run(&["apply", "--environment", "prod-eu", "--auto-approve"])
        .expect_code(0);
    assert_eq!(connection_limit(&eu).trim(), "50");
}

#[test]
fn a_staged_apply_stops_at_the_failing_stage_and_resumes_from_it() {
    let staging = PgServer::start();
    let eu = PgServer::start();
    let us = PgServer::start();
    let password = hostile_password("stage");
    let mut d = dbops([Some(&staging), Some(&eu), Some(&us)], &password);
    // prod-eu refuses the admin's password: stage 2 fails.
    let right = eu.admin_url();
    d.set_env(
        "EU_ROOT_URL",
        &right.replacen("postgres:", "postgres:wrong", 1),
    );

    let out = d.run(&["apply", "--all-environments"]);
    out.expect_code(1);
    assert!(out.stderr.contains("--auto-approve"), "{}", out.stderr);

    let out = d.run(&["apply", "--all-environments", "--auto-approve"]);
    out.expect_code(1);
    for line in [
        "Stage 1 (staging): applied.",
        "Stage 2 (prod-eu): failed.",
        "Stage 3 (prod-us): not applied.",
        "--from-stage 2",
    ] {
        assert!(out.stdout.contains(line), "{line}\n{}", out.stdout);
    }
    assert_eq!(connection_limit(&staging).trim(), "10");
    assert_eq!(connection_limit(&eu).trim(), "", "prod-eu is untouched");
    assert_eq!(connection_limit(&us).trim(), "", "stage 3 never ran");
    assert!(
        !us.log_text().contains("app=dbops"),
        "dbops never even connected to stage 3's server"
    );

    d.set_env("EU_ROOT_URL", &right);
    let out = d.run(&[
        "apply",
        "--all-environments",
        "--auto-approve",
        "--from-stage",
        "2",
        "--format",
        "json",
    ]);
    out.expect_code(0);
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let stages: Vec<&str> = json["rollout"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["status"].as_str().unwrap())
        .collect();
    assert_eq!(stages, ["skipped", "applied", "applied"]);
    assert_eq!(connection_limit(&eu).trim(), "50");
    assert_eq!(connection_limit(&us).trim(), "10");
    // Every environment converged: the next plan over all is empty.
    d.run(&["plan", "--all-environments", "--detailed-exitcode"])
        .expect_code(0);

    let out = d.run(&[
        "apply",
        "--all-environments",
        "--auto-approve",
        "--from-stage",
        "4",
    ]);
    out.expect_code(1);
    assert!(out.stderr.contains("has 3 stage(s)"), "{}", out.stderr);
}

#[test]
fn a_saved_plan_names_its_environment_and_is_refused_elsewhere() {
    let staging = PgServer::start();
    let eu = PgServer::start();
    let d = dbops([Some(&staging), Some(&eu), None], "pw");
    let plan = d.path("staging.plan");
    let plan = plan.to_str().unwrap();
    d.run(&["plan", "--environment", "staging", "--out", plan])
        .expect_code(0);
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(plan).unwrap()).unwrap();
    assert_eq!(saved["environment"], "staging");

    let out = d.run(&["apply", "--environment", "prod-eu", plan]);
    out.expect_code(1);
    assert!(
        out.stderr
            .contains("was planned for environment `staging`, not environment `prod-eu`"),
        "{}",
        out.stderr
    );
    assert_eq!(
        connection_limit(&eu).trim(),
        "",
        "nothing changed on prod-eu"
    );
    // Without `--environment`, the plan is applied where it was made.
    d.run(&["apply", plan]).expect_code(0);
    assert_eq!(connection_limit(&staging).trim(), "10");
    assert_eq!(connection_limit(&eu).trim(), "");
}

/// Each dbops session's (start, end) in milliseconds of the server's clock,
/// from its `disconnection` lines (end, and the session's duration).
fn dbops_sessions(server: &PgServer) -> Vec<(f64, f64)> {
    let mut sessions = Vec::new();
    for line in server.log_text().lines() {
        if !line.contains("app=dbops") || !line.contains("disconnection: session time:") {
            continue;
        }
        // `2026-12-02 19:40:00.123 UTC [pid] app=dbops LOG:  disconnection: session time: 0:00:00.123 ...`
        let time = &line[11..23];
        let parts: Vec<f64> = time.split(':').map(|p| p.parse().unwrap()).collect();
        let end = ((parts[0] * 60.0 + parts[1]) * 60.0 + parts[2]) * 1000.0;
        let took = line.split("session time: ").nth(1).unwrap();
        let took: Vec<f64> = took
            .split_whitespace()
            .next()
            .unwrap()
            .split(':')
            .map(|p| p.parse().unwrap())
            .collect();
        let took = ((took[0] * 60.0 + took[1]) * 60.0 + took[2]) * 1000.0;
        sessions.push((end - took, end));
    }
    sessions
}

#[test]
fn parallel_two_never_holds_more_than_two_environments_sessions() {
    let logging = ["log_connections = on", "log_disconnections = on"];
    let servers: Vec<PgServer> = (0..4).map(|_| PgServer::start_with(&logging)).collect();
    let mut config = String::from(
        "[postgres]\nadmin = { env = \"DATABASE_ROOT_URL\" }\n\n[roles.app_user]\ndsn = { env = \"DATABASE_URL\" }\n",
    );
    let mut d = Dbops::new("");
    for (index, server) in servers.iter().enumerate() {
        config.push_str(&format!(
            "\n[environments.e{index}.postgres]\nadmin = {{ env = \"ROOT_{index}\" }}\n\n[environments.e{index}.roles.app_user]\ndsn = {{ env = \"URL_{index}\" }}\n"
        ));
        d.set_env(&format!("ROOT_{index}"), &server.admin_url());
        d.set_env(
            &format!("URL_{index}"),
            &server.url("app_user", "pw", "app"),
        );
    }
    d.write_config(&config);
    let out = d.run(&["drift", "--all-environments", "--parallel", "2"]);
    out.expect_code(2);
    // One interval per environment: its first session's start to its last's end.
    let spans: Vec<(f64, f64)> = servers
        .iter()
        .map(|s| {
            let sessions = dbops_sessions(s);
            assert!(!sessions.is_empty(), "{}", s.log_text());
            let start = sessions.iter().map(|s| s.0).fold(f64::MAX, f64::min);
            let end = sessions.iter().map(|s| s.1).fold(f64::MIN, f64::max);
            (start, end)
        })
        .collect();
    let most = spans
        .iter()
        .map(|(start, _)| {
            spans
                .iter()
                .filter(|(s, e)| *s <= *start && *start < *e)
                .count()
        })
        .max()
        .unwrap();
    assert!(most <= 2, "{most} environments at once: {spans:?}");
    assert_eq!(most, 2, "two environments ran side by side: {spans:?}");
}

#[test]
fn bad_input_of_environments_is_refused_with_where_and_how() {
    let server = PgServer::start();
    let d = dbops([Some(&server), Some(&server), None], "pw");

    // An unknown environment.
    let out = d.run(&["plan", "--environment", "prod-ue"]);
    out.expect_code(1);
    assert!(
        out.stderr.contains("unknown environment `prod-ue`")
            && out
                .stderr
                .contains("hint: did you mean `prod-eu` or `prod-us`?"),
        "{}",
        out.stderr
    );
    // None chosen in a file that declares some.
    let out = d.run(&["plan"]);
    out.expect_code(1);
    assert!(out.stderr.contains("--environment NAME"), "{}", out.stderr);

    // An override of a key the file format does not have, and of a section.
    let mut bad = CONFIG.to_string();
    bad.push_str("\n[environments.staging.pooler]\nlisten_prot = 6432\n\n[environments.prod-us.postgress]\nadmin = 1\n");
    d.write_config(&bad);
    let line = |text: &str| bad.lines().position(|l| l.contains(text)).unwrap() + 1;
    let out = d.run(&["validate"]);
    out.expect_code(1);
    assert!(
        out.stderr.contains(&format!(
            "dbops.toml:{}:1: environment `staging`: key `pooler.listen_prot`: unknown field `listen_prot`",
            line("listen_prot")
        )),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(&format!(
            "dbops.toml:{}:",
            line("[environments.prod-us.postgress]")
        )) && out.stderr.contains("did you mean `postgres`"),
        "{}",
        out.stderr
    );

    // Two environments on the same server and database would fight.
    d.write_config(CONFIG);
    let out = d.run(&["validate"]);
    out.expect_code(1);
    assert!(
        out.stderr.contains(
            "environments `staging` and `prod-eu` both manage database `app` on the same server"
        ),
        "{}",
        out.stderr
    );
    let out = d.run(&["apply", "--all-environments", "--auto-approve"]);
    out.expect_code(1);
    assert!(
        out.stderr.contains("would undo the other's"),
        "{}",
        out.stderr
    );
    assert_eq!(
        server
            .sql(
                "postgres",
                "SELECT count(*) FROM pg_roles WHERE rolname = 'app_user'"
            )
            .trim(),
        "0",
        "nothing was applied"
    );
    // One environment alone is checked without the others' secrets.
    let out = d.run(&["validate", "--environment", "staging"]);
    out.expect_code(0);
    // `DBOPS_ENVIRONMENT` chooses one; an explicit `--all-environments` wins.
    let with_variable = |args: &[&str]| {
        d.command(args)
            .env("DBOPS_ENVIRONMENT", "staging")
            .output()
            .unwrap()
    };
    assert_eq!(with_variable(&["validate"]).status.code(), Some(0));
    let all = with_variable(&["validate", "--all-environments"]);
    assert_eq!(all.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&all.stderr).contains("would undo the other's"));
    let both = d.run(&["validate", "--environment", "staging", "--all-environments"]);
    both.expect_code(64);

    // Roles and settings belong to the whole cluster: other databases do not
    // keep two environments from fighting over the same role, or a setting.
    let mut d = d;
    d.set_env("EU_URL", &server.url("app_user", "pw", "app_eu"));
    let out = d.run(&["validate"]);
    out.expect_code(1);
    assert!(
        out.stderr.contains(
            "environments `staging` and `prod-eu` both manage role `app_user` on the same server"
        ),
        "{}",
        out.stderr
    );
    // Their own databases and roles on one server: only a setting set to
    // two values is a fight; one value for both is fine.
    d.set_env("DATABASE_ROOT_URL", &server.admin_url());
    d.set_env(
        "STAGING_URL",
        &server.url("app_staging", "pw", "app_staging"),
    );
    d.set_env("EU_URL", &server.url("app_eu", "pw", "app_eu"));
    let with_settings = |staging: &str, eu: &str| {
        format!(
            "[postgres]\nadmin = {{ env = \"DATABASE_ROOT_URL\" }}\n\n\
             [environments.staging.roles.app_staging]\ndsn = {{ env = \"STAGING_URL\" }}\n\n\
             [environments.staging.server.settings]\nwork_mem = \"{staging}\"\n\n\
             [environments.prod-eu.roles.app_eu]\ndsn = {{ env = \"EU_URL\" }}\n\n\
             [environments.prod-eu.server.settings]\nwork_mem = \"{eu}\"\n"
        )
    };
    d.write_config(&with_settings("8MB", "16MB"));
    let out = d.run(&["validate"]);
    out.expect_code(1);
    assert!(
        out.stderr.contains(
            "environments `staging` and `prod-eu` set server setting `work_mem` differently on the same server"
        ),
        "{}",
        out.stderr
    );
    d.write_config(&with_settings("8MB", "8MB"));
    d.run(&["validate"]).expect_code(0);
    // `prune = true` in one resets what the other sets; `[server.hba]`
    // rendered for each one's own application role is a fight too.
    let pruned = with_settings("8MB", "8MB")
        .replace(
            "[environments.prod-eu.server.settings]\n",
            "[environments.prod-eu.server]\nprune = true\n\n[environments.prod-eu.server.settings]\n",
        )
        .replace(
            "work_mem = \"8MB\"\n\n[environments.prod-eu.roles",
            "work_mem = \"8MB\"\nstatement_timeout = \"30s\"\n\n[environments.prod-eu.roles",
        );
    d.write_config(&pruned);
    let out = d.run(&["validate"]);
    out.expect_code(1);
    assert!(
        out.stderr
            .contains("`prod-eu` prunes server setting `statement_timeout` that `staging` sets"),
        "{}",
        out.stderr
    );
    d.write_config(&format!(
        "{}\n[server.hba]\napplication_from = [\"local\"]\n\n[[server.hba.rules]]\ntype = \"host\"\ndatabase = [\"all\"]\nuser = [\"postgres\"]\naddress = \"127.0.0.1/32\"\nmethod = \"scram-sha-256\"\n",
        with_settings("8MB", "8MB")
    ));
    let out = d.run(&["validate"]);
    out.expect_code(1);
    assert!(
        out.stderr.contains(
            "environments `staging` and `prod-eu` declare different `[server.hba]` rules for the same server"
        ),
        "{}",
        out.stderr
    );
}

#[test]
fn dumps_of_every_environment_share_one_metrics_file_and_a_failure_stays_its_own() {
    let staging = PgServer::start();
    let eu = PgServer::start();
    let work = tempfile::tempdir().unwrap();
    let directory = |name: &str| {
        let dir = work.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    };
    let (staging_dir, eu_dir) = (directory("staging"), directory("prod-eu"));
    let mut config = CONFIG.replace(
        "[rollout]\norder = [[\"staging\"], [\"prod-eu\"], [\"prod-us\"]]\n",
        "",
    );
    config.push_str(&format!(
        "\n[dumps]\ndatabases = [\"app\"]\ndirectory = {}\ninterval = \"24h\"\n\n[environments.prod-eu.dumps]\ndirectory = {}\n\n[environments.prod-us.dumps]\ndirectory = {}\n",
        serde_json::to_string(staging_dir.to_str().unwrap()).unwrap(),
        serde_json::to_string(eu_dir.to_str().unwrap()).unwrap(),
        serde_json::to_string(directory("prod-us").to_str().unwrap()).unwrap(),
    ));
    // A drill per environment, each from its own dumps, into one work directory.
    let drills = tempfile::tempdir().unwrap();
    config.push_str(&format!(
        "\n[restore_test]\nwork_dir = {}\n\n[[restore_test.checks]]\nname = \"items\"\ndatabase = \"app\"\nsql = \"SELECT count(*) FROM items\"\nequals = \"2\"\n",
        serde_json::to_string(drills.path().to_str().unwrap()).unwrap(),
    ));
    let d = dbops([Some(&staging), Some(&eu), None], "pw");
    d.write_config(&config);
    for name in ["staging", "prod-eu"] {
        d.run(&[
            "apply",
            "--environment",
            name,
            "--auto-approve",
            "--target",
            "postgres",
        ])
        .expect_code(0);
    }
    // Staging holds the two rows the drill's check expects, prod-eu three.
    for (server, rows) in [(&staging, 2), (&eu, 3)] {
        server.sql(
            "app",
            &format!("CREATE TABLE items AS SELECT generate_series(1, {rows}) AS id"),
        );
    }
    let metrics = d.path("dbops-dump.prom");
    let out = d.run(&[
        "dump",
        "--all-environments",
        "--metrics-file",
        metrics.to_str().unwrap(),
    ]);
    // prod-us is down: its error, the others' dumps.
    out.expect_code(1);
    assert!(
        out.stdout.contains("=== environment staging: clean ==="),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("=== environment prod-us: error ==="),
        "{}",
        out.stdout
    );
    for dir in [&staging_dir, &eu_dir] {
        assert!(
            std::fs::read_dir(dir).unwrap().count() > 0,
            "a set in {}",
            dir.display()
        );
    }
    let prom = std::fs::read_to_string(&metrics).unwrap();
    for line in [
        "dbops_run_success{command=\"dump\",environment=\"staging\"} 1",
        "dbops_run_success{command=\"dump\",environment=\"prod-eu\"} 1",
        "dbops_run_success{command=\"dump\",environment=\"prod-us\"} 0",
        "dbops_dump_success{command=\"dump\",environment=\"prod-eu\",database=\"app\"} 1",
    ] {
        assert!(prom.contains(line), "{line}\n{prom}");
    }
    // Each metric's HELP and TYPE once, whatever the number of environments.
    assert_eq!(
        prom.matches("# TYPE dbops_run_success ").count(),
        1,
        "{prom}"
    );

    // Every environment's drill from its own dumps: staging passes, prod-eu's
    // check fails on its three rows, prod-us has nothing to restore; one
    // document, and each drill's evidence beside its own dumps.
    let out = d.run(&["restore-test", "--all-environments", "--format", "json"]);
    out.expect_code(1);
    let document: serde_json::Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", out.stdout, out.stderr));
    let environments = document["environments"].as_array().unwrap();
    let status: Vec<(&str, &str)> = environments
        .iter()
        .map(|e| (e["name"].as_str().unwrap(), e["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        status,
        [
            ("staging", "clean"),
            ("prod-eu", "error"),
            ("prod-us", "error")
        ],
        "{document}"
    );
    let evidence = |n: usize| &environments[n]["report"]["evidence"];
    assert_eq!(evidence(0)["passed"], true, "{document}");
    assert_eq!(evidence(1)["passed"], false, "{document}");
    for (n, dir) in [(0, &staging_dir), (1, &eu_dir)] {
        let uri = environments[n]["report"]["evidence_uri"].as_str().unwrap();
        assert!(
            uri.starts_with(&dir.display().to_string()),
            "{uri} under {}",
            dir.display()
        );
    }
    assert!(
        evidence(2)["failure"]
            .as_str()
            .unwrap()
            .starts_with("there is no complete dump set of `app`"),
        "{document}"
    );
    assert_eq!(std::fs::read_dir(drills.path()).unwrap().count(), 0);
}
