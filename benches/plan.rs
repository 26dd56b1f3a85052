//! Benchmark: `dbops plan` against a converged database with 10, 100, 1,000
//! and 10,000 managed roles. Reports wall time (median of several runs) and
//! the statements each plan sent, counted in the server's own log. Run with
//! `cargo bench --bench plan`; figures go in docs/performance.md.
//!
//! Phases (load, connect, observe, diff) come from the `observe.timings` event
//! of `--log-format json`, medians over the runs.
//!
//! Each size manages 3 login roles with passwords (their SCRAM verifiers are
//! checked every plan) and N-3 group roles, all members of one group.

#[path = "../tests/support/mod.rs"]
#[expect(dead_code, reason = "a bench uses part of the test support")]
mod support;

use std::time::{Duration, Instant};

use support::{Dbops, PgServer};

const RUNS: usize = 7;

fn config(roles: usize) -> String {
    let mut text = String::from(
        "[postgres]\nadmin = { env = \"DATABASE_ROOT_URL\" }\n\n[roles.bench_group]\n",
    );
    for i in 0..roles.saturating_sub(3) {
        text.push_str(&format!(
            "\n[roles.bench_role_{i}]\nconnection_limit = 5\nmember_of = [\"bench_group\"]\n"
        ));
    }
    for i in 0..3 {
        text.push_str(&format!(
            "\n[roles.bench_login_{i}]\npassword = {{ env = \"BENCH_PASSWORD\" }}\n"
        ));
    }
    text
}

fn time(dbops: &Dbops, args: &[&str], expect: i32) -> Duration {
    timed(dbops, args, expect).0
}

/// Wall time of one run, and its `observe.timings` event when it emitted one.
fn timed(dbops: &Dbops, args: &[&str], expect: i32) -> (Duration, Option<serde_json::Value>) {
    // `output()` rather than the test runner's polling loop, which would round
    // short runs up to its polling interval.
    let started = Instant::now();
    let out = dbops.command(args).output().expect("dbops runs");
    let elapsed = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(expect), "{args:?} failed: {stderr}");
    let timings = stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|e| e["event"] == "observe.timings")
        .map(|e| e["details"].clone());
    (elapsed, timings)
}

fn median_of(values: &[serde_json::Value], key: &str) -> f64 {
    let mut numbers: Vec<f64> = values.iter().filter_map(|v| v[key].as_f64()).collect();
    numbers.sort_by(|a, b| a.partial_cmp(b).unwrap());
    numbers.get(numbers.len() / 2).copied().unwrap_or(f64::NAN)
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    let server = PgServer::start_with(&["max_connections = 50"]);
    println!(
        "| managed roles | `plan` wall time | statements per plan | load file | connect | observe | diff | `validate` wall time |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|");
    for roles in [3usize, 10, 100, 1_000, 10_000] {
        let dbops = Dbops::new(&config(roles))
            .env("DATABASE_ROOT_URL", &server.admin_url())
            .env("BENCH_PASSWORD", "bench password");
        let mut dbops = dbops;
        dbops.timeout = Duration::from_secs(600);
        time(&dbops, &["apply", "--auto-approve"], 0);
        time(&dbops, &["plan", "--detailed-exitcode"], 0);

        let before = server.log_text().len();
        let args = ["plan", "--detailed-exitcode", "--log-format", "json"];
        let (plans, phases): (Vec<Duration>, Vec<Option<serde_json::Value>>) =
            (0..RUNS).map(|_| timed(&dbops, &args, 0)).unzip();
        let phases: Vec<serde_json::Value> = phases.into_iter().flatten().collect();
        std::thread::sleep(Duration::from_millis(300));
        let statements = server.dbops_statements_since(before) / RUNS;
        let validates: Vec<Duration> = (0..RUNS).map(|_| time(&dbops, &["validate"], 0)).collect();
        println!(
            "| {roles} | {:.1} ms | {statements} | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms |",
            median(plans).as_secs_f64() * 1000.0,
            median_of(&phases, "load_ms"),
            median_of(&phases, "connect_ms"),
            median_of(&phases, "observe_ms"),
            median_of(&phases, "diff_ms"),
            median(validates).as_secs_f64() * 1000.0
        );
    }
}
