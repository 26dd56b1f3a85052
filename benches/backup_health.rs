//! Benchmark: the cost of drift's backup-health check as the WAL history
//! grows, against moto with 100 and 43,200 WAL objects (30 days of one-minute
//! segments) under WAL-G's `wal_005/`. Reports drift's wall time (median of
//! several runs) and the S3 requests it made (its `backup.health.read` debug
//! event), beside a same-run floor: a paginated listing of the whole prefix,
//! which is what the WAL check of 0.1 did. Run with `cargo bench --bench
//! backup_health` (`DBOPS_BENCH_SIZES=100,43200`); figures go in
//! docs/performance.md.
//!
//! Then the WAL chain (`backup.health.wal_chain`) at the same sizes: the
//! server's WAL moved far ahead with `pg_resetwal -l`, a full backup laid
//! N segments behind it and the N segments in between, `drift --deep` (the
//! whole chain) against a later `drift` with `wal_chain_state` after a few
//! new segments (from the watermark only), each with its S3 requests.

#[path = "../tests/support/mod.rs"]
#[expect(dead_code, reason = "a bench uses part of the test support")]
mod support;

use std::time::{Duration, Instant};

use support::s3::S3Server;
use support::PgServer;

const RUNS: usize = 5;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn config() -> String {
    r#"[postgres]
admin = { env = "DATABASE_ROOT_URL" }

[bucket.db-backups]
endpoint = { env = "BACKUP_S3_ENDPOINT" }
access_key_id = { env = "BACKUP_AWS_ACCESS_KEY_ID" }
secret_access_key = { env = "BACKUP_AWS_SECRET_ACCESS_KEY" }
create = true
block_public_access = true

[[bucket.db-backups.lifecycle]]
id = "expire"
prefix = "prod/"
expire_after_days = 40

[backup]
tool = "wal-g"
rpo = "5m"
bucket = "db-backups"
prefix = "prod"
archive_command = "true"
max_base_backup_age = "1h"
"#
    .to_string()
}

fn main() {
    let sizes: Vec<usize> = std::env::var("DBOPS_BENCH_SIZES")
        .unwrap_or_else(|_| "100,43200".into())
        .split(',')
        .map(|s| s.trim().parse().expect("sizes are numbers"))
        .collect();
    wal_check(&sizes);
    println!();
    chain(&sizes);
}

/// drift's `backup.health.read` event of one run, and the run's wall time.
fn drift_read(dbops: &support::Dbops, args: &[&str]) -> (Duration, serde_json::Value) {
    let mut all = vec!["drift", "--log-format", "json"];
    all.extend_from_slice(args);
    let started = Instant::now();
    let out = dbops.command(&all).output().expect("drift runs");
    let elapsed = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let event = stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|e| e["event"] == "backup.health.read")
        .unwrap_or_else(|| panic!("no backup.health.read event: {stderr}"));
    (elapsed, event)
}

/// The segment name of number `n` on timeline 1 (16 MB segments).
fn segment(n: u64) -> String {
    format!("00000001{:08X}{:08X}", n / 256, n % 256)
}

fn chain(sizes: &[usize]) {
    println!("| archived segments in the chain | `drift --deep` (whole chain) | its chain requests | `drift` from the watermark, 5 new segments | its chain requests |");
    println!("|---:|---:|---:|---:|---:|");
    for &size in sizes {
        let pg = PgServer::start();
        let s3 = S3Server::moto();
        let state = tempfile::tempdir().expect("a state directory");
        let file = config().replace(
            "max_base_backup_age = \"1h\"\n",
            &format!(
                "max_base_backup_age = \"1h\"\nwal_chain_state = \"{}\"\n",
                state.path().join("chain.json").display()
            ),
        );
        let dbops = support::s3::dbops(&pg, &s3, &file);
        dbops.run(&["apply", "--auto-approve"]).expect_code(0);
        // Far ahead: 0x100 "log" files, 65,536 segments in.
        let restart = pg.restart_command();
        let sh = |command: String| {
            support::run_checked(std::process::Command::new("sh").arg("-c").arg(command));
        };
        sh(restart.replace("-m fast restart", "-m fast stop"));
        let resetwal = support::postgres::bindir().join("pg_resetwal");
        let reset = format!(
            "'{}' -l 000000010000010000000000 '{}'",
            resetwal.display(),
            pg.data_dir().display()
        );
        sh(if support::postgres::is_root() {
            format!("runuser -u postgres -- {reset}")
        } else {
            reset
        });
        sh(restart.replace("-m fast restart", "start"));
        let system = pg.sql_ok("SELECT system_identifier::text FROM pg_control_system()");
        let lsn = pg.sql_ok("SELECT pg_current_wal_lsn()::text");
        let (high, low) = lsn.split_once('/').expect("an LSN");
        let current = ((u64::from_str_radix(high, 16).unwrap() << 32)
            | u64::from_str_radix(low, 16).unwrap())
            / (16 << 20);
        let start = current - size as u64;
        let client = s3.client();
        let keys: Vec<String> = (start..current)
            .map(|n| format!("prod/wal_005/{}.lz4", segment(n)))
            .collect();
        client.put_many("db-backups", &keys);
        client.put_body(
            "db-backups",
            &format!(
                "prod/basebackups_005/base_{}_backup_stop_sentinel.json",
                segment(start)
            ),
            format!("{{\"SystemIdentifier\":{system}}}").as_bytes(),
        );
        let (deep, event) = drift_read(&dbops, &["--deep"]);
        let deep_requests = event["details"]["wal_chain_s3_requests"].as_u64().unwrap();
        // Five new segments written by the server, laid as archived.
        pg.sql_ok("CREATE TABLE bench_t (x int)");
        for _ in 0..5 {
            pg.sql_ok("INSERT INTO bench_t VALUES (1)");
            pg.sql_ok("SELECT pg_switch_wal()");
        }
        // Every segment between the old present and the new one is there.
        let lsn = pg.sql_ok("SELECT pg_current_wal_lsn()::text");
        let (high, low) = lsn.split_once('/').expect("an LSN");
        let newest = ((u64::from_str_radix(high, 16).unwrap() << 32)
            | u64::from_str_radix(low, 16).unwrap())
            / (16 << 20);
        let more: Vec<String> = (current..newest)
            .map(|n| format!("prod/wal_005/{}.lz4", segment(n)))
            .collect();
        client.put_many("db-backups", &more);
        let (incremental, event) = drift_read(&dbops, &[]);
        let incremental_requests = event["details"]["wal_chain_s3_requests"].as_u64().unwrap();
        let (_, whole) = drift_read(&dbops, &["--deep"]);
        assert!(
            whole["details"]["wal_chain_s3_requests"].as_u64().unwrap() >= deep_requests,
            "{whole}"
        );
        println!(
            "| {size} | {:.0} ms | {deep_requests} | {:.0} ms ({} new) | {incremental_requests} |",
            deep.as_secs_f64() * 1000.0,
            incremental.as_secs_f64() * 1000.0,
            newest - current,
        );
    }
}

fn wal_check(sizes: &[usize]) {
    println!("| WAL objects | drift (median) | S3 requests (WAL check / all) | floor: list `wal_005/` (0.1's check) | floor requests |");
    println!("|---:|---:|---:|---:|---:|");
    for &size in sizes {
        let pg = PgServer::start();
        let s3 = S3Server::moto();
        let dbops = support::s3::dbops(&pg, &s3, &config());
        dbops.run(&["apply", "--auto-approve"]).expect_code(0);
        pg.restart();
        pg.sql_ok("CREATE TABLE t AS SELECT 1 AS x");
        let segment = pg.sql_ok("SELECT pg_walfile_name(pg_switch_wal())");
        let deadline = Instant::now() + Duration::from_secs(30);
        while pg
            .sql_ok("SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver")
            .as_str()
            < segment.as_str()
        {
            assert!(Instant::now() < deadline, "not archived");
            std::thread::sleep(Duration::from_millis(100));
        }
        let client = s3.client();
        let mut keys: Vec<String> = (0..size.saturating_sub(1))
            .map(|i| format!("prod/wal_005/00000001{:016X}.lz4", 0x1000 + i))
            .collect();
        keys.push(format!("prod/wal_005/{segment}.lz4"));
        client.put_many("db-backups", &keys);
        client.put(
            "db-backups",
            "prod/basebackups_005/base_000000010000000000000002_backup_stop_sentinel.json",
        );

        let mut times = Vec::new();
        let mut requests = (0, 0);
        for _ in 0..RUNS {
            let started = Instant::now();
            let out = dbops
                .command(&["drift", "--log-format", "json"])
                .output()
                .expect("drift runs");
            times.push(started.elapsed());
            assert_eq!(
                out.status.code(),
                Some(0),
                "{}",
                String::from_utf8_lossy(&out.stdout)
            );
            let stderr = String::from_utf8_lossy(&out.stderr);
            let event: serde_json::Value = stderr
                .lines()
                .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                .find(|e| e["event"] == "backup.health.read")
                .expect("backup.health.read event");
            requests = (
                event["details"]["wal_check_s3_requests"].as_u64().unwrap(),
                event["details"]["s3_requests"].as_u64().unwrap(),
            );
        }
        // The floor: what listing the whole prefix costs in the same run.
        let mut floor = Vec::new();
        let mut pages = 0;
        for _ in 0..RUNS {
            let started = Instant::now();
            pages = 0;
            let mut token = None;
            loop {
                let out = client
                    .block(
                        client
                            .s3
                            .list_objects_v2()
                            .bucket("db-backups")
                            .prefix("prod/wal_005/")
                            .set_continuation_token(token.take())
                            .send(),
                    )
                    .expect("list");
                pages += 1;
                match out.next_continuation_token() {
                    Some(next) => token = Some(next.to_string()),
                    None => break,
                }
            }
            floor.push(started.elapsed());
        }
        println!(
            "| {size} | {:.0} ms | {} / {} | {:.0} ms | {pages} |",
            median(times).as_secs_f64() * 1000.0,
            requests.0,
            requests.1,
            median(floor).as_secs_f64() * 1000.0,
        );
    }
}
