//! Benchmark: `drift --all-environments --parallel 4` over 20 environments,
//! each its own small cluster on this machine (`shared_buffers = 16MB`),
//! against the same-run floor of 20 sequential `drift --environment NAME`
//! runs, each the whole process. The target: wall time at most 0.6x the
//! sequential runs' sum, peak RSS of the one process at most 64 MB. Each
//! figure is the median of `DBOPS_BENCH_ROUNDS` rounds (default 7), after a
//! warm-up, the two sides alternating which runs first. Run with
//! `cargo bench --bench environments`; figures go in docs/performance.md.

#[path = "../tests/support/mod.rs"]
#[expect(dead_code, reason = "a bench uses part of the test support")]
mod support;

#[path = "common/mod.rs"]
#[expect(dead_code, reason = "a bench uses part of what they share")]
mod common;

use std::time::Duration;

use common::measure;
use support::{Dbops, PgServer};

const ENVIRONMENTS: usize = 20;
const PARALLEL: &str = "4";

fn config() -> String {
    let mut text = String::from(
        "[postgres]\nadmin = { env = \"DATABASE_ROOT_URL\" }\n\n\
         [roles.app_user]\ndsn = { env = \"DATABASE_URL\" }\nconnection_limit = 20\n\n\
         [roles.app_readers]\n\n[server.settings]\nwork_mem = \"8MB\"\n",
    );
    for n in 0..ENVIRONMENTS {
        text.push_str(&format!(
            "\n[environments.e{n:02}.postgres]\nadmin = {{ env = \"ROOT_{n:02}\" }}\n\n\
             [environments.e{n:02}.roles.app_user]\ndsn = {{ env = \"URL_{n:02}\" }}\n"
        ));
    }
    text
}

fn main() {
    let rounds: usize = std::env::var("DBOPS_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(7);
    let servers: Vec<PgServer> = (0..ENVIRONMENTS)
        .map(|_| PgServer::start_with(&["shared_buffers = 16MB"]))
        .collect();
    let mut d = Dbops::new(&config());
    d.timeout = Duration::from_secs(600);
    for (n, server) in servers.iter().enumerate() {
        d.set_env(&format!("ROOT_{n:02}"), &server.admin_url());
        d.set_env(
            &format!("URL_{n:02}"),
            &server.url("app_user", "bench app password", "app"),
        );
    }
    for n in 0..ENVIRONMENTS {
        let name = format!("e{n:02}");
        let out = d.run(&["apply", "--environment", &name, "--auto-approve"]);
        assert_eq!(out.code, 0, "{}", out.stderr);
    }
    let sequential_round = || {
        let mut sum = Duration::ZERO;
        let mut rss: f64 = 0.0;
        for n in 0..ENVIRONMENTS {
            let name = format!("e{n:02}");
            let (took, peak) = measure(&mut d.command(&["drift", "--environment", &name]));
            sum += took;
            rss = rss.max(peak);
        }
        (sum, rss)
    };
    let parallel_round =
        || measure(&mut d.command(&["drift", "--all-environments", "--parallel", PARALLEL]));
    // A warm-up of each, not counted; then rounds in alternating order, so
    // neither side always runs right after the other; medians.
    sequential_round();
    parallel_round();
    let mut sequential_times = Vec::new();
    let mut parallel_times = Vec::new();
    let mut sequential_rss: f64 = 0.0;
    let mut parallel_rss: f64 = 0.0;
    for round in 0..rounds {
        let mut one = || {
            let (took, rss) = sequential_round();
            sequential_times.push(took);
            sequential_rss = sequential_rss.max(rss);
        };
        let mut all = || {
            let (took, rss) = parallel_round();
            parallel_times.push(took);
            parallel_rss = parallel_rss.max(rss);
        };
        if round % 2 == 0 {
            one();
            all();
        } else {
            all();
            one();
        }
    }
    let median = |times: &mut Vec<Duration>| {
        times.sort();
        times[times.len() / 2]
    };
    let sequential = median(&mut sequential_times);
    let parallel = median(&mut parallel_times);
    let ratio = parallel.as_secs_f64() / sequential.as_secs_f64();
    println!("| run | wall time | ratio | peak RSS |");
    println!("|---|---|---|---|");
    println!(
        "| {ENVIRONMENTS} x `drift --environment NAME`, one after another (floor) | {:.2} s | 1.00x | {sequential_rss:.0} MB (each) |",
        sequential.as_secs_f64()
    );
    println!(
        "| `drift --all-environments --parallel {PARALLEL}` | {:.2} s | {ratio:.2}x | {parallel_rss:.0} MB |",
        parallel.as_secs_f64()
    );
    let verdict = |ok: bool| if ok { "met" } else { "MISSED" };
    eprintln!(
        "target wall time <= 0.6x: {}; peak RSS <= 64 MB: {}",
        verdict(ratio <= 0.6),
        verdict(parallel_rss <= 64.0)
    );
}
