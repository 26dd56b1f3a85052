//! docs/backup.md's pgBackRest runbook, run as written: every `sh` block of
//! its "With pgBackRest" section, in order, as the database's OS user, against
//! a real server, pgBackRest and S3. A step that rots fails here.

use std::time::Duration;

use crate::restore_test::{backup_with_a_target, stack};

fn runbook_steps() -> Vec<String> {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/backup.md")).unwrap();
    let start = doc
        .find("### With pgBackRest")
        .expect("the pgBackRest runbook");
    let end = doc[start..].find("### With WAL-G").unwrap() + start;
    let mut steps = Vec::new();
    let mut current: Option<Vec<String>> = None;
    for line in doc[start..end].lines() {
        let trimmed = line.trim_start();
        match (&mut current, trimmed) {
            (None, "```sh") => current = Some(Vec::new()),
            (Some(lines), "```") => {
                steps.push(lines.join("\n"));
                current = None;
            }
            (Some(lines), _) => lines.push(line.strip_prefix("   ").unwrap_or(line).to_string()),
            _ => {}
        }
    }
    steps
}

#[test]
fn the_pgbackrest_runbook_restores_to_the_target_step_by_step() {
    let steps = runbook_steps();
    assert_eq!(steps.len(), 7, "{steps:#?}");
    let stack = stack();
    let target = backup_with_a_target(&stack);
    let scratch = stack.pg.writable_dir("runbook");
    let new_pgdata = scratch.join("data");
    let new_socket = scratch.join("socket");
    let port = crate::support::free_port();
    // PostgreSQL's form of the target: `2026-11-23 10:41:00.123456+00`.
    let pg_target = format!("{}+00", target.trim_end_matches('Z').replace('T', " "));
    let env = [
        ("PGBACKREST_CONFIG", stack.conf.display().to_string()),
        ("STANZA", stack.stanza.clone()),
        (
            "PGBIN",
            crate::support::postgres::bindir().display().to_string(),
        ),
        ("NEW_PGDATA", new_pgdata.display().to_string()),
        ("NEW_PGPORT", port.to_string()),
        ("NEW_SOCKET", new_socket.display().to_string()),
        ("TARGET", pg_target),
        ("PATH", std::env::var("PATH").unwrap()),
    ];
    let run = |script: &str| -> String {
        let mut command = if crate::support::postgres::is_root() {
            let mut c = std::process::Command::new("runuser");
            c.args(["-u", "postgres", "--", "env"]);
            c
        } else {
            std::process::Command::new("env")
        };
        command.arg("-i");
        for (name, value) in &env {
            command.arg(format!("{name}={value}"));
        }
        command.args(["timeout", "120", "sh", "-ec", script]);
        let out = command.output().unwrap();
        assert!(
            out.status.success(),
            "step failed:\n{script}\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let info = run(&steps[0]);
    assert!(info.contains("full backup"), "{info}");
    for step in &steps[1..5] {
        run(step);
    }
    let recovered = run(&steps[5]);
    assert!(!recovered.trim().is_empty());
    // Exactly the order committed before the target came back.
    let psql =
        "psql -h \"$NEW_SOCKET\" -p \"$NEW_PGPORT\" -d shop -Atc 'SELECT count(*) FROM orders'";
    assert_eq!(run(psql).trim(), "1");
    assert_eq!(
        run("psql -h \"$NEW_SOCKET\" -p \"$NEW_PGPORT\" -d postgres -Atc 'SHOW archive_mode'")
            .trim(),
        "off"
    );
    run(&steps[6]);
    assert!(!new_pgdata.exists());
    std::thread::sleep(Duration::from_millis(100));
}
