//! The pooler against real PostgreSQL 15 and Debian's pgBouncer: files from
//! empty, logins through the pooler, password rotation without restarting it,
//! reloads, restart-only settings, drift, and the security lints.

use std::os::unix::fs::PermissionsExt;

use crate::support::pgbouncer::{pooler_table, PgBouncer};
use crate::support::{free_port, hostile_password, squash, Dbops, PgServer};

pub(crate) const ADMIN_PASSWORD: &str = "bouncer admin: p@ss/%' \"";

pub(crate) struct Setup {
    pub(crate) pg: PgServer,
    pub(crate) dbops: Dbops,
    pub(crate) dir: std::path::PathBuf,
    pub(crate) port: u16,
    pub(crate) app_password: String,
    pub(crate) service_password: String,
}

pub(crate) fn config(dir: &std::path::Path, port: u16, extra_settings: &str) -> String {
    format!(
        r#"[postgres]
admin = {{ env = "DATABASE_ROOT_URL" }}

[roles.app_user]
dsn = {{ env = "DATABASE_URL" }}

[roles.app_service]
dsn = {{ env = "DATABASE_SERVICE_URL" }}
bypass_rls = true

{pooler}logfile = "{dir}/pgbouncer.log"
{extra_settings}
"#,
        pooler = pooler_table(dir, port, "PGBOUNCER_ADMIN_PASSWORD"),
        dir = dir.display()
    )
}

impl Setup {
    pub(crate) fn new() -> Self {
        let pg = PgServer::start();
        let dir = pg.writable_dir("pgbouncer");
        let port = free_port();
        let app_password = hostile_password("pool-app");
        let service_password = hostile_password("pool-svc");
        let dbops = Dbops::new(&config(&dir, port, "default_pool_size = 5"))
            .env("DATABASE_ROOT_URL", &pg.admin_url())
            .env("DATABASE_URL", &pooled_url(port, "app_user", &app_password))
            .env(
                "DATABASE_SERVICE_URL",
                &pooled_url(port, "app_service", &service_password),
            )
            .env("PGBOUNCER_ADMIN_PASSWORD", ADMIN_PASSWORD);
        Self {
            pg,
            dbops,
            dir,
            port,
            app_password,
            service_password,
        }
    }

    pub(crate) fn start_bouncer(&self) -> PgBouncer {
        PgBouncer::start(
            &self.dir.join("pgbouncer.ini"),
            self.port,
            &self.dir.join("pgbouncer.log"),
        )
    }

    fn secrets(&self) -> Vec<String> {
        let mut secrets = vec![
            self.app_password.clone(),
            self.service_password.clone(),
            ADMIN_PASSWORD.to_string(),
        ];
        // Every verifier on disk is a secret too.
        if let Ok(text) = std::fs::read_to_string(self.dir.join("userlist.txt")) {
            for line in text.lines() {
                if let Some(start) = line.find("SCRAM-SHA-256$") {
                    secrets.push(line[start..].trim_end_matches('"').to_string());
                }
            }
        }
        secrets
    }

    #[track_caller]
    pub(crate) fn assert_clean(&self, out: &crate::support::Output) {
        for secret in self.secrets() {
            assert!(
                !out.stdout.contains(&secret) && !out.stderr.contains(&secret),
                "a secret leaked:\n{}{}",
                out.stdout,
                out.stderr
            );
        }
    }
}

pub(crate) fn pooled_url(port: u16, user: &str, password: &str) -> String {
    format!(
        "postgres://{}:{}@127.0.0.1:{port}/app",
        crate::support::percent(user),
        crate::support::percent(password)
    )
}

#[test]
fn from_empty_roles_and_pooler_files_then_both_roles_log_in_through_pgbouncer() {
    let s = Setup::new();
    let plan = s.dbops.run(&["plan", "--detailed-exitcode"]);
    plan.expect_code(2);
    for address in [
        "+ pooler.file.pgbouncer.ini",
        "+ pooler.file.userlist.txt",
        "+ pooler.file.pgbouncer_hba.conf",
    ] {
        assert!(
            plan.stdout.contains(address),
            "{address} missing from\n{}",
            plan.stdout
        );
    }
    s.assert_clean(&plan);
    let apply = s.dbops.run(&["apply", "--auto-approve"]);
    apply.expect_code(0);
    assert!(
        apply.stderr.contains(
            "pgBouncer was not reloaded: it is not running (nothing listens on 127.0.0.1:"
        ),
        "{}",
        apply.stderr
    );
    s.assert_clean(&apply);
    let mode = |name: &str| {
        std::fs::metadata(s.dir.join(name))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode("userlist.txt"), 0o600);
    assert_eq!(mode("pgbouncer.ini"), 0o640);
    // The auth file holds exactly the verifiers PostgreSQL stores.
    let stored =
        s.pg.sql_ok("SELECT rolpassword FROM pg_authid WHERE rolname = 'app_user'");
    let auth = std::fs::read_to_string(s.dir.join("userlist.txt")).unwrap();
    assert!(
        auth.contains(&format!("\"app_user\" \"{stored}\"")),
        "{auth}"
    );
    assert!(!auth.contains(&s.app_password));

    // dbops started nothing; the test starts pgBouncer on the rendered files.
    let bouncer = s.start_bouncer();
    assert!(
        bouncer.can_login("app_user", &s.app_password, "app"),
        "{}",
        bouncer.log()
    );
    assert!(
        bouncer.can_login("app_service", &s.service_password, "app"),
        "{}",
        bouncer.log()
    );
    assert!(!bouncer.can_login("app_user", "wrong password", "app"));
    let plan = s.dbops.run(&["plan", "--detailed-exitcode"]);
    plan.expect_code(0);
    s.assert_clean(&plan);
    s.dbops.run(&["drift"]).expect_code(0);

    // The admin console answers only the admin user on loopback.
    assert!(bouncer
        .sql_as(
            "pgbouncer_admin",
            ADMIN_PASSWORD,
            "pgbouncer",
            "SHOW VERSION"
        )
        .is_ok());
    assert!(bouncer
        .sql_as("app_user", &s.app_password, "pgbouncer", "SHOW VERSION")
        .is_err());
}

#[test]
fn rotating_a_password_updates_postgres_and_the_pooler_in_one_apply_without_restart() {
    let mut s = Setup::new();
    s.dbops.run(&["apply", "--auto-approve"]).expect_code(0);
    let bouncer = s.start_bouncer();
    assert!(bouncer.can_login("app_user", &s.app_password, "app"));

    let old = s.app_password.clone();
    s.app_password = "rotated: @ : / % ' \" and spaces".to_string();
    s.dbops.set_env(
        "DATABASE_URL",
        &pooled_url(s.port, "app_user", &s.app_password),
    );
    for format in ["text", "json", "markdown"] {
        let plan = s.dbops.run(&["plan", "--format", format]);
        s.assert_clean(&plan);
        assert!(
            plan.stdout.contains("postgres.role.app_user"),
            "{}",
            plan.stdout
        );
        assert!(
            plan.stdout.contains("pooler.file.userlist.txt"),
            "{}",
            plan.stdout
        );
    }
    let plan = s.dbops.run(&["plan"]);
    assert!(
        squash(&plan.stdout).contains("~ password = (sensitive) will change"),
        "{}",
        plan.stdout
    );
    assert!(
        squash(&plan.stdout).contains("~ secrets = (sensitive) will change"),
        "{}",
        plan.stdout
    );
    let apply = s
        .dbops
        .run(&["apply", "--auto-approve", "--log-format", "json"]);
    apply.expect_code(0);
    s.assert_clean(&apply);
    assert!(
        apply.stderr.contains("\"event\":\"pooler.reloaded\""),
        "{}",
        apply.stderr
    );

    assert!(
        bouncer.can_login("app_user", &s.app_password, "app"),
        "{}",
        bouncer.log()
    );
    assert!(!bouncer.can_login("app_user", &old, "app"));
    s.dbops.run(&["plan", "--detailed-exitcode"]).expect_code(0);
}

#[test]
fn reloadable_settings_take_effect_and_listen_port_waits_for_a_restart() {
    let s = Setup::new();
    s.dbops.run(&["apply", "--auto-approve"]).expect_code(0);
    let bouncer = s.start_bouncer();
    let show = |key: &str| {
        bouncer
            .sql_as(
                "pgbouncer_admin",
                ADMIN_PASSWORD,
                "pgbouncer",
                "SHOW CONFIG",
            )
            .unwrap()
            .lines()
            .find(|l| l.starts_with(&format!("{key}|")))
            .unwrap_or_default()
            .split('|')
            .nth(1)
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(show("default_pool_size"), "5");

    let changed = config(&s.dir, s.port, "default_pool_size = 12")
        .replace("listen_port", "pool_mode = \"session\"\nlisten_port");
    s.dbops.write_config(&changed);
    s.dbops.run(&["apply", "--auto-approve"]).expect_code(0);
    assert_eq!(show("default_pool_size"), "12");
    assert_eq!(show("pool_mode"), "session");
    s.dbops.run(&["plan", "--detailed-exitcode"]).expect_code(0);

    // listen_port is restart-only: plan and apply say so; RELOAD would ignore it.
    let other_port = free_port();
    let mut moved = Dbops::new(&changed.replace(
        &format!("listen_port = {}", s.port),
        &format!("listen_port = {other_port}"),
    ))
    .env("DATABASE_ROOT_URL", &s.pg.admin_url())
    .env("PGBOUNCER_ADMIN_PASSWORD", ADMIN_PASSWORD);
    moved.set_env(
        "DATABASE_URL",
        &pooled_url(other_port, "app_user", &s.app_password),
    );
    moved.set_env(
        "DATABASE_SERVICE_URL",
        &pooled_url(other_port, "app_service", &s.service_password),
    );
    let plan = moved.run(&["plan", "--format", "json"]);
    let document: serde_json::Value = serde_json::from_str(&plan.stdout).unwrap();
    let ini = document["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == "pooler.file.pgbouncer.ini")
        .expect("the ini changes");
    assert_eq!(ini["requires_restart"], true);
    let text = moved.run(&["plan"]);
    assert!(
        text.stdout.contains(
            "# pooler.file.pgbouncer.ini will be updated in-place\n  # (requires a restart of pgBouncer)"
        ),
        "{}",
        text.stdout
    );
    let apply = moved.run(&["apply", "--auto-approve"]);
    apply.expect_code(0);
    assert!(
        apply.stderr.contains("Restart required: the changes to `pooler.file.pgbouncer.ini` take effect when pgBouncer restarts (RELOAD ignores them)"),
        "{}",
        apply.stderr
    );
    // Still serving on the old port until someone restarts it.
    assert!(bouncer.can_login("app_user", &s.app_password, "app"));
}

#[test]
fn hand_edits_a_deleted_auth_file_and_a_loosened_mode_are_drift_and_repaired() {
    let s = Setup::new();
    s.dbops.run(&["apply", "--auto-approve"]).expect_code(0);
    let bouncer = s.start_bouncer();
    let ini = s.dir.join("pgbouncer.ini");
    let text = std::fs::read_to_string(&ini).unwrap();
    std::fs::write(
        &ini,
        text.replace("default_pool_size = 5", "default_pool_size = 99"),
    )
    .unwrap();
    std::fs::remove_file(s.dir.join("userlist.txt")).unwrap();
    std::fs::set_permissions(&ini, std::fs::Permissions::from_mode(0o666)).unwrap();

    let drift = s.dbops.run(&["drift"]);
    drift.expect_code(2);
    let shown = squash(&drift.stdout);
    assert!(
        shown.contains("# pooler.file.pgbouncer.ini has drifted"),
        "{}",
        drift.stdout
    );
    assert!(
        shown.contains("-default_pool_size = 99"),
        "{}",
        drift.stdout
    );
    assert!(
        shown.contains("~ mode = \"0666\" -> \"0640\""),
        "{}",
        drift.stdout
    );
    assert!(
        shown.contains("# pooler.file.userlist.txt is missing"),
        "{}",
        drift.stdout
    );
    s.assert_clean(&drift);

    s.dbops.run(&["apply", "--auto-approve"]).expect_code(0);
    s.dbops.run(&["drift"]).expect_code(0);
    assert!(
        bouncer.can_login("app_user", &s.app_password, "app"),
        "{}",
        bouncer.log()
    );

    // Running config that the file does not say: changed on the console by hand.
    bouncer
        .sql_as(
            "pgbouncer_admin",
            ADMIN_PASSWORD,
            "pgbouncer",
            "SET default_pool_size = 50",
        )
        .unwrap();
    let drift = s.dbops.run(&["drift"]);
    drift.expect_code(2);
    assert!(
        squash(&drift.stdout).contains("# pooler.running_config has drifted"),
        "{}",
        drift.stdout
    );
    assert!(
        squash(&drift.stdout).contains("~ default_pool_size = \"50\" -> \"5\""),
        "{}",
        drift.stdout
    );
    s.dbops.run(&["apply", "--auto-approve"]).expect_code(0);
    s.dbops.run(&["drift"]).expect_code(0);
}

#[test]
fn security_lints_each_have_a_failing_example() {
    let s = Setup::new();
    let base = config(&s.dir, s.port, "");
    let cases: Vec<(String, Dbops, &str)> = vec![
        (
            base.replace("admin_console = \"localhost\"", "admin_console = \"localhost\"\nauth_type = \"md5\""),
            Dbops::new(""),
            "key `pooler.auth_type`: `md5` is weaker than `scram-sha-256`",
        ),
        (
            base.replace("listen_addr = \"127.0.0.1\"", "listen_addr = \"0.0.0.0\"\nhost = \"127.0.0.1\"")
                .replace("admin_console = \"localhost\"\nadmin_password = { env = \"PGBOUNCER_ADMIN_PASSWORD\" }", "admin_console = \"disabled\"")
                + "stats_users = \"monitor\"\n",
            Dbops::new(""),
            "key `pooler.settings.stats_users`: opens the admin console while pgBouncer listens on `0.0.0.0`",
        ),
        (base.clone(), Dbops::new(""), "`$DATABASE_URL` points at PostgreSQL itself"),
        (base.clone() + "server_lifetme = 10\n", Dbops::new(""), "pgBouncer has no setting `server_lifetme`"),
    ];
    for (index, (config, _, expected)) in cases.into_iter().enumerate() {
        let mut dbops = Dbops::new(&config)
            .env("DATABASE_ROOT_URL", &s.pg.admin_url())
            .env(
                "DATABASE_URL",
                &pooled_url(s.port, "app_user", &s.app_password),
            )
            .env(
                "DATABASE_SERVICE_URL",
                &pooled_url(s.port, "app_service", &s.service_password),
            )
            .env("PGBOUNCER_ADMIN_PASSWORD", ADMIN_PASSWORD);
        if index == 2 {
            // The app's DSN goes straight to PostgreSQL, around the pooler.
            dbops.set_env(
                "DATABASE_URL",
                &s.pg.url("app_user", &s.app_password, "app"),
            );
        }
        let out = dbops.run(&["validate"]);
        out.expect_code(1);
        assert!(
            out.stderr.contains(expected),
            "`{expected}` missing from\n{}",
            out.stderr
        );
        s.assert_clean(&out);
    }
}

#[test]
fn with_the_admin_console_disabled_a_rotation_reloads_by_signal() {
    let mut s = Setup::new();
    let disabled = config(&s.dir, s.port, "default_pool_size = 5").replace(
        "admin_console = \"localhost\"\nadmin_password = { env = \"PGBOUNCER_ADMIN_PASSWORD\" }",
        "admin_console = \"disabled\"",
    );
    s.dbops.write_config(&disabled);
    s.dbops.run(&["apply", "--auto-approve"]).expect_code(0);
    assert!(!s.dir.join("pgbouncer_hba.conf").exists());
    let bouncer = s.start_bouncer();
    assert!(
        bouncer.can_login("app_user", &s.app_password, "app"),
        "{}",
        bouncer.log()
    );
    // Nobody, not even with the right password, reaches a disabled console.
    assert!(bouncer
        .sql_as("app_user", &s.app_password, "pgbouncer", "SHOW VERSION")
        .is_err());

    let old = s.app_password.clone();
    s.app_password = "signalled rotation @:/%".to_string();
    s.dbops.set_env(
        "DATABASE_URL",
        &pooled_url(s.port, "app_user", &s.app_password),
    );
    let apply = s
        .dbops
        .run(&["apply", "--auto-approve", "--log-format", "json"]);
    apply.expect_code(0);
    assert!(
        apply.stderr.contains("sent SIGHUP to pgBouncer"),
        "{}",
        apply.stderr
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !bouncer.can_login("app_user", &s.app_password, "app") {
        assert!(
            std::time::Instant::now() < deadline,
            "the new password never worked:\n{}",
            bouncer.log()
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(!bouncer.can_login("app_user", &old, "app"));
    s.dbops.run(&["plan", "--detailed-exitcode"]).expect_code(0);
}

/// A restart-only pgBouncer setting, written and reloaded, waits for a restart
/// of pgBouncer: every format names pgBouncer, and no advice speaks of
/// PostgreSQL or `--allow-restart`, which cannot restart it.
#[test]
fn a_pending_pooler_setting_names_pgbouncer_in_every_format() {
    let s = Setup::new();
    s.dbops.run(&["apply", "--auto-approve"]).expect_code(0);
    let _bouncer = s.start_bouncer();
    s.dbops.write_config(&config(
        &s.dir,
        s.port,
        "default_pool_size = 5\nlisten_backlog = 256",
    ));
    let apply = s.dbops.run(&["apply", "--auto-approve"]);
    apply.expect_code(0);
    assert!(
        apply.stderr.contains("take effect when pgBouncer restarts"),
        "{}",
        apply.stderr
    );

    let text = s.dbops.run(&["plan", "--detailed-exitcode"]);
    text.expect_code(0);
    assert!(
        text.stdout
            .contains("Pending restart of pgBouncer: written, in force after pgBouncer restarts:")
            && text
                .stdout
                .contains("! pooler.setting.listen_backlog = \"128\" now, \"256\" after restart"),
        "{}",
        text.stdout
    );
    let json = s.dbops.run(&["plan", "--format", "json"]);
    let document: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let pending = &document["pending_restart"][0];
    assert_eq!(pending["address"], "pooler.setting.listen_backlog");
    assert_eq!(pending["service"], "pgbouncer");
    let markdown = s.dbops.run(&["plan", "--format", "markdown"]);
    assert!(
        markdown.stdout.contains("**Pending restart of pgBouncer**"),
        "{}",
        markdown.stdout
    );
    let drift = s.dbops.run(&["drift"]);
    drift.expect_code(2);
    assert!(
        drift.stdout.contains(
            "wait for a restart of pgBouncer: restart pgBouncer; dbops does not restart it"
        ),
        "{}",
        drift.stdout
    );
    for out in [&text, &json, &markdown, &drift] {
        assert!(!out.stdout.contains("PostgreSQL"), "{}", out.stdout);
        assert!(!out.stdout.contains("--allow-restart"), "{}", out.stdout);
    }
}

/// The auth file is right on disk, but pgBouncer was never told: logging in
/// through it with the desired password fails, so plan shows `pooler.reload`,
/// drift reports it, and apply repairs it with a reload.
#[test]
fn a_pooler_holding_an_old_verifier_is_drift_repaired_by_a_reload() {
    let s = Setup::new();
    s.dbops.run(&["apply", "--auto-approve"]).expect_code(0);
    let bouncer = s.start_bouncer();
    assert!(bouncer.can_login("app_user", &s.app_password, "app"));

    // Someone rotates the password by hand, and fixes the auth file by hand, but
    // never reloads pgBouncer.
    s.pg.sql_ok(&format!(
        "ALTER ROLE app_user PASSWORD '{}'",
        "hand rotated".replace('\'', "''")
    ));
    let stored =
        s.pg.sql_ok("SELECT rolpassword FROM pg_authid WHERE rolname = 'app_user'");
    let auth_path = s.dir.join("userlist.txt");
    let auth = std::fs::read_to_string(&auth_path).unwrap();
    let line = auth
        .lines()
        .find(|l| l.starts_with("\"app_user\""))
        .unwrap()
        .to_string();
    std::fs::write(
        &auth_path,
        auth.replace(&line, &format!("\"app_user\" \"{stored}\"")),
    )
    .unwrap();
    let mut dbops = Dbops::new(&config(&s.dir, s.port, "default_pool_size = 5"));
    for (k, v) in s.dbops.env_vars() {
        dbops.set_env(k, v);
    }
    dbops.set_env(
        "DATABASE_URL",
        &pooled_url(s.port, "app_user", "hand rotated"),
    );
    assert!(!bouncer.can_login("app_user", "hand rotated", "app"));

    let plan = dbops.run(&["plan", "--detailed-exitcode"]);
    plan.expect_code(2);
    assert!(
        plan.stdout.contains("  ~ pooler.reload\n")
            && squash(&plan.stdout).contains("~ login app_user = \"refused\" -> \"accepted\""),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("still uses an old verifier"),
        "{}",
        plan.stdout
    );
    dbops.run(&["drift"]).expect_code(2);
    let apply = dbops.run(&["apply", "--auto-approve"]);
    apply.expect_code(0);
    assert!(bouncer.can_login("app_user", "hand rotated", "app"));
    dbops.run(&["drift"]).expect_code(0);
}

/// Where the pooler cannot be reached from (a CI runner outside the compose
/// network), the login check is skipped with a note: not drift.
#[test]
fn an_unreachable_pooler_is_a_note_not_drift() {
    let s = Setup::new();
    s.dbops.run(&["apply", "--auto-approve"]).expect_code(0);
    let drift = s.dbops.run(&["drift"]);
    drift.expect_code(0);
    assert!(
        drift
            .stdout
            .contains("note: skipped checking logins through pgBouncer at 127.0.0.1:"),
        "{}",
        drift.stdout
    );
    assert!(
        drift.stdout.contains("connection refused"),
        "{}",
        drift.stdout
    );
}

/// A pidfile that names another process (a reused pid, a hostile write): apply
/// refuses to signal it, names the pidfile, and the process lives on.
#[test]
fn a_pidfile_naming_another_process_is_never_signalled() {
    let s = Setup::new();
    let disabled = config(&s.dir, s.port, "default_pool_size = 5").replace(
        "admin_console = \"localhost\"\nadmin_password = { env = \"PGBOUNCER_ADMIN_PASSWORD\" }",
        "admin_console = \"disabled\"",
    );
    s.dbops.write_config(&disabled);
    let mut bystander = std::process::Command::new("sleep")
        .arg("60")
        .spawn()
        .unwrap();
    let pidfile = s.dir.join("pgbouncer.pid");
    std::fs::write(&pidfile, format!("{}\n", bystander.id())).unwrap();
    let apply = s.dbops.run(&["apply", "--auto-approve"]);
    apply.expect_code(1);
    assert!(
        apply.stderr.contains(&format!(
            "refusing to signal the process in `{}`: process {} is `sleep`, not pgBouncer",
            pidfile.display(),
            bystander.id()
        )),
        "{}",
        apply.stderr
    );
    assert!(
        bystander.try_wait().unwrap().is_none(),
        "the bystander was signalled"
    );
    let _ = bystander.kill();
    let _ = bystander.wait();
}

/// pgBouncer with client TLS: the DSNs require TLS and verify pgBouncer's
/// certificate; dbops converges, the roles log in through the pooler over
/// TLS, and the next plan (which logs in through the pooler as each DSN role)
/// is empty. A DSN requiring TLS from a pooler without it is refused.
#[test]
fn client_tls_to_the_pooler_is_used_and_required_consistently() {
    let pg = PgServer::start();
    let dir = pg.writable_dir("pgbouncer");
    let certs = crate::support::certs::Certs::new(&dir.join("tls"));
    let (cert, key) = certs.issue("bouncer", "localhost", Some("localhost"));
    crate::support::postgres::give_to_server_user(&dir);
    let port = free_port();
    let tls = format!(
        "client_tls_sslmode = \"require\"\nclient_tls_cert_file = \"{}\"\nclient_tls_key_file = \"{}\"\n",
        cert.display(),
        key.display()
    );
    let query = format!(
        "?sslmode=verify-ca&sslrootcert={}",
        certs.path("ca.crt").display()
    );
    let app_password = hostile_password("tls-app");
    let service_password = hostile_password("tls-svc");
    let dbops = Dbops::new(&config(&dir, port, &tls))
        .env("DATABASE_ROOT_URL", &pg.admin_url())
        .env(
            "DATABASE_URL",
            &format!("{}{query}", pooled_url(port, "app_user", &app_password)),
        )
        .env(
            "DATABASE_SERVICE_URL",
            &format!(
                "{}{query}",
                pooled_url(port, "app_service", &service_password)
            ),
        )
        .env("PGBOUNCER_ADMIN_PASSWORD", ADMIN_PASSWORD);
    dbops.run(&["apply", "--auto-approve"]).expect_code(0);
    let bouncer = PgBouncer::start(&dir.join("pgbouncer.ini"), port, &dir.join("pgbouncer.log"));
    assert!(
        bouncer.can_login("app_user", &app_password, "app"),
        "{}",
        bouncer.log()
    );
    let plan = dbops.run(&["plan", "--detailed-exitcode"]);
    plan.expect_code(0);
    assert!(!plan.all().contains(&app_password));

    // Without client TLS in pgBouncer, the same DSNs cannot work.
    let out = Dbops::new(&config(&dir, port, ""))
        .env("DATABASE_ROOT_URL", &pg.admin_url())
        .env(
            "DATABASE_URL",
            &format!("{}{query}", pooled_url(port, "app_user", &app_password)),
        )
        .env("PGBOUNCER_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .run(&["validate"]);
    out.expect_code(1);
    assert!(
        out.stderr.contains(
            "requires TLS to the pooler, but pgBouncer's `client_tls_sslmode` is `disable`"
        ),
        "{}",
        out.stderr
    );
    // A key file others may read is refused before pgBouncer would refuse it.
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = Dbops::new(&config(&dir, port, &tls))
        .env("DATABASE_ROOT_URL", &pg.admin_url())
        .env("PGBOUNCER_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .run(&["validate"]);
    out.expect_code(1);
    assert!(
        out.stderr
            .contains("others may read pgBouncer's private key"),
        "{}",
        out.stderr
    );
}
