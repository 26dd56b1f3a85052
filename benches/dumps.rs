//! Benchmark: `dbops dump` against the floors it must stay near, same run,
//! for each database size in `DBOPS_BENCH_SIZES` (MB on disk, default
//! `256,1024`): to a directory, against `pg_dump -Fc -f FILE` followed by
//! `sha256sum FILE`; to the local S3 server (moto), against `pg_dump -Fc`
//! piped into a streaming upload of the same bytes by another client
//! (boto3's `upload_fileobj`, from moto's own virtualenv). Peak RSS of the
//! dbops process (`wait4`'s `ru_maxrss`) at each size shows memory does not
//! follow the database. Run with `cargo bench --bench dumps`; figures go in
//! docs/performance.md.

#[path = "../tests/support/mod.rs"]
#[expect(dead_code, reason = "a bench uses part of the test support")]
mod support;

#[path = "common/mod.rs"]
mod common;

use common::measure;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use support::postgres::{bindir, SUPERUSER_PASSWORD};
use support::s3::{S3Server, ACCESS_KEY, BUCKET, SECRET_KEY};
use support::{Dbops, PgServer};

fn config(destination: &str) -> String {
    format!(
        "[postgres]\nadmin = {{ env = \"DATABASE_ROOT_URL\" }}\n\n{BUCKET}versioning = true\n\n[dumps]\ndatabases = [\"app\"]\ninterval = \"24h\"\n{destination}\n"
    )
}

fn main() {
    let sizes: Vec<u64> = std::env::var("DBOPS_BENCH_SIZES")
        .unwrap_or_else(|_| "256,1024".into())
        .split(',')
        .map(|s| s.trim().parse().unwrap())
        .collect();
    let moto_python = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/moto-venv/bin/python");
    println!("| database | to | floor | dbops dump | ratio | dbops peak RSS |");
    println!("|---|---|---|---|---|---|");
    for size in sizes {
        let pg = PgServer::start();
        eprintln!("database `app`: {}", common::fill(&pg, size));
        let s3 = S3Server::moto();
        let work = tempfile::tempdir().unwrap();
        let dsn = pg.url("postgres", SUPERUSER_PASSWORD, "app");
        let pg_dump = bindir().join("pg_dump");

        // Directory: the floor, then dbops.
        let file = work.path().join("floor.dump");
        let started = Instant::now();
        let status = Command::new(&pg_dump)
            .args(["-Fc", "-f"])
            .arg(&file)
            .arg(format!("--dbname={dsn}"))
            .status()
            .unwrap();
        assert!(status.success());
        let status = Command::new("sha256sum")
            .arg(&file)
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
        let floor = started.elapsed();
        std::fs::remove_file(&file).unwrap();
        let directory = work.path().join("dumps");
        std::fs::create_dir(&directory).unwrap();
        let dbops = Dbops::new(&config(&format!("directory = \"{}\"", directory.display())))
            .env("DATABASE_ROOT_URL", &pg.admin_url())
            .env("BACKUP_S3_ENDPOINT", &s3.endpoint())
            .env("BACKUP_AWS_ACCESS_KEY_ID", ACCESS_KEY)
            .env("BACKUP_AWS_SECRET_ACCESS_KEY", SECRET_KEY);
        let (took, rss) = measure(&mut dbops.command(&["dump"]));
        println!(
            "| {size} MB | directory | {:.2} s | {:.2} s | {:.2}x | {rss:.0} MB |",
            floor.as_secs_f64(),
            took.as_secs_f64(),
            took.as_secs_f64() / floor.as_secs_f64()
        );
        std::fs::remove_dir_all(&directory).unwrap();

        // Bucket: create it, then the floor (pg_dump | boto3), then dbops.
        let bucket = Dbops::new(&config("bucket = \"db-backups\"\nprefix = \"dumps\""))
            .env("DATABASE_ROOT_URL", &pg.admin_url())
            .env("BACKUP_S3_ENDPOINT", &s3.endpoint())
            .env("BACKUP_AWS_ACCESS_KEY_ID", ACCESS_KEY)
            .env("BACKUP_AWS_SECRET_ACCESS_KEY", SECRET_KEY);
        let applied = bucket.run(&["apply", "--auto-approve"]);
        assert_eq!(applied.code, 0, "{}", applied.stderr);
        let upload = format!(
            "import boto3, sys; boto3.client('s3', endpoint_url='{}', aws_access_key_id='{ACCESS_KEY}', aws_secret_access_key='x', region_name='us-east-1').upload_fileobj(sys.stdin.buffer, 'db-backups', 'floor/app.dump')",
            s3.endpoint()
        );
        let script = format!(
            "set -o pipefail; '{}' -Fc '--dbname={dsn}' | '{}' -c \"{upload}\"",
            pg_dump.display(),
            moto_python.display()
        );
        let started = Instant::now();
        let status = Command::new("bash").args(["-c", &script]).status().unwrap();
        assert!(status.success());
        let floor = started.elapsed();
        let (took, rss) = measure(&mut bucket.command(&["dump"]));
        println!(
            "| {size} MB | moto (S3) | {:.2} s | {:.2} s | {:.2}x | {rss:.0} MB |",
            floor.as_secs_f64(),
            took.as_secs_f64(),
            took.as_secs_f64() / floor.as_secs_f64()
        );
    }
}
