//! Bad input: exit 1, one clear message saying what, where and how to fix it,
//! and nothing changed on the server. Each case runs `apply --auto-approve`.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use crate::support::deployment::{standard_config, APP_USER, DATABASE};
use crate::support::{Dbops, Output, PgServer};

struct Case {
    server: PgServer,
}

impl Case {
    fn new() -> Self {
        Self {
            server: PgServer::start(),
        }
    }

    fn dbops(&self, config: &str) -> Dbops {
        Dbops::new(config)
            .env("DATABASE_ROOT_URL", &self.server.admin_url())
            .env(
                "DATABASE_URL",
                &self.server.url(APP_USER, "app pw", DATABASE),
            )
            .env(
                "DATABASE_SERVICE_URL",
                &self.server.url("app_service", "svc pw", DATABASE),
            )
    }

    /// Runs apply, expects exit 1 and the fragments in one error, and checks
    /// that the server is untouched.
    #[track_caller]
    fn refuses(&self, dbops: &Dbops, fragments: &[&str]) -> Output {
        let out = dbops.run(&["apply", "--auto-approve"]);
        out.expect_code(1);
        assert!(out.stdout.is_empty(), "nothing on stdout: {}", out.stdout);
        assert_eq!(
            out.stderr.matches("error:").count(),
            1,
            "one error: {}",
            out.stderr
        );
        for fragment in fragments {
            assert!(
                out.stderr.contains(fragment),
                "`{fragment}` missing from\n{}",
                out.stderr
            );
        }
        assert_eq!(
            self.server.sql_ok(
                "SELECT count(*) FROM pg_roles WHERE rolname IN ('app_user', 'app_service')"
            ),
            "0",
            "nothing changed"
        );
        assert_eq!(
            self.server
                .sql_ok("SELECT count(*) FROM pg_database WHERE datname = 'app'"),
            "0"
        );
        out
    }
}

#[test]
fn malformed_toml_unknown_key_and_plain_string_secret() {
    let case = Case::new();
    let config = standard_config().replace("connection_limit = 50", "connection_limit = = 50");
    case.refuses(
        &case.dbops(&config),
        &["error: dbops.toml:7:20: invalid TOML"],
    );

    let config = standard_config().replace("connection_limit = 50", "conection_limit = 50");
    case.refuses(
        &case.dbops(&config),
        &[
            "dbops.toml:7:1: key `roles.app_user.conection_limit`: unknown field `conection_limit`",
            "hint:",
        ],
    );

    let config =
        standard_config().replace("dsn = { env = \"DATABASE_URL\" }", "dsn = \"postgres://x\"");
    case.refuses(
        &case.dbops(&config),
        &[
            "dbops.toml:5:7: key `roles.app_user.dsn`: expected a secret reference",
            "found a plain string",
        ],
    );

    let config = standard_config().replace("connection_limit = 50", "connection_limit = \"fifty\"");
    case.refuses(
        &case.dbops(&config),
        &["dbops.toml:7:20: key `roles.app_user.connection_limit`"],
    );

    let config = "[roles.app_user]\ndsn = { env = \"DATABASE_URL\" }\n";
    case.refuses(&case.dbops(config), &["missing section `[postgres]`"]);
}

#[test]
fn missing_env_var_unreadable_secret_file_and_bad_dsn() {
    let case = Case::new();
    let dbops = Dbops::new(&standard_config())
        .env("DATABASE_ROOT_URL", &case.server.admin_url())
        .env(
            "DATABASE_URL",
            &case.server.url(APP_USER, "app pw", DATABASE),
        );
    case.refuses(
        &dbops,
        &[
            "dbops.toml:10:7: key `roles.app_service.dsn`: environment variable `DATABASE_SERVICE_URL` is not set",
            "hint: export `DATABASE_SERVICE_URL`",
        ],
    );

    let config = standard_config().replace(
        "dsn = { env = \"DATABASE_SERVICE_URL\" }",
        "dsn = { file = \"/nonexistent/run/secrets/service_url\" }",
    );
    case.refuses(
        &case.dbops(&config),
        &["key `roles.app_service.dsn`: cannot read secret file `/nonexistent/run/secrets/service_url`: no such file or directory"],
    );

    let dbops = case
        .dbops(&standard_config())
        .env("DATABASE_URL", "http://app_user:pw@127.0.0.1/app");
    case.refuses(
        &dbops,
        &["key `roles.app_user.dsn`: the DSN in `$DATABASE_URL` is not a PostgreSQL URL: it must start with `postgres://` or `postgresql://`", "hint:"],
    );
    let dbops = case
        .dbops(&standard_config())
        .env("DATABASE_URL", "postgres://app_user:pw@127.0.0.1:70000/app");
    case.refuses(
        &dbops,
        &["the DSN in `$DATABASE_URL` is not a valid URL (invalid port number)"],
    );
    let dbops = case
        .dbops(&standard_config())
        .env("DATABASE_URL", "postgres://app_user@127.0.0.1/app");
    case.refuses(
        &dbops,
        &["the DSN in `$DATABASE_URL` has no password, and `app_user` is a login role"],
    );
}

#[test]
fn name_mismatch_and_conflicting_passwords() {
    let case = Case::new();
    let dbops = case
        .dbops(&standard_config())
        .env("DATABASE_URL", &case.server.url("app_usr", "pw", DATABASE));
    case.refuses(
        &dbops,
        &[
            "role `app_user`: the DSN in `$DATABASE_URL` is for another user",
            "hint: a role's DSN names the role as its user",
        ],
    );

    // The service DSN names the admin user with another password.
    let config = standard_config().replace("[roles.app_service]", "[roles.postgres]");
    let dbops = case.dbops(&config).env(
        "DATABASE_SERVICE_URL",
        &case.server.url("postgres", "other", DATABASE),
    );
    case.refuses(
        &dbops,
        &[
            "role `postgres` is the admin user of `$DATABASE_ROOT_URL`; dbops connects as the admin and never manages it",
        ],
    );

    let config = standard_config().replace(
        "bypass_rls = true",
        "bypass_rls = true\npassword = { env = \"X\" }",
    );
    // The variable is there: the one problem is the conflict.
    case.refuses(
        &case.dbops(&config).env("X", "a password"),
        &["role `app_service` sets both `dsn` and `password`"],
    );
}

#[test]
fn unreachable_host_is_bounded_by_the_connect_timeout() {
    let case = Case::new();
    // A port where nothing listens: refused at once.
    let closed = crate::support::free_port();
    let dbops = case.dbops(&standard_config()).env(
        "DATABASE_ROOT_URL",
        &format!("postgres://postgres:pw@127.0.0.1:{closed}/postgres"),
    );
    case.refuses(
        &dbops,
        &[
            "cannot connect to postgres://postgres:****@127.0.0.1:",
            "hint:",
        ],
    );

    // A listener that accepts and never answers: bounded by --connect-timeout.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let dbops = case.dbops(&standard_config()).env(
        "DATABASE_ROOT_URL",
        &format!("postgres://postgres:pw@127.0.0.1:{port}/postgres"),
    );
    let started = Instant::now();
    let out = dbops.run(&["plan", "--connect-timeout", "1s"]);
    out.expect_code(1);
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(out.stderr.contains("no answer within 1s"), "{}", out.stderr);
    drop(silent);
}

#[test]
fn wrong_admin_password() {
    let case = Case::new();
    let dbops = case.dbops(&standard_config()).env(
        "DATABASE_ROOT_URL",
        &case.server.url("postgres", "wrong", "postgres"),
    );
    case.refuses(
        &dbops,
        &[
            "cannot connect to postgres://postgres:****@127.0.0.1:",
            "password authentication failed for user \"postgres\"",
        ],
    );
}

#[test]
fn usage_errors_exit_64_not_2() {
    let dbops = Dbops::new(&standard_config());
    let out = dbops.run(&["plan", "--no-such-flag"]);
    out.expect_code(64);
    let out = dbops.run(&["frobnicate"]);
    out.expect_code(64);
    let out = dbops.run(&["apply", "--lock-timeout", "soon"]);
    out.expect_code(64);
    dbops.run(&["--help"]).expect_code(0);
}

#[test]
fn missing_file_says_how_to_point_at_one() {
    let dbops = Dbops::new("");
    let out = dbops.run(&["validate", "-f", "nope.toml"]);
    out.expect_code(1);
    assert!(
        out.stderr
            .contains("cannot read the desired-state file `nope.toml`: no such file or directory"),
        "{}",
        out.stderr
    );
    assert!(out
        .stderr
        .contains("hint: pass the file with `-f PATH` or set `DBOPS_FILE`"));
}

/// Every other key's bad form, caught by `validate` before anything connects:
/// exit 1, one error naming the key and where it is written.
#[test]
fn bad_values_of_every_other_section_are_refused_by_validate() {
    let base = |extra: &str| {
        format!(
            "[postgres]\nadmin = {{ env = \"DATABASE_ROOT_URL\" }}\n\n[roles.app_user]\ndsn = {{ env = \"DATABASE_URL\" }}\n\n{extra}"
        )
    };
    let bucket = "[bucket.db-backups]\nendpoint = \"http://127.0.0.1:9000\"\n";
    let pooler = "[pooler]\nconfig_file = \"/tmp/x/pgbouncer.ini\"\nauth_file = \"/tmp/x/userlist.txt\"\nlisten_addr = \"127.0.0.1\"\nlisten_port = 6432\n";
    let cases: Vec<(String, &str)> = vec![
        (base("[server.settings]\n\"bad name!\" = 1\n"), "`bad name!` is not a setting name"),
        (base("[backup]\nrpo = \"soon\"\n"), "key `backup.rpo`: `soon` is not a duration"),
        (base("[backup]\nrpo = \"5m\"\nbucket = \"nowhere\"\n"), "key `backup.bucket`: `nowhere` has no `[bucket.nowhere]` table"),
        (
            base(&format!("{bucket}\n[backup]\nrpo = \"5m\"\ntool = \"pgbackrest\"\nbucket = \"db-backups\"\nenv_file = \"/tmp/env\"\n")),
            "key `backup.env_file`: is for WAL-G; pgBackRest takes `config_file`",
        ),
        (base("[backup]\nrpo = \"5m\"\nfile_owner = \"no-such-user-here\"\n"), "key `backup.file_owner`: no user `no-such-user-here`"),
        (base("[bucket.Bad_Name]\ncreate = true\n"), "`Bad_Name` is not a valid bucket name"),
        (base("[bucket.db-backups]\nendpoint = \"minio:9000\"\n"), "key `bucket.db-backups.endpoint`: not an http(s) URL"),
        (
            base(&format!("{bucket}access_key_id = {{ env = \"DATABASE_URL\" }}\n")),
            "bucket `db-backups` sets only one of `access_key_id` and `secret_access_key`",
        ),
        (
            base(&format!("{bucket}\n[[bucket.db-backups.lifecycle]]\nid = \"r\"\nprefix = \"x/\"\n")),
            "lifecycle rule `r` has no action",
        ),
        (
            base(&format!("{bucket}\n[[bucket.db-backups.lifecycle]]\nid = \"r\"\ntransition_after_days = 3\n")),
            "lifecycle rule `r` needs both `transition_after_days` and `transition_storage_class`",
        ),
        (base(&format!("{pooler}pool_mode = \"sometimes\"\n")), "key `pooler.pool_mode`: unknown variant `sometimes`, expected one of `session`, `transaction`, `statement`"),
        (base(&format!("{pooler}admin_console = \"public\"\n")), "key `pooler.admin_console`: unknown variant `public`, expected `disabled` or `localhost`"),
        (base(&format!("{pooler}admin_console = \"localhost\"\n")), "`admin_console = \"localhost\"` needs `admin_password`"),
        // With its pidfile, so the mode is the one problem (validate lists every problem).
        (base(&format!("{pooler}mode = \"0644\"\n\n[pooler.settings]\npidfile = \"/tmp/p\"\n")), "key `pooler.mode`: `0644` is not an octal mode without access for others"),
        (base(&format!("{pooler}reload = \"admin\"\n")), "`reload = \"admin\"` needs `admin_console = \"localhost\"`"),
        (base(pooler), "reloading pgBouncer by signal needs `pidfile`"),
        (base(&format!("{pooler}\n[pooler.settings]\npidfile = \"/tmp/p\"\nlisten_port = 7000\n")), "set it as `pooler.listen_port`, which dbops owns"),
        (
            base(&format!(
                "{}\n[pooler.settings]\npidfile = \"/tmp/p\"\n",
                pooler.replace("listen_addr = \"127.0.0.1\"", "listen_addr = \"0.0.0.0\"")
            )),
            "`pooler.host` is needed",
        ),
        (base("[backup]\nrpo = \"5m\"\nrto = \"an hour\"\n"), "key `backup.rto`: `an hour` is not a duration"),
        (base("[backup]\nrpo = \"5m\"\n\n[backup.retention]\ndaily = 0\nweekly = 0\n"), "key `backup.retention`: keeps no full backup"),
        (base("[backup]\nrpo = \"5m\"\n\n[backup.retention]\nhourly = 24\n"), "unknown field `hourly`"),
        (base("[backup]\nrpo = \"5m\"\nconnection = \"postgres://u:p@h/db\"\n"), "key `backup.connection`: expected a secret reference"),
        (base("[restore_test]\nport = 5432\n"), "key `restore_test`: restores a backup, but neither `[backup]` nor `[dumps]` is declared"),
        (base("[restore_test]\nsource = \"dumps\"\n"), "key `restore_test.source`: is `dumps`, but no `[dumps]` is declared"),
        (base("[restore_test]\nsource = \"physical\"\n"), "key `restore_test.source`: is `physical`, but no `[backup]` is declared"),
        (base("[restore_test]\nsource = \"logical\"\n"), "unknown variant `logical`"),
        (base("[backup]\nrpo = \"5m\"\n\n[restore_test]\nverify = [\"fsck\"]\n"), "unknown variant `fsck`"),
        (base("[backup]\nrpo = \"5m\"\nwal_chain_state = \"wal-chain.json\"\n"), "key `backup.wal_chain_state`: `wal-chain.json` is not an absolute path"),
        (base("[backup]\nrpo = \"5m\"\nwal_chain_state = \"/var/lib/a\\nb\"\n"), "key `backup.wal_chain_state`: holds a control character"),
        (base("[backup]\nrpo = \"5m\"\n\n[restore_test]\nport = 0\n"), "key `restore_test.port`: must be between 1 and 65535"),
        (
            base("[backup]\nrpo = \"5m\"\n\n[restore_test]\nannotate = true\n"),
            "key `restore_test.annotate`: marks the backup with `pgbackrest annotate`; WAL-G has no annotation",
        ),
        (
            base("[backup]\nrpo = \"5m\"\n\n[[backup.repositories]]\npath = \"/srv/pgbackrest\"\n"),
            "key `backup.repositories`: WAL-G writes to one storage per env file",
        ),
        (
            base("[backup]\nrpo = \"5m\"\ntool = \"pgbackrest\"\n\n[[backup.repositories]]\npath = \"/srv/pgbackrest\"\nbucket = \"db-backups\"\n"),
            "key `backup.repositories[0]`: names a `bucket` or a `path`, exactly one",
        ),
        (
            base("[backup]\nrpo = \"5m\"\ntool = \"pgbackrest\"\n\n[[backup.repositories]]\nbucket = \"offsite\"\n"),
            "key `backup.repositories[0].bucket`: `offsite` has no `[bucket.offsite]` table",
        ),
        (
            base("[backup]\nrpo = \"5m\"\ntool = \"pgbackrest\"\n\n[[backup.repositories]]\npath = \"backups\"\n"),
            "key `backup.repositories[0].path`: `backups` is not an absolute directory below `/`",
        ),
        (
            base("[backup]\nrpo = \"5m\"\ntool = \"pgbackrest\"\n\n[[backup.repositories]]\npath = \"/srv/a\"\nprefix = \"p\"\n"),
            "key `backup.repositories[0].prefix`: is for a repository in a bucket; this one is a `path`",
        ),
        (
            base(&format!("{bucket}\n[backup]\nrpo = \"5m\"\ntool = \"pgbackrest\"\nbucket = \"db-backups\"\nprefix = \"/prod/\"\n\n[[backup.repositories]]\nbucket = \"db-backups\"\nprefix = \"prod\"\n")),
            "key `backup.repositories[0]`: is where repository 1 already is",
        ),
        (
            base("[backup]\nrpo = \"5m\"\ntool = \"pgbackrest\"\n\n[[backup.repositories]]\npath = \"/srv/a\"\n\n[[backup.repositories]]\npath = \"/srv/a/\"\n"),
            "key `backup.repositories[1]`: is where repository 2 already is",
        ),
        (
            base("[backup]\nrpo = \"5m\"\n\n[[restore_test.checks]]\nname = \"rows\"\ndatabase = \"app\"\nsql = \"SELECT 1\"\n"),
            "check `rows` has no expectation",
        ),
        (
            base("[backup]\nrpo = \"5m\"\n\n[[restore_test.checks]]\nname = \"rows\"\ndatabase = \"app\"\nsql = \"SELECT 1\"\nmin_rows = 1\nequals = \"1\"\n"),
            "check `rows` has both `min_rows` and `equals`",
        ),
        (
            base("[backup]\nrpo = \"5m\"\n\n[[restore_test.checks]]\nname = \"a\"\ndatabase = \"app\"\nsql = \"SELECT 1\"\nmin_rows = 1\n\n[[restore_test.checks]]\nname = \"a\"\ndatabase = \"app\"\nsql = \"SELECT 2\"\nmin_rows = 1\n"),
            "check `a` is declared twice",
        ),
        (
            base("[backup]\nrpo = \"5m\"\n\n[[restore_test.checks]]\nname = \"a\"\ndatabase = \"app\"\nsql = \"  \"\nmin_rows = 1\n"),
            "key `restore_test.checks[0].sql`: is empty",
        ),
    ];
    for (config, expected) in cases {
        let out = Dbops::new(&config)
            .env(
                "DATABASE_ROOT_URL",
                "postgres://postgres:pw@127.0.0.1:5432/postgres",
            )
            .env("DATABASE_URL", "postgres://app_user:pw@127.0.0.1:6432/app")
            .run(&["validate"]);
        out.expect_code(1);
        assert_eq!(out.stderr.matches("error:").count(), 1, "{}", out.stderr);
        assert!(
            out.stderr.contains(expected),
            "`{expected}` missing from\n{}\nfor\n{config}",
            out.stderr
        );
        assert!(
            out.stderr.contains("error: dbops.toml:"),
            "no location in\n{}",
            out.stderr
        );
    }
}

/// Three independent mistakes in three sections: one run reports all three,
/// each with its location and key, then exits 1 having changed nothing.
#[test]
fn validate_reports_every_mistake_at_once() {
    let config = r#"[postgres]
admin = { env = "DATABASE_ROOT_URL" }

[roles.app_user]
dsn = { env = "DATABASE_URL" }
conection_limit = 5

[roles.reporting]
valid_until = "next week"

[[grants]]
role = "app_user"
database = "app"
on = "sequences"
schema = "public"
privileges = ["INSERT"]

[pooler]
config_file = "/tmp/x/pgbouncer.ini"
auth_file = "/tmp/x/userlist.txt"
pool_mode = "transactional"
"#;
    let dbops = Dbops::new(config)
        .env(
            "DATABASE_ROOT_URL",
            "postgres://postgres:pw@127.0.0.1:1/postgres",
        )
        .env("DATABASE_URL", "postgres://app_user:pw@127.0.0.1:6432/app");
    for command in ["validate", "plan"] {
        let out = dbops.run(&[command]);
        out.expect_code(1);
        for expected in [
            "error: dbops.toml:6:1: key `roles.app_user.conection_limit`: unknown field `conection_limit`",
            "error: dbops.toml:9:15: key `roles.reporting.valid_until`: `next week` is not a UTC timestamp",
            "error: dbops.toml:16:15: key `grants[0].privileges[0]`: `INSERT` is not a privilege on sequences",
            "error: dbops.toml:21:13: key `pooler.pool_mode`: unknown variant `transactional`",
            "4 problems found; nothing was changed",
        ] {
            assert!(
                out.stderr.contains(expected),
                "`{expected}` missing from `{command}`:\n{}",
                out.stderr
            );
        }
    }
}
