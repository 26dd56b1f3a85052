//! The pooler, proven (real PostgreSQL 15 and pgBouncer running as
//! `postgres`, dbops as root where the case is about owners): rewritten files
//! keep their owner, every reload is proven or fails naming its cause, a
//! verifier pgBouncer holds in memory that the server no longer accepts is
//! drift, the console's own password rotates, and a running pgBouncer gets
//! its console without a restart.

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::pooler::{config, pooled_url, Setup, ADMIN_PASSWORD};
use crate::support::postgres::{bindir, is_root};
use crate::support::{hostile_password, squash};

fn owner(path: &Path) -> (u32, u32) {
    let metadata = std::fs::metadata(path).unwrap();
    (metadata.uid(), metadata.gid())
}

fn pid(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("pgbouncer.pid"))
        .unwrap()
        .trim()
        .to_string()
}

/// The pooler's files were first written owned by `postgres` (the user
/// pgBouncer runs as); `owner` is then no longer declared. Adding a role
/// rewrites them: they keep their owner, the reload is proven, and the new
/// role runs a statement through the pooler. A file pgBouncer could not read
/// is an error before anything changes.
#[test]
fn files_keep_their_owner_and_a_new_role_logs_in_through_the_pooler() {
    if !is_root() {
        eprintln!("skipped: owners are a root's concern");
        return;
    }
    let mut s = Setup::new();
    s.dbops.run(&["apply", "--auto-approve"]).expect_code(0);
    let bouncer = s.start_bouncer();
    let postgres = owner(&s.dir);
    for file in ["pgbouncer.ini", "userlist.txt"] {
        assert_eq!(owner(&s.dir.join(file)), postgres, "{file}");
    }

    let reader_password = hostile_password("pool-reader");
    let undeclared = config(
        &s.dir,
        s.port,
        "default_pool_size = 5\n\n[roles.app_reader]\ndsn = { env = \"READER_URL\" }\n",
    )
    .replace("owner = \"postgres\"\n", "");
    s.dbops.write_config(&undeclared);
    s.dbops.set_env(
        "READER_URL",
        &pooled_url(s.port, "app_reader", &reader_password),
    );
    let apply = s.dbops.run(&["apply", "--auto-approve"]);
    apply.expect_code(0);
    s.assert_clean(&apply);
    assert!(!apply.all().contains(&reader_password));
    assert!(
        apply
            .stderr
            .contains("proven: the console shows the file's settings")
            && apply
                .stderr
                .contains("`app_reader` runs a statement with its new password"),
        "{}",
        apply.stderr
    );
    for file in ["pgbouncer.ini", "userlist.txt", "pgbouncer_hba.conf"] {
        assert_eq!(owner(&s.dir.join(file)), postgres, "{file} changed owner");
    }
    bouncer
        .sql_as("app_reader", &reader_password, "app", "SELECT 1")
        .unwrap();
    s.dbops.run(&["drift"]).expect_code(0);

    // Someone gives the auth file to root: a rotation now would lock the
    // application out, so plan says so and nothing changes.
    let auth = s.dir.join("userlist.txt");
    std::os::unix::fs::chown(&auth, Some(0), Some(0)).unwrap();
    let before = std::fs::read(&auth).unwrap();
    let rotated = hostile_password("pool-locked");
    s.dbops
        .set_env("DATABASE_URL", &pooled_url(s.port, "app_user", &rotated));
    let plan = s.dbops.run(&["apply", "--auto-approve"]);
    plan.expect_code(1);
    assert!(
        plan.stderr.contains(&format!(
            "the running pgBouncer (uid {}) could not read `{}`: dbops would write it owned by 0:0 with mode 0600",
            postgres.0,
            auth.display()
        )) && plan.stderr.contains("hint: declare `owner"),
        "{}",
        plan.stderr
    );
    assert_eq!(std::fs::read(&auth).unwrap(), before);
    assert!(s.pg.can_login("app_user", &s.app_password, "app"));
}

/// A reload pgBouncer cannot take (the auth file's directory is closed to
/// it after it started) is a failure naming the cause: the directory, its
/// owner and mode against the user pgBouncer runs as, and pgBouncer's log.
#[test]
fn a_file_pgbouncer_cannot_read_after_a_reload_is_a_failure_naming_the_cause() {
    if !is_root() {
        eprintln!("skipped: owners are a root's concern");
        return;
    }
    let mut s = Setup::new();
    let private = s.dir.join("private");
    std::fs::create_dir(&private).unwrap();
    std::os::unix::fs::chown(&private, Some(owner(&s.dir).0), Some(owner(&s.dir).1)).unwrap();
    let moved = config(&s.dir, s.port, "default_pool_size = 5").replace(
        &format!("auth_file = \"{}/userlist.txt\"", s.dir.display()),
        &format!("auth_file = \"{}/userlist.txt\"", private.display()),
    );
    s.dbops.write_config(&moved);
    s.dbops.run(&["apply", "--auto-approve"]).expect_code(0);
    let bouncer = s.start_bouncer();
    assert!(bouncer.can_login("app_user", &s.app_password, "app"));

    std::os::unix::fs::chown(&private, Some(0), Some(0)).unwrap();
    std::fs::set_permissions(
        &private,
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .unwrap();
    let rotated = hostile_password("pool-unreadable");
    s.dbops
        .set_env("DATABASE_URL", &pooled_url(s.port, "app_user", &rotated));
    let apply = s.dbops.run(&["apply", "--auto-approve"]);
    apply.expect_code(1);
    s.assert_clean(&apply);
    assert!(!apply.all().contains(&rotated));
    let stderr = squash(&apply.stderr);
    assert!(
        stderr.contains("pgBouncer did not load")
            && stderr.contains(&format!(
                "permission denied: pgBouncer runs as uid {}, and `{}` is owned by 0:0 with mode 0700",
                owner(&s.dir).0,
                private.display()
            ))
            && stderr.contains("pgBouncer's log:")
            && stderr.contains("could not open auth_file"),
        "{}",
        apply.stderr
    );
    assert!(!apply.stderr.contains("proven:"), "{}", apply.stderr);
}

/// Point 2 of the pooler's trust issue, built exactly: the role's password
/// is re-set to the same text (a new salt), the auth file rewritten by hand
/// without a reload, and the role's server connections terminated. pgBouncer
/// still accepts the client with its old verifier, but PostgreSQL refuses
/// its login: drift names the role, apply reloads and proves it, and the
/// application runs a query again.
#[test]
fn a_verifier_pgbouncer_holds_in_memory_that_the_server_refuses_is_drift() {
    let s = Setup::new();
    s.dbops.write_config(&config(
        &s.dir,
        s.port,
        "default_pool_size = 5\nquery_wait_timeout = 3",
    ));
    s.dbops.run(&["apply", "--auto-approve"]).expect_code(0);
    let bouncer = s.start_bouncer();
    bouncer
        .sql_as("app_user", &s.app_password, "app", "SELECT 1")
        .unwrap();

    s.pg.sql_ok(&format!(
        "ALTER ROLE app_user PASSWORD '{}'",
        s.app_password.replace('\'', "''")
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
    s.pg.sql_ok(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = 'app_user'",
    );
    // The application is locked out: pgBouncer accepts it, then keeps it
    // waiting for a server connection it cannot log in (`query_wait_timeout`).
    let locked_out = bouncer
        .sql_as("app_user", &s.app_password, "app", "SELECT 1")
        .unwrap_err();
    assert!(locked_out.contains("query_wait_timeout"), "{locked_out}");

    let drift = s.dbops.run(&["drift"]);
    drift.expect_code(2);
    s.assert_clean(&drift);
    assert!(
        drift
            .stdout
            .contains("PostgreSQL refused pgBouncer's own login for `app_user`")
            && squash(&drift.stdout)
                .contains("~ server login app_user = \"refused\" -> \"accepted\""),
        "{}",
        drift.stdout
    );
    let apply = s.dbops.run(&["apply", "--auto-approve"]);
    apply.expect_code(0);
    s.assert_clean(&apply);
    assert!(
        apply
            .stderr
            .contains("`app_user` runs a statement with its password"),
        "{}",
        apply.stderr
    );
    bouncer
        .sql_as("app_user", &s.app_password, "app", "SELECT 1")
        .unwrap();
    s.dbops.run(&["drift"]).expect_code(0);
}

/// The console's own password rotates in one apply: the console refuses the
/// new one, so the auth file is rewritten and the proven pgBouncer reloaded
/// by signal; the console then answers to the new password only. No restart.
#[test]
fn rotating_the_admin_password_converges_in_one_apply() {
    let mut s = Setup::new();
    s.dbops.run(&["apply", "--auto-approve"]).expect_code(0);
    let bouncer = s.start_bouncer();
    let started = pid(&s.dir);

    let rotated = hostile_password("pool-admin");
    s.dbops.set_env("PGBOUNCER_ADMIN_PASSWORD", &rotated);
    let plan = s.dbops.run(&["plan", "--detailed-exitcode"]);
    plan.expect_code(2);
    assert!(
        plan.stdout.contains("~ pooler.file.userlist.txt"),
        "{}",
        plan.stdout
    );
    let apply = s.dbops.run(&["apply", "--auto-approve"]);
    apply.expect_code(0);
    for out in [&plan, &apply] {
        s.assert_clean(out);
        assert!(!out.all().contains(&rotated));
    }
    assert!(
        apply.stderr.contains("sent SIGHUP to pgBouncer")
            && apply
                .stderr
                .contains("proven: the console shows the file's settings"),
        "{}",
        apply.stderr
    );
    bouncer
        .sql_as("pgbouncer_admin", &rotated, "pgbouncer", "SHOW VERSION")
        .unwrap();
    assert!(bouncer
        .sql_as(
            "pgbouncer_admin",
            ADMIN_PASSWORD,
            "pgbouncer",
            "SHOW VERSION"
        )
        .is_err());
    assert_eq!(pid(&s.dir), started, "pgBouncer was restarted");
    s.dbops.run(&["plan", "--detailed-exitcode"]).expect_code(0);
}

/// A console that refuses the declared admin password, with no way to
/// reload pgBouncer without it (no `pidfile`, no command): an error before
/// anything is written, saying how to proceed.
#[test]
fn a_refused_console_with_no_other_way_to_reload_is_an_error_that_changes_nothing() {
    let mut s = Setup::new();
    s.dbops.run(&["apply", "--auto-approve"]).expect_code(0);
    let _bouncer = s.start_bouncer();
    let no_pidfile = config(&s.dir, s.port, "default_pool_size = 5").replace(
        &format!("pidfile = \"{}/pgbouncer.pid\"\n", s.dir.display()),
        "",
    );
    s.dbops.write_config(&no_pidfile);
    s.dbops
        .set_env("PGBOUNCER_ADMIN_PASSWORD", "not the one pgBouncer has");
    let files: Vec<Vec<u8>> = ["pgbouncer.ini", "userlist.txt"]
        .iter()
        .map(|f| std::fs::read(s.dir.join(f)).unwrap())
        .collect();
    let apply = s.dbops.run(&["apply", "--auto-approve"]);
    apply.expect_code(1);
    s.assert_clean(&apply);
    assert!(
        apply.stderr.contains(&format!(
            "pgBouncer's admin console on 127.0.0.1:{} as `pgbouncer_admin` refused dbops",
            s.port
        )) && apply.stderr.contains("hint: set `pidfile`"),
        "{}",
        apply.stderr
    );
    assert!(!apply.stderr.contains("not running"), "{}", apply.stderr);
    for (file, before) in ["pgbouncer.ini", "userlist.txt"].iter().zip(files) {
        assert_eq!(std::fs::read(s.dir.join(file)).unwrap(), before, "{file}");
    }
}

/// A hand-run pgBouncer without the console gets it while a client stays
/// connected: plan shows the files, apply reloads the proven pgBouncer by
/// signal and then uses the console; the client's session is never cut.
#[test]
fn turning_the_console_on_while_clients_stay_connected_needs_no_restart() {
    let s = Setup::new();
    let on = config(&s.dir, s.port, "default_pool_size = 5");
    let off = on.replace(
        "admin_console = \"localhost\"\nadmin_password = { env = \"PGBOUNCER_ADMIN_PASSWORD\" }",
        "admin_console = \"disabled\"",
    );
    s.dbops.write_config(&off);
    s.dbops.run(&["apply", "--auto-approve"]).expect_code(0);
    let bouncer = s.start_bouncer();
    let started = pid(&s.dir);
    let mut client = Command::new(bindir().join("psql"))
        .args(["-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1"])
        .args(["-h", "127.0.0.1", "-p", &s.port.to_string()])
        .args(["-U", "app_user", "-d", "app"])
        .args(["-c", "SELECT pg_sleep(4)", "-c", "SELECT 'still here'"])
        .env("PGPASSWORD", &s.app_password)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    s.dbops.write_config(&on);
    let plan = s.dbops.run(&["plan", "--detailed-exitcode"]);
    plan.expect_code(2);
    s.assert_clean(&plan);
    assert!(
        plan.stdout.contains("~ pooler.file.pgbouncer.ini")
            && plan.stdout.contains("+ pooler.file.pgbouncer_hba.conf"),
        "{}",
        plan.stdout
    );
    let apply = s.dbops.run(&["apply", "--auto-approve"]);
    apply.expect_code(0);
    s.assert_clean(&apply);
    assert!(
        apply.stderr.contains("sent SIGHUP to pgBouncer")
            && apply
                .stderr
                .contains("proven: the console shows the file's settings"),
        "{}",
        apply.stderr
    );
    bouncer
        .sql_as(
            "pgbouncer_admin",
            ADMIN_PASSWORD,
            "pgbouncer",
            "SHOW VERSION",
        )
        .unwrap();
    assert_eq!(pid(&s.dir), started, "pgBouncer was restarted");

    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = client.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the client never finished");
        std::thread::sleep(Duration::from_millis(50));
    };
    let output = client.wait_with_output().unwrap();
    assert!(
        status.success() && String::from_utf8_lossy(&output.stdout).contains("still here"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    s.dbops.run(&["plan", "--detailed-exitcode"]).expect_code(0);
}
