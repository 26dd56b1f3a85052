//! Benchmark: the cost of drift's backup-health check as the WAL history
//! grows, against moto with 100 and 43,200 WAL objects (30 days of one-minute
//! segments) under WAL-G's `wal_005/`. Reports drift's wall time (median of
//! several runs) and the S3 requests it made (its `backup.health.read` debug
//! event), beside a same-run floor: a paginated listing of the whole prefix,
//! which is what the WAL check of 0.1 did. Run with `cargo bench --bench
//! backup_health` (`DBOPS_BENCH_SIZES=100,43200`); figures go in
//! docs/performance.md.

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
    println!("| WAL objects | drift (median) | S3 requests (WAL check / all) | floor: list `wal_005/` (0.1's check) | floor requests |");
    println!("|---:|---:|---:|---:|---:|");
    for size in sizes {
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
