//! Benchmark: password verification at scale. For N = 10, 100, 1,000 and
//! 10,000 login roles, each with a password (one membership, five settings),
//! against one PostgreSQL 15 on 127.0.0.1, interleaved runs, medians:
//!
//! - the floor: `psql` reading the same roles from the catalog, one SELECT
//!   (checks nothing);
//! - a converged `dbops plan` (every password verified against its stored
//!   SCRAM verifier), its peak RSS, and the same file without `password` keys;
//! - `dbops apply` from empty against `psql` running one transaction of
//!   `CREATE ROLE ... PASSWORD '<verifier>'` with verifiers hashed beforehand
//!   (the server's own PBKDF2 per role is the floor there).
//!
//! Run with `cargo bench --bench passwords` (release build); `DBOPS_BENCH_SIZES`
//! (e.g. `10,100`) narrows the sizes. Figures go in docs/performance.md.

#[path = "../tests/support/mod.rs"]
#[expect(dead_code, reason = "a bench uses part of the test support")]
mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use support::postgres::SUPERUSER_PASSWORD;
use support::{Dbops, PgServer};

const PASSWORD: &str = "bench password";

fn config(roles: usize, with_passwords: bool) -> String {
    let mut text = String::from(
        "[postgres]\nadmin = { env = \"DATABASE_ROOT_URL\" }\n\n[roles.bench_group]\n\n[server.settings]\nwork_mem = \"8MB\"\nmaintenance_work_mem = \"128MB\"\nstatement_timeout = \"60s\"\nlog_min_duration_statement = \"1s\"\nidle_in_transaction_session_timeout = \"10min\"\n",
    );
    for i in 0..roles {
        text.push_str(&format!("\n[roles.bench_login_{i}]\nlogin = true\n"));
        if with_passwords {
            text.push_str("password = { env = \"BENCH_PASSWORD\" }\n");
        }
        if i == 0 {
            text.push_str("member_of = [\"bench_group\"]\n");
        }
    }
    text
}

/// Wall time and peak RSS (KiB) of one run, from wait4(2).
fn run(mut command: Command, expect: i32) -> (Duration, i64) {
    // stderr to a file: a full pipe would block the child.
    let log = std::env::temp_dir().join(format!("dbops-bench-stderr-{}", std::process::id()));
    let started = Instant::now();
    // Reaped by wait4 below, which also reports its peak RSS.
    #[expect(
        clippy::zombie_processes,
        reason = "reaped by wait4 below, which also reports its peak RSS"
    )]
    let child = command
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("starts");
    let pid = child.id() as i32;
    let mut status = 0;
    let mut usage: Rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { wait4(pid, &mut status, 0, &mut usage) };
    let elapsed = started.elapsed();
    assert_eq!(waited, pid);
    let code = (status >> 8) & 0xff;
    assert_eq!(
        code,
        expect,
        "{command:?} exited {code}: {}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    (elapsed, usage.ru_maxrss)
}

#[repr(C)]
struct Rusage {
    ru_utime: [i64; 2],
    ru_stime: [i64; 2],
    ru_maxrss: i64,
    rest: [i64; 13],
}

extern "C" {
    fn wait4(pid: i32, status: *mut i32, options: i32, usage: *mut Rusage) -> i32;
}

fn psql(server: &PgServer, args: &[&str]) -> Command {
    let mut command = Command::new("psql");
    command
        .args([
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            "127.0.0.1",
        ])
        .args(["-U", "postgres", "-d", "postgres"])
        .arg("-p")
        .arg(server.port.to_string())
        .args(args)
        .env("PGPASSWORD", SUPERUSER_PASSWORD);
    command
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(duration: Duration) -> String {
    let ms = duration.as_secs_f64() * 1000.0;
    if ms >= 1000.0 {
        format!("{:.2} s", ms / 1000.0)
    } else {
        format!("{ms:.1} ms")
    }
}

/// Drops the roles, a thousand per transaction (each DROP ROLE holds a lock).
fn drop_roles(server: &PgServer, roles: usize) {
    let mut sql = String::new();
    for chunk in (0..roles).collect::<Vec<_>>().chunks(1000) {
        sql.push_str("BEGIN;\n");
        for i in chunk {
            sql.push_str(&format!("DROP ROLE IF EXISTS bench_login_{i};\n"));
        }
        sql.push_str("COMMIT;\n");
    }
    sql.push_str("DROP ROLE IF EXISTS bench_group;\n");
    let file = std::env::temp_dir().join(format!("dbops-bench-drop-{}.sql", std::process::id()));
    std::fs::write(&file, sql).unwrap();
    run(psql(server, &["-f", file.to_str().unwrap()]), 0);
}

/// PBKDF2 as dbops 0.1.0 computed it: a new HMAC keyed from the password on
/// every iteration (four compressions per iteration instead of two).
fn rekeying_hi(password: &[u8], salt: &[u8], iterations: u32) -> [u8; 32] {
    use hmac::{Hmac, Mac};
    let mac = |data: &[u8]| -> [u8; 32] {
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(password).unwrap();
        mac.update(data);
        mac.finalize().into_bytes().into()
    };
    let mut block = salt.to_vec();
    block.extend_from_slice(&1u32.to_be_bytes());
    let mut previous = mac(&block);
    let mut result = previous;
    for _ in 1..iterations {
        previous = mac(&previous);
        result.iter_mut().zip(previous).for_each(|(r, p)| *r ^= p);
    }
    result
}

/// Cost of one verification at 4,096 iterations, three ways; medians of 7.
fn per_verification() {
    use dbops::pg::scram::{self, Verifier};
    const CHECKS: usize = 200;
    let stored = scram::new_verifier(PASSWORD);
    let parsed = Verifier::parse(&stored).unwrap();
    let pairs: Vec<(&str, &str)> = (0..CHECKS).map(|_| (PASSWORD, stored.as_str())).collect();
    let time = |f: &dyn Fn()| {
        median(
            (0..7)
                .map(|_| {
                    let started = Instant::now();
                    f();
                    started.elapsed() / CHECKS as u32
                })
                .collect(),
        )
    };
    let rekeying = time(&|| {
        for _ in 0..CHECKS {
            std::hint::black_box(rekeying_hi(PASSWORD.as_bytes(), &parsed.salt, 4096));
        }
    });
    let keyed = time(&|| {
        for _ in 0..CHECKS {
            assert!(Verifier::compute(PASSWORD, &parsed.salt, 4096) == parsed);
        }
    });
    let all = time(&|| assert!(scram::verify_all(&pairs).iter().all(|r| *r == Some(true))));
    let us = |d: Duration| format!("{:.0} µs", d.as_secs_f64() * 1e6);
    println!("| one verification, 4,096 iterations | wall time per role |");
    println!("|---|---:|");
    println!(
        "| HMAC re-keyed every iteration (dbops 0.1.0) | {} |",
        us(rekeying)
    );
    println!("| keyed once, one chain, one core | {} |", us(keyed));
    println!(
        "| `verify_all`: two chains interleaved per core, every core ({} cores) | {} |",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        us(all)
    );
    println!();
}

fn main() {
    per_verification();
    let sizes: Vec<usize> = std::env::var("DBOPS_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').map(|n| n.trim().parse().unwrap()).collect())
        .unwrap_or_else(|| vec![10, 100, 1_000, 10_000]);
    let server = PgServer::start_with(&[
        "max_connections = 50",
        "max_locks_per_transaction = 1024",
        "log_statement = 'none'",
    ]);
    println!("| login roles | psql floor | dbops plan | ratio | peak RSS | plan without passwords | apply from empty | psql script | ratio |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for roles in sizes {
        let runs = if roles >= 10_000 { 5 } else { 7 };
        let dbops = |with_passwords: bool| {
            let mut dbops = Dbops::new(&config(roles, with_passwords))
                .env("DATABASE_ROOT_URL", &server.admin_url())
                .env("BENCH_PASSWORD", PASSWORD);
            dbops.timeout = Duration::from_secs(1200);
            dbops
        };
        let with = dbops(true);
        let without = dbops(false);

        // Apply from empty, interleaved with psql's one-transaction script.
        let mut script = String::from("BEGIN;\nCREATE ROLE bench_group;\n");
        for i in 0..roles {
            let verifier = postgres_protocol::password::scram_sha_256(PASSWORD.as_bytes());
            script.push_str(&format!(
                "CREATE ROLE bench_login_{i} LOGIN PASSWORD '{verifier}';\n"
            ));
        }
        script.push_str("GRANT bench_group TO bench_login_0;\nCOMMIT;\n");
        let script_file = std::env::temp_dir().join(format!("dbops-bench-{roles}.sql"));
        std::fs::write(&script_file, &script).unwrap();
        let apply_runs = if roles >= 10_000 { 3 } else { 7 };
        let mut applies = Vec::new();
        let mut scripts = Vec::new();
        for _ in 0..apply_runs {
            drop_roles(&server, roles);
            scripts.push(run(psql(&server, &["-f", script_file.to_str().unwrap()]), 0).0);
            drop_roles(&server, roles);
            let count = |server: &PgServer| {
                server.sql_ok("SELECT count(*) FROM pg_roles WHERE rolname LIKE 'bench_login_%'")
            };
            assert_eq!(count(&server), "0", "the roles were dropped");
            applies.push(run(with.command(&["apply", "--auto-approve"]), 0).0);
            assert_eq!(
                count(&server),
                roles.to_string(),
                "apply created every role"
            );
        }
        run(with.command(&["plan", "--detailed-exitcode"]), 0);

        // Converged plans, interleaved with the floor.
        let floor_sql =
            "SELECT count(*), max(rolpassword) FROM pg_authid WHERE rolname LIKE 'bench_login_%'";
        let mut floors = Vec::new();
        let mut plans = Vec::new();
        let mut rss = Vec::new();
        let mut bare = Vec::new();
        for _ in 0..runs {
            floors.push(run(psql(&server, &["-c", floor_sql]), 0).0);
            let (time, peak) = run(with.command(&["plan", "--detailed-exitcode"]), 0);
            plans.push(time);
            rss.push(peak);
            bare.push(run(without.command(&["plan", "--detailed-exitcode"]), 0).0);
        }
        rss.sort();
        let (floor, plan, apply, script) = (
            median(floors),
            median(plans),
            median(applies),
            median(scripts),
        );
        println!(
            "| {roles} | {} | {} | {:.1}x | {:.0} MB | {} | {} | {} | {:.2}x |",
            ms(floor),
            ms(plan),
            plan.as_secs_f64() / floor.as_secs_f64(),
            rss[rss.len() / 2] as f64 / 1024.0,
            ms(median(bare)),
            ms(apply),
            ms(script),
            apply.as_secs_f64() / script.as_secs_f64()
        );
        drop_roles(&server, roles);
    }
}
