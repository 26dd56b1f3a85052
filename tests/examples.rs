//! Every file in `examples/` validates, and the committed JSON Schema is the
//! one the parser's types generate.

use std::path::Path;

use crate::support::Dbops;

#[test]
fn every_example_validates() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut checked = 0;
    for entry in walk(&dir) {
        if entry.extension().is_some_and(|e| e == "toml") {
            let text = std::fs::read_to_string(&entry).unwrap();
            let mut dbops = Dbops::new(&text)
                .env(
                    "DATABASE_ROOT_URL",
                    "postgres://postgres:admin@127.0.0.1:5432/postgres",
                )
                .env(
                    "DATABASE_URL",
                    "postgres://app_user:app%20pw@127.0.0.1:5432/app",
                )
                .env(
                    "DATABASE_SERVICE_URL",
                    "postgres://app_service:svc%40pw@127.0.0.1:5432/app",
                )
                .env("MIGRATOR_PASSWORD", "migrator pw")
                .env("BACKUP_S3_ENDPOINT", "http://127.0.0.1:9000")
                .env("BACKUP_AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
                .env("BACKUP_AWS_SECRET_ACCESS_KEY", "example/secret")
                .env(
                    "BACKUP_SIDECAR_URL",
                    "postgres://postgres@/postgres?host=/var/run/postgresql&port=5432",
                );
            // An example may ship its own environment (`env.example`).
            if let Ok(env) = std::fs::read_to_string(entry.with_file_name("env.example")) {
                for line in env.lines().filter(|l| !l.starts_with('#')) {
                    if let Some((key, value)) = line.split_once('=') {
                        dbops.set_env(key, value);
                    }
                }
            }
            let violations = crate::support::schema::config_violations(&text);
            assert!(
                violations.is_empty(),
                "{} does not match the JSON Schema:\n{}",
                entry.display(),
                violations.join("\n")
            );
            let out = dbops.run(&["validate"]);
            assert_eq!(
                out.code,
                0,
                "{} does not validate:\n{}",
                entry.display(),
                out.stderr
            );
            checked += 1;
        }
    }
    assert!(
        checked >= 4,
        "examples/ holds at least four dbops files, found {checked}"
    );
}

#[test]
fn the_committed_schema_is_up_to_date() {
    let out = Dbops::new("").run(&["schema"]);
    out.expect_code(0);
    crate::support::schema::assert_committed("dbops.schema.json", &out.stdout);
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// The schema catches what `validate` catches, so editors flag it as you type.
#[test]
fn the_schema_rejects_values_the_parser_rejects() {
    let base = "[postgres]\nadmin = { env = \"DATABASE_ROOT_URL\" }\n";
    let pooler = "[pooler]\nconfig_file = \"/etc/pgbouncer/pgbouncer.ini\"\nauth_file = \"/etc/pgbouncer/userlist.txt\"\n";
    let cases = [
        (format!("{base}{pooler}pool_mode = \"transactional\"\n"), "/pooler/pool_mode"),
        (format!("{base}{pooler}auth_type = \"password\"\n"), "/pooler/auth_type"),
        (format!("{base}{pooler}admin_console = \"public\"\n"), "/pooler/admin_console"),
        (
            format!("{base}[bucket.b-1]\n[[bucket.b-1.lifecycle]]\nid = \"r\"\ntransition_after_days = 1\ntransition_storage_class = \"FROZEN\"\n"),
            "/bucket/b-1/lifecycle/0/transition_storage_class",
        ),
        (
            format!("{base}[[grants]]\nrole = \"r\"\ndatabase = \"d\"\non = \"tables\"\nschema = \"public\"\nprivileges = [\"SELEKT\"]\n"),
            "/grants/0/privileges/0",
        ),
        (format!("{base}[[grants]]\nrole = \"r\"\ndatabase = \"d\"\non = \"views\"\nprivileges = [\"SELECT\"]\n"), "/grants/0/on"),
        (format!("{base}[roles.r]\nconection_limit = 5\n"), "/roles/r"),
        // Without environments, the admin DSN is the file's to give.
        ("[roles.r]\n".to_string(), ""),
    ];
    for (config, path) in cases {
        let violations = crate::support::schema::config_violations(&config);
        // A violation at the key, or at an enclosing table (`anyOf` reports there).
        let at_or_above = |v: &String| {
            let at = v.split(':').next().unwrap_or("");
            if path.is_empty() {
                at.is_empty()
            } else {
                !at.is_empty() && path.starts_with(at)
            }
        };
        assert!(
            violations.iter().any(at_or_above),
            "the schema accepted {path}:\n{config}\n{violations:?}"
        );
        let out = Dbops::new(&config)
            .env(
                "DATABASE_ROOT_URL",
                "postgres://postgres:pw@127.0.0.1:1/postgres",
            )
            .run(&["validate"]);
        out.expect_code(1);
    }
    let good =
        format!("{base}{pooler}pool_mode = \"transaction\"\nauth_type = \"scram-sha-256\"\n");
    assert_eq!(
        crate::support::schema::config_violations(&good),
        Vec::<String>::new()
    );
}

/// What only exists in a deployment, replaced so an example runs here. The
/// same list is in examples/README.md; nothing else of the file changes.
struct Overrides {
    /// Stands for `/`: `/etc/...` paths become `<root>/etc/...`.
    root: std::path::PathBuf,
    pooler_port: u16,
    /// The Docker Engine socket (`/var/run/docker.sock`).
    docker_socket: std::path::PathBuf,
    /// For a restart command that needs the compose CLI on the host.
    pg_restart: String,
}

fn localize(text: &str, overrides: &Overrides) -> String {
    use toml_edit::{value, DocumentMut, Item, Value};
    fn strings(item: &mut Item, f: &mut dyn FnMut(&mut String)) {
        match item {
            Item::Value(v) => values(v, f),
            Item::Table(t) => t.iter_mut().for_each(|(_, i)| strings(i, f)),
            Item::ArrayOfTables(a) => a
                .iter_mut()
                .for_each(|t| t.iter_mut().for_each(|(_, i)| strings(i, f))),
            Item::None => {}
        }
    }
    fn values(v: &mut Value, f: &mut dyn FnMut(&mut String)) {
        match v {
            Value::String(s) => {
                let mut text = s.value().clone();
                f(&mut text);
                *v = Value::from(text);
            }
            Value::Array(a) => a.iter_mut().for_each(|v| values(v, f)),
            Value::InlineTable(t) => t.iter_mut().for_each(|(_, v)| values(v, f)),
            _ => {}
        }
    }
    let mut doc: DocumentMut = text.parse().unwrap();
    let root = overrides.root.display().to_string();
    strings(doc.as_item_mut(), &mut |s| {
        *s = s
            .replace("/etc/", &format!("{root}/etc/"))
            .replace("/var/backups/", &format!("{root}/var/backups/"))
            .replace(
                "/var/run/docker.sock",
                &overrides.docker_socket.display().to_string(),
            )
            .replace("docker compose restart postgres", &overrides.pg_restart);
    });
    if let Some(pooler) = doc.get_mut("pooler").and_then(Item::as_table_mut) {
        pooler["host"] = value("127.0.0.1");
        pooler["listen_addr"] = value("127.0.0.1");
        pooler["listen_port"] = value(overrides.pooler_port as i64);
        if crate::support::postgres::is_root() {
            pooler["owner"] = value("postgres");
        }
        // Where the pgbouncer image keeps them.
        let settings = pooler
            .entry("settings")
            .or_insert(toml_edit::table())
            .as_table_mut()
            .unwrap();
        settings["pidfile"] = value(format!("{root}/run/pgbouncer.pid"));
        settings["logfile"] = value(format!("{root}/log/pgbouncer.log"));
        settings["unix_socket_dir"] = value("");
    }
    doc.to_string()
}

/// A Docker Engine API endpoint on a Unix socket that knows one container,
/// `name`, and restarts it the way `POST /containers/NAME/restart` does:
/// answers 204 once the server is back, 404 for any other container.
fn docker_engine(
    socket: &std::path::Path,
    name: &'static str,
    restart: String,
) -> std::sync::Arc<std::sync::atomic::AtomicUsize> {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::os::unix::net::UnixListener::bind(socket).unwrap();
    let restarted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = restarted.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request = String::new();
            let _ = reader.read_line(&mut request);
            // Drain the headers.
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let wanted = format!("POST /containers/{name}/restart?t=");
            let reply = if request.starts_with(&wanted) {
                crate::support::run_checked(
                    std::process::Command::new("sh").arg("-c").arg(&restart),
                );
                count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n".to_string()
            } else {
                let body = r#"{"message":"No such container"}"#;
                format!(
                    "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                )
            };
            let _ = stream.write_all(reply.as_bytes());
        }
    });
    restarted
}

/// Each example applied against real servers: PostgreSQL always, moto when it
/// declares a bucket, pgBouncer when it declares a pooler. The first apply
/// converges, the next plan is empty, the application role can insert into a
/// `serial` table a migration created, and no secret is printed.
#[test]
fn every_example_applies_against_real_servers() {
    use crate::support::{free_port, hostile_password, percent, PgServer};
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let examples = [
        "minimal",
        "rls-app",
        "backups",
        "pgbackrest",
        "docker-compose",
    ];
    for example in examples {
        let text = std::fs::read_to_string(dir.join(example).join("dbops.toml")).unwrap();
        let pg = PgServer::start();
        let root = pg.writable_dir("deployment-root");
        for sub in ["etc/pgbouncer", "etc/wal-g", "etc/pgbackrest", "run", "log"] {
            std::fs::create_dir_all(root.join(sub)).unwrap();
        }
        crate::support::postgres::give_to_server_user(&root);
        let overrides = Overrides {
            docker_socket: root.join("docker.sock"),
            pooler_port: free_port(),
            pg_restart: pg.restart_command(),
            root,
        };
        let engine_restarts = docker_engine(
            &overrides.docker_socket,
            "app-postgres",
            pg.restart_command(),
        );
        let config = localize(&text, &overrides);
        let pooled = text.contains("[pooler]");
        let s3 = text
            .contains("[bucket.")
            .then(crate::support::s3::S3Server::moto);
        let app_password = hostile_password("example-app");
        let service_password = hostile_password("example-svc");
        let migrator_password = hostile_password("example-migrator");
        let dsn_port = if pooled {
            overrides.pooler_port
        } else {
            pg.port
        };
        let dsn = |user: &str, password: &str| {
            format!(
                "postgres://{user}:{}@127.0.0.1:{dsn_port}/app",
                percent(password)
            )
        };
        let mut dbops = Dbops::new(&config)
            .env("DATABASE_ROOT_URL", &pg.admin_url())
            .env("DATABASE_URL", &dsn("app_user", &app_password))
            .env(
                "DATABASE_SERVICE_URL",
                &dsn("app_service", &service_password),
            )
            .env("MIGRATOR_PASSWORD", &migrator_password)
            .env(
                "BACKUP_SIDECAR_URL",
                &format!(
                    "postgres://postgres@/postgres?host={}&port={}",
                    pg.socket_dir().display(),
                    pg.port
                ),
            )
            .env("PGBOUNCER_ADMIN_PASSWORD", "example admin: pw");
        if let Some(s3) = &s3 {
            dbops.set_env("BACKUP_S3_ENDPOINT", &s3.endpoint());
            dbops.set_env("BACKUP_AWS_ACCESS_KEY_ID", crate::support::s3::ACCESS_KEY);
            dbops.set_env(
                "BACKUP_AWS_SECRET_ACCESS_KEY",
                crate::support::s3::SECRET_KEY,
            );
        }
        dbops.timeout = std::time::Duration::from_secs(180);
        let secrets = [
            app_password.as_str(),
            service_password.as_str(),
            migrator_password.as_str(),
            "example admin: pw",
            crate::support::s3::SECRET_KEY,
        ];
        let clean = |out: &crate::support::Output| {
            for secret in secrets {
                assert!(
                    !out.all().contains(secret),
                    "{example}: a secret leaked:\n{}",
                    out.all()
                );
            }
        };

        let restarts = text.contains("restart_command");
        let apply = if restarts {
            dbops.run(&["apply", "--auto-approve", "--allow-restart"])
        } else {
            dbops.run(&["apply", "--auto-approve"])
        };
        assert_eq!(apply.code, 0, "{example}: apply failed:\n{}", apply.all());
        clean(&apply);
        if restarts {
            assert!(
                apply.stdout.contains("PostgreSQL restarted"),
                "{example}: {}",
                apply.all()
            );
        }
        if text.contains("/var/run/docker.sock") {
            assert_eq!(
                engine_restarts.load(std::sync::atomic::Ordering::SeqCst),
                1,
                "{example}: restarted through the Docker Engine API"
            );
        }
        if !restarts && apply.stderr.contains("Restart required") {
            // What apply's note asks of whoever runs it.
            pg.restart();
        }
        let _bouncer = pooled.then(|| {
            crate::support::pgbouncer::PgBouncer::start(
                &overrides.root.join("etc/pgbouncer/pgbouncer.ini"),
                overrides.pooler_port,
                &overrides.root.join("log/pgbouncer.log"),
            )
        });
        let plan = dbops.run(&["plan", "--detailed-exitcode"]);
        assert_eq!(
            plan.code,
            0,
            "{example}: the next plan is not empty:\n{}",
            plan.all()
        );
        clean(&plan);

        if text.contains("[roles.app_user]") {
            if text.contains("for_role = \"migrator\"") {
                // A migration creates a table; the application inserts into it.
                pg.sql(
                    "app",
                    "SET ROLE migrator; CREATE TABLE orders (id serial PRIMARY KEY, note text)",
                );
                let insert = crate::support::postgres::psql(
                    dsn_port,
                    "app_user",
                    &app_password,
                    "app",
                    "INSERT INTO orders (note) VALUES ('first') RETURNING id",
                );
                assert_eq!(insert.as_deref(), Ok("1"), "{example}: {insert:?}");
            } else {
                assert_eq!(
                    crate::support::postgres::psql(
                        dsn_port,
                        "app_user",
                        &app_password,
                        "app",
                        "SELECT current_user"
                    )
                    .as_deref(),
                    Ok("app_user"),
                    "{example}"
                );
            }
        }
        if text.contains("[dumps]") {
            // A dump set, then drift finds it fresh and complete.
            let dump = dbops.run(&["dump"]);
            assert_eq!(dump.code, 0, "{example}: {}", dump.all());
            clean(&dump);
            let drift = dbops.run(&["drift"]);
            assert_eq!(drift.code, 0, "{example}: {}", drift.all());
            if text.contains("[restore_test]") {
                // The drill from that set passes, and drift counts it.
                let drill = dbops.run(&["restore-test"]);
                assert_eq!(drill.code, 0, "{example}: {}", drill.all());
                clean(&drill);
            }
        }
        clean(&dbops.run(&["drift"]));
    }
}

/// examples/environments: one file over three real clusters. The rollout
/// applies every stage, each cluster gets its own overrides (connection
/// limit, `work_mem`) and the shared declarations, the next plan of every
/// environment is empty, each application role logs in with its own
/// password, and no password is printed.
#[test]
fn the_environments_example_rolls_out_to_every_cluster_and_converges() {
    use crate::support::{hostile_password, PgServer};
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/environments/dbops.toml");
    let text = std::fs::read_to_string(path).unwrap();
    let servers = [PgServer::start(), PgServer::start(), PgServer::start()];
    let names = [
        ("staging", "STAGING_ROOT_URL", "STAGING_URL", "20"),
        ("prod-eu", "EU_ROOT_URL", "EU_URL", "100"),
        ("prod-us", "US_ROOT_URL", "US_URL", "100"),
    ];
    let mut d = Dbops::new(&text);
    let passwords: Vec<String> = names
        .iter()
        .map(|(name, ..)| hostile_password(&format!("example-{name}")))
        .collect();
    for ((server, (_, root, url, _)), password) in servers.iter().zip(names).zip(&passwords) {
        d.set_env(root, &server.admin_url());
        d.set_env(url, &server.url("app_user", password, "app"));
    }
    let apply = d.run(&["apply", "--all-environments", "--auto-approve"]);
    apply.expect_code(0);
    assert!(apply.all().contains("Stage 2 of 2"), "{}", apply.all());
    let plan = d.run(&["plan", "--all-environments", "--detailed-exitcode"]);
    plan.expect_code(0);
    let drift = d.run(&["drift", "--all-environments", "--parallel", "3"]);
    drift.expect_code(0);
    for ((server, (name, _, _, limit)), password) in servers.iter().zip(names).zip(&passwords) {
        assert_eq!(
            server
                .sql_ok("SELECT rolconnlimit FROM pg_roles WHERE rolname = 'app_user'")
                .trim(),
            limit,
            "{name}"
        );
        let work_mem = if name == "staging" { "4MB" } else { "16MB" };
        assert_eq!(server.sql_ok("SHOW work_mem").trim(), work_mem, "{name}");
        assert_eq!(
            server.sql_ok("SHOW statement_timeout").trim(),
            "30s",
            "{name}"
        );
        assert!(server.can_login("app_user", password, "app"), "{name}");
        for out in [&apply, &plan, &drift] {
            assert!(
                !out.all().contains(password.as_str()),
                "{name}'s password printed"
            );
        }
    }
}
