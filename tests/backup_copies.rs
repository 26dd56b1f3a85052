//! A second copy and a random point, with pgBackRest for real: repository 1
//! in the local S3 server, repository 2 in a directory
//! (`[[backup.repositories]]`); each holds its own full backup, each is
//! drilled (`restore-test --repository N`) and judged by drift on its own;
//! a copy emptied by hand is named while a drill from the other passes.
//! `--target-time random --seed` draws a whole second between the restored
//! backup's end and the newest archived commit, read from the WAL, and the
//! restored rows are exactly those committed by then.

use std::time::{Duration, Instant};

use crate::restore_test::{backup_with_a_target, restore_test, sidecar, stack_with, Stack};
use crate::support::Dbops;

const ARCHIVE_PUSH: &str =
    "pgbackrest --config={conf} --stanza={stanza} --log-level-file=off archive-push %p";

/// Switches WAL and waits until the server archived the segment.
fn archive_now(stack: &Stack) {
    let segment = stack.pg.sql_ok("SELECT pg_walfile_name(pg_switch_wal())");
    let deadline = Instant::now() + Duration::from_secs(60);
    while stack
        .pg
        .sql_ok("SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver")
        < segment
    {
        assert!(Instant::now() < deadline, "{segment} was not archived");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `restore-test ARGS --format json`: its exit code and its evidence.
fn drill(dbops: &Dbops, args: &[&str]) -> (i32, serde_json::Value, String) {
    let mut all = vec!["restore-test", "--format", "json"];
    all.extend_from_slice(args);
    let out = dbops.run(&all);
    let document: serde_json::Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: {e}: {}\n{}", out.stdout, out.stderr));
    (out.code, document["evidence"].clone(), out.stderr)
}

const SIGNED: &str = "evidence_key = { env = \"EVIDENCE_KEY\" }";

#[test]
fn two_repositories_each_hold_backups_each_drill_passes_and_an_emptied_one_is_named() {
    let stack = stack_with(Some(ARCHIVE_PUSH), &[], "restore_test_grace = \"1s\"");
    let copy = stack.pg.writable_dir("repo2");
    let checks = "[[restore_test.checks]]\nname = \"orders\"\ndatabase = \"shop\"\nsql = \"SELECT count(*) FROM orders\"\nequals = \"2\"\n";
    let extra = format!(
        "\n[[backup.repositories]]\npath = \"{}\"\n{}",
        copy.display(),
        restore_test(&stack.work, checks, &format!("{SIGNED}\nannotate = true"))
    );
    let dbops = stack
        .dbops(&extra)
        .env("BACKUP_SIDECAR_URL", &sidecar(&stack));
    // The rendered configuration gains `repo2-*`: plan says so, apply does it.
    let plan = dbops.run(&["plan", "--no-color", "--detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{}\n{}", plan.stdout, plan.stderr);
    assert!(plan.stdout.contains("repo2-type=posix"), "{}", plan.stdout);
    dbops.run(&["apply", "--auto-approve"]).expect_code(0);
    dbops.run(&["plan", "--detailed-exitcode"]).expect_code(0);

    backup_with_a_target(&stack);
    crate::support::run_checked(stack.pgbackrest_command("backup").arg("--repo=2"));
    assert!(copy
        .join("backup")
        .join(&stack.stanza)
        .join("backup.info")
        .exists());

    // Each repository drilled on its own; the evidence names it.
    let (code, first, stderr) = drill(&dbops, &[]);
    assert_eq!(code, 0, "{first}\n{stderr}");
    assert_eq!(first.get("repository"), None, "{first}");
    let (code, second, stderr) = drill(&dbops, &["--repository", "2"]);
    assert_eq!(code, 0, "{second}\n{stderr}");
    assert_eq!(second["repository"], 2, "{second}");
    assert_eq!(second["checks"][0]["value"], "2", "{second}");
    // `annotate = true`: each proven backup marked in pgBackRest's listing.
    for (repo, evidence) in [("1", &first), ("2", &second)] {
        let label = evidence["backup"]["name"].as_str().unwrap();
        let info = crate::support::run_checked(
            stack
                .pgbackrest_command("info")
                .arg(format!("--repo={repo}"))
                .arg(format!("--set={label}"))
                .arg("--output=json"),
        );
        let document: serde_json::Value = serde_json::from_str(&info).unwrap();
        let mark = &document[0]["backup"][0]["annotation"]["dbops-restore-test"];
        assert_eq!(
            mark.as_str(),
            Some(format!("passed {}", evidence["started_at"].as_str().unwrap()).as_str()),
            "{info}"
        );
    }
    let drift = dbops.run(&["drift", "--deep", "--format", "json"]);
    let document: serde_json::Value = serde_json::from_str(&drift.stdout).unwrap();
    let copies: Vec<&serde_json::Value> = document["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["details"]["repository"].is_number())
        .collect();
    assert!(copies.is_empty(), "{copies:?}\n{}", drift.stdout);
    stack.assert_clean();

    // Repository 2 emptied by hand: drift names it, and repository 1 still restores.
    for entry in std::fs::read_dir(&copy).unwrap() {
        std::fs::remove_dir_all(entry.unwrap().path()).unwrap();
    }
    let drift = dbops.run(&["drift", "--no-color"]);
    assert_eq!(drift.code, 2, "{}\n{}", drift.stdout, drift.stderr);
    assert!(
        drift.stdout.contains(&format!(
            "repository 2 (`{}`): no full backup found",
            copy.display()
        )),
        "{}",
        drift.stdout
    );
    let (code, evidence, stderr) = drill(&dbops, &[]);
    assert_eq!(code, 0, "{evidence}\n{stderr}");
    let (code, evidence, _) = drill(&dbops, &["--repository", "2"]);
    assert_eq!(code, 1, "{evidence}");
    assert!(
        evidence["failure"]
            .as_str()
            .unwrap_or_default()
            .contains("missing stanza path"),
        "{evidence}"
    );

    // An unknown repository is refused before anything runs.
    let before = stack.evidence_keys().len();
    let out = dbops.run(&["restore-test", "--repository", "3"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("there is no repository 3"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(&format!("2 ({})", copy.display())),
        "{}",
        out.stderr
    );
    assert_eq!(stack.evidence_keys().len(), before);
    stack.assert_clean();
}

#[test]
fn a_random_target_restores_exactly_the_rows_committed_by_the_drawn_second() {
    let stack = stack_with(Some(ARCHIVE_PUSH), &[], "");
    backup_with_a_target(&stack);
    stack
        .pg
        .sql("shop", "CREATE TABLE ticks (at timestamptz NOT NULL)");
    // One row a little more than a second apart, each its own commit.
    for _ in 0..6 {
        stack
            .pg
            .sql("shop", "INSERT INTO ticks VALUES (clock_timestamp())");
        std::thread::sleep(Duration::from_millis(1100));
    }
    archive_now(&stack);
    let checks = "[[restore_test.checks]]\nname = \"ticks\"\ndatabase = \"shop\"\nsql = \"SELECT count(*) FROM ticks\"\nmin_rows = 1\n";
    let dbops = stack
        .dbops(&restore_test(&stack.work, checks, ""))
        .env("BACKUP_SIDECAR_URL", &sidecar(&stack));
    let args = ["--pick", "oldest", "--target-time", "random", "--seed", "7"];
    let (code, evidence, stderr) = drill(&dbops, &args);
    assert_eq!(code, 0, "{evidence}\n{stderr}");
    assert_eq!(evidence["pick"], "oldest");
    assert_eq!(evidence["seed"], 7);
    let target = evidence["target"].as_str().unwrap().to_string();
    let at = humantime::parse_rfc3339(&target).unwrap();
    let window = &evidence["target_window"];
    let from = humantime::parse_rfc3339(window["from"].as_str().unwrap()).unwrap();
    let to = humantime::parse_rfc3339(window["to"].as_str().unwrap()).unwrap();
    assert!(from <= at && at <= to, "{evidence}");
    // Exactly the rows committed by the target (a row within 50 ms of it
    // could fall either side of its own commit: both counts are allowed).
    let count = |shift: &str| {
        stack.pg.sql(
            "shop",
            &format!("SELECT count(*) FROM ticks WHERE at <= '{target}'::timestamptz {shift}"),
        )
    };
    let restored = evidence["checks"][0]["value"].as_str().unwrap().to_string();
    let (low, high) = (
        count("- interval '50 milliseconds'"),
        count("+ interval '50 milliseconds'"),
    );
    assert!(
        restored == low.trim() || restored == high.trim(),
        "restored {restored}, committed by {target}: {low}..{high}\n{evidence}"
    );
    // The same seed draws the same point.
    let (code, again, _) = drill(&dbops, &args);
    assert_eq!(code, 0, "{again}");
    assert_eq!(again["target"], evidence["target"]);
    assert_eq!(again["checks"][0]["value"], evidence["checks"][0]["value"]);

    // `--target-time random` with `--backup` or `--target`: refused before
    // anything runs, no evidence written.
    let before = stack.evidence_keys().len();
    for (args, said) in [
        (["--backup", "x"], "cannot be used with `--backup`"),
        (
            ["--target", "immediate"],
            "`--target-time` and `--target` cannot be combined",
        ),
    ] {
        let mut all = vec!["restore-test", "--target-time", "random"];
        all.extend_from_slice(&args);
        let out = dbops.run(&all);
        assert_eq!(out.code, 1, "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains(said), "{args:?}: {}", out.stderr);
    }
    assert_eq!(stack.evidence_keys().len(), before);
    stack.assert_clean();
}
