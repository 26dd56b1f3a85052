//! docs/migrating-from-provision-sh.md cannot rot: this test runs the guide
//! against a real PostgreSQL 15. It writes every block marked
//! `<!-- file: NAME -->` into a working directory, runs every command of every
//! `console` block in order (`$ ` lines, through bash, with the `export`s seen
//! so far), and compares what each printed with the lines under it. The port
//! is the only thing normalized (5432 in the guide). `DBOPS_UPDATE_GUIDE=1`
//! rewrites the outputs instead of comparing them.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::postgres::bindir;
use crate::support::PgServer;

const GUIDE: &str = "docs/migrating-from-provision-sh.md";
/// Every secret the guide uses: none may appear in any output.
const SECRETS: &[&str] = &[
    "root-secret",
    "first-app-secret",
    "first-service-secret",
    "n3w:app/p@ss%",
    "n3w%3Aapp%2Fp%40ss%25",
    "n3w service secret",
    "n3w%20service%20secret",
    "migrator secret",
];

enum Block {
    /// Written as-is: (file name, content).
    File(String, String),
    /// Line range of the block's content in the guide, and its commands.
    Console {
        first: usize,
        end: usize,
        commands: Vec<(String, String)>,
    },
    Other,
}

fn parse(lines: &[&str]) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut file: Option<String> = None;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if let Some(name) = line
            .strip_prefix("<!-- file: ")
            .and_then(|r| r.strip_suffix(" -->"))
        {
            file = Some(name.to_string());
        } else if let Some(info) = line.strip_prefix("```") {
            let first = i + 1;
            let mut end = first;
            while !lines[end].starts_with("```") {
                end += 1;
            }
            let body = &lines[first..end];
            blocks.push(match (file.take(), info) {
                (Some(name), _) => Block::File(name, body.join("\n") + "\n"),
                (None, "console") => {
                    let mut commands: Vec<(String, String)> = Vec::new();
                    for line in body {
                        match line.strip_prefix("$ ") {
                            Some(command) => commands.push((command.to_string(), String::new())),
                            None => {
                                let output = &mut commands.last_mut().expect("a command first").1;
                                output.push_str(line);
                                output.push('\n');
                            }
                        }
                    }
                    Block::Console {
                        first,
                        end,
                        commands,
                    }
                }
                _ => Block::Other,
            });
            i = end;
        }
        i += 1;
    }
    blocks
}

/// Runs one command through bash, stderr merged into stdout, bounded.
fn run(dir: &Path, exports: &[String], command: &str) -> (i32, String) {
    let dbops_dir = Path::new(env!("CARGO_BIN_EXE_dbops")).parent().unwrap();
    let mut path = std::env::join_paths([dbops_dir.to_path_buf(), bindir()]).unwrap();
    if let Some(inherited) = std::env::var_os("PATH") {
        path = std::env::join_paths(
            std::env::split_paths(&path).chain(std::env::split_paths(&inherited)),
        )
        .unwrap();
    }
    let script = format!("exec 2>&1\n{}\n{command}\n", exports.join("\n"));
    let output = dir.join(".guide-output");
    let mut child = Command::new("bash")
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .env_clear()
        .env("PATH", path)
        .env("HOME", dir)
        .env("PGCONNECT_TIMEOUT", "10")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&output).unwrap())
        .spawn()
        .expect("bash runs");
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "`{command}` ran past 120 s");
        std::thread::sleep(Duration::from_millis(20));
    };
    let text = std::fs::read_to_string(&output).unwrap();
    (status.code().unwrap_or(-1), text)
}

fn normalize(text: &str, port: u16, dir: &Path) -> String {
    let text = text
        .replace(&port.to_string(), "5432")
        .replace(&dir.display().to_string(), ".");
    let mut lines: Vec<&str> = text.lines().map(str::trim_end).collect();
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines.iter().map(|l| format!("{l}\n")).collect()
}

#[test]
fn the_migration_guide_runs_as_written() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(GUIDE);
    let guide = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = guide.lines().collect();
    let blocks = parse(&lines);
    let update = std::env::var_os("DBOPS_UPDATE_GUIDE").is_some();

    let server = PgServer::start();
    // The guide's cluster dates from PostgreSQL 13: its pg_hba.conf says
    // `md5`, which accepts md5 hashes and SCRAM verifiers alike.
    let hba = server.data_dir().join("pg_hba.conf");
    let text = std::fs::read_to_string(&hba).unwrap();
    std::fs::write(&hba, text.replace("scram-sha-256", "md5")).unwrap();
    server.sql_ok("SELECT pg_reload_conf()");
    server.sql_ok("ALTER ROLE postgres PASSWORD 'root-secret'");
    let dir = tempfile::Builder::new()
        .prefix("dbops-guide-")
        .tempdir()
        .unwrap();
    let mut exports: Vec<String> = Vec::new();
    let mut replacements: Vec<(usize, usize, String)> = Vec::new();
    let mut mismatches = Vec::new();
    let mut ran = Vec::new();
    for block in &blocks {
        match block {
            Block::File(name, content) => std::fs::write(dir.path().join(name), content).unwrap(),
            Block::Console {
                first,
                end,
                commands,
            } => {
                let mut rewritten = String::new();
                for (command, expected) in commands {
                    let real = command.replace("5432", &server.port.to_string());
                    let (code, output) = run(dir.path(), &exports, &real);
                    let output = normalize(&output, server.port, dir.path());
                    assert_eq!(code, 0, "`{command}` exited {code}:\n{output}");
                    for secret in SECRETS {
                        assert!(
                            !output.contains(secret),
                            "`{command}` printed a secret:\n{output}"
                        );
                    }
                    if real.starts_with("export ") {
                        exports.push(real);
                    }
                    if &output != expected {
                        mismatches.push(format!(
                            "`{command}`\n--- the guide\n{expected}--- printed\n{output}"
                        ));
                    }
                    rewritten.push_str(&format!("$ {command}\n{output}"));
                    ran.push((command.clone(), output));
                }
                replacements.push((*first, *end, rewritten));
            }
            Block::Other => {}
        }
    }

    // What the guide claims, whatever its text says.
    let printed = |prefix: &str| -> Vec<&String> {
        ran.iter()
            .filter(|(c, _)| c.starts_with(prefix))
            .map(|(_, o)| o)
            .collect()
    };
    let counts = printed("PGPASSWORD=\"$APP_DB_PASSWORD\" psql");
    assert_eq!(counts, vec!["2\n"], "before: the owner bypasses RLS");
    let counts = printed("psql \"$DATABASE_URL\"");
    assert_eq!(counts, vec!["1\n"], "after: RLS applies to app_user");
    assert!(
        printed("dbops plan --detailed-exitcode")[0].contains("No changes"),
        "converged in one apply"
    );
    let sql = |sql: &str| {
        crate::support::postgres::psql(server.port, "postgres", "root-secret", "app", sql).unwrap()
    };
    assert_eq!(
        sql("SELECT tableowner FROM pg_tables WHERE tablename = 'orders'"),
        "migrator"
    );
    assert_eq!(
        sql("SELECT rolpassword LIKE 'SCRAM-SHA-256$%' FROM pg_authid WHERE rolname = 'app_service'"),
        "t"
    );

    if update {
        let mut out: Vec<String> = Vec::new();
        let mut i = 0;
        for (first, end, text) in replacements {
            out.extend(lines[i..first].iter().map(|l| format!("{l}\n")));
            out.push(text);
            i = end;
        }
        out.extend(lines[i..].iter().map(|l| format!("{l}\n")));
        std::fs::write(&path, out.concat()).unwrap();
        return;
    }
    assert!(
        mismatches.is_empty(),
        "{GUIDE} no longer matches what dbops prints; rerun with DBOPS_UPDATE_GUIDE=1 and review the diff:\n\n{}",
        mismatches.join("\n")
    );
}
