//! Throwaway S3-compatible servers for tests, on 127.0.0.1: moto (`moto_server`
//! from `DBOPS_MOTO_SERVER`, the venv `scripts/test.sh` makes, or `PATH`), and
//! s3s-fs (`DBOPS_S3S_FS`, the tools `scripts/test.sh` installs, or `PATH`),
//! which answers 501 NotImplemented to every bucket-configuration call. Also an
//! S3 client for independent read-back, not through dbops.

use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::free_port;

pub(crate) const ACCESS_KEY: &str = "AKIADBOPSTESTKEY0001";
pub(crate) const SECRET_KEY: &str = "dbops/test+secret:key with @ and %";

pub(crate) struct S3Server {
    child: Child,
    _dir: Option<tempfile::TempDir>,
    pub(crate) port: u16,
}

fn find(env: &str, relative: &str, name: &str) -> PathBuf {
    if let Some(path) = std::env::var_os(env) {
        return PathBuf::from(path);
    }
    let local = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(relative);
    if local.exists() {
        return local;
    }
    PathBuf::from(name)
}

impl S3Server {
    /// moto, accepting any credentials.
    pub(crate) fn moto() -> Self {
        Self::start_moto(false)
    }

    /// moto with authentication on (`INITIAL_NO_AUTH_ACTION_COUNT=0`): unknown keys are refused.
    pub(crate) fn moto_denying() -> Self {
        Self::start_moto(true)
    }

    fn start_moto(deny: bool) -> Self {
        let binary = find(
            "DBOPS_MOTO_SERVER",
            "target/moto-venv/bin/moto_server",
            "moto_server",
        );
        let port = free_port();
        let mut command = Command::new(&binary);
        command
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if deny {
            command.env("INITIAL_NO_AUTH_ACTION_COUNT", "0");
        }
        command.process_group(0);
        let child = command.spawn().unwrap_or_else(|e| {
            panic!(
                "cannot start {}: {e}; run `bash scripts/test.sh`, which installs it",
                binary.display()
            )
        });
        Self::wait(child, None, port)
    }

    /// s3s-fs: objects only; bucket configuration answers 501.
    pub(crate) fn s3s_fs() -> Self {
        let binary = find("DBOPS_S3S_FS", "target/tools/bin/s3s-fs", "s3s-fs");
        let dir = tempfile::Builder::new()
            .prefix("dbops-s3s-")
            .tempdir()
            .unwrap();
        let port = free_port();
        let child = Command::new(&binary)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY])
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start {}: {e}; run `bash scripts/test.sh`, which installs it",
                    binary.display()
                )
            });
        Self::wait(child, Some(dir), port)
    }

    fn wait(mut child: Child, dir: Option<tempfile::TempDir>, port: u16) -> Self {
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("the S3 server exited at start: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "the S3 server did not listen within 30s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Self {
            child,
            _dir: dir,
            port,
        }
    }

    pub(crate) fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// A client of its own (not dbops's), for setting up and reading back.
    pub(crate) fn client(&self) -> Client {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let config = aws_sdk_s3::config::Builder::new()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .region(aws_sdk_s3::config::Region::new("us-east-1"))
            .endpoint_url(self.endpoint())
            .force_path_style(true)
            .credentials_provider(aws_sdk_s3::config::Credentials::new(
                ACCESS_KEY, SECRET_KEY, None, None, "test",
            ))
            .build();
        Client {
            s3: aws_sdk_s3::Client::from_conf(config),
            runtime,
        }
    }
}

/// The `[bucket.db-backups]` table of the backup tests: the endpoint and keys
/// [`dbops`] puts in the environment, created on demand, never public.
pub(crate) const BUCKET: &str = r#"[bucket.db-backups]
endpoint = { env = "BACKUP_S3_ENDPOINT" }
access_key_id = { env = "BACKUP_AWS_ACCESS_KEY_ID" }
secret_access_key = { env = "BACKUP_AWS_SECRET_ACCESS_KEY" }
create = true
block_public_access = true
"#;

/// dbops in a directory with `config`, the admin DSN of `pg` and the bucket
/// variables (`BACKUP_S3_ENDPOINT`, `BACKUP_AWS_ACCESS_KEY_ID`, ...) for `s3`.
pub(crate) fn dbops(pg: &super::PgServer, s3: &S3Server, config: &str) -> super::Dbops {
    super::Dbops::new(config)
        .env("DATABASE_ROOT_URL", &pg.admin_url())
        .env("BACKUP_S3_ENDPOINT", &s3.endpoint())
        .env("BACKUP_AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("BACKUP_AWS_SECRET_ACCESS_KEY", SECRET_KEY)
}

/// Neither S3 key appears in `text`.
#[track_caller]
pub(crate) fn assert_no_keys(text: &str) {
    assert!(
        !text.contains(ACCESS_KEY) && !text.contains(SECRET_KEY),
        "an S3 key leaked:\n{text}"
    );
}

impl Drop for S3Server {
    fn drop(&mut self) {
        super::stop_group(&mut self.child);
    }
}

/// A blocking S3 client for tests.
pub(crate) struct Client {
    pub(crate) s3: aws_sdk_s3::Client,
    runtime: tokio::runtime::Runtime,
}

impl Client {
    pub(crate) fn block<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    pub(crate) fn put(&self, bucket: &str, key: &str) {
        self.block(
            self.s3
                .put_object()
                .bucket(bucket)
                .key(key)
                .body(aws_sdk_s3::primitives::ByteStream::from_static(b"x"))
                .send(),
        )
        .unwrap_or_else(|e| panic!("put {key}: {e:?}"));
    }

    pub(crate) fn versioning_status(
        &self,
        bucket: &str,
    ) -> Option<aws_sdk_s3::types::BucketVersioningStatus> {
        self.block(self.s3.get_bucket_versioning().bucket(bucket).send())
            .expect("get versioning")
            .status()
            .cloned()
    }

    pub(crate) fn lifecycle_rules(&self, bucket: &str) -> Vec<aws_sdk_s3::types::LifecycleRule> {
        self.block(
            self.s3
                .get_bucket_lifecycle_configuration()
                .bucket(bucket)
                .send(),
        )
        .expect("get lifecycle")
        .rules()
        .to_vec()
    }

    /// Replaces the whole lifecycle configuration, as S3 does.
    pub(crate) fn put_lifecycle_rules(
        &self,
        bucket: &str,
        rules: Vec<aws_sdk_s3::types::LifecycleRule>,
    ) {
        let configuration = aws_sdk_s3::types::BucketLifecycleConfiguration::builder()
            .set_rules(Some(rules))
            .build()
            .unwrap();
        self.block(
            self.s3
                .put_bucket_lifecycle_configuration()
                .bucket(bucket)
                .lifecycle_configuration(configuration)
                .send(),
        )
        .expect("put lifecycle");
    }

    /// Puts many small objects, a few dozen at a time.
    pub(crate) fn put_many(&self, bucket: &str, keys: &[String]) {
        self.block(async {
            for chunk in keys.chunks(50) {
                let mut tasks = Vec::new();
                for key in chunk {
                    let request = self
                        .s3
                        .put_object()
                        .bucket(bucket)
                        .key(key)
                        .body(aws_sdk_s3::primitives::ByteStream::from_static(b"x"));
                    tasks.push(tokio::spawn(request.send()));
                }
                for task in tasks {
                    task.await.unwrap().expect("put object");
                }
            }
        });
    }

    /// Deletes one object.
    pub(crate) fn delete(&self, bucket: &str, key: &str) {
        self.block(self.s3.delete_object().bucket(bucket).key(key).send())
            .expect("delete object");
    }

    /// Every key under `prefix`, sorted.
    pub(crate) fn keys(&self, bucket: &str, prefix: &str) -> Vec<String> {
        let mut keys = Vec::new();
        let mut token = None;
        loop {
            let out = self
                .block(
                    self.s3
                        .list_objects_v2()
                        .bucket(bucket)
                        .prefix(prefix)
                        .set_continuation_token(token.take())
                        .send(),
                )
                .expect("list objects");
            keys.extend(
                out.contents()
                    .iter()
                    .filter_map(|o| o.key().map(str::to_string)),
            );
            match out.next_continuation_token() {
                Some(next) => token = Some(next.to_string()),
                None => break,
            }
        }
        keys.sort();
        keys
    }

    /// The body of one object.
    pub(crate) fn get(&self, bucket: &str, key: &str) -> Vec<u8> {
        self.block(async {
            let out = self
                .s3
                .get_object()
                .bucket(bucket)
                .key(key)
                .send()
                .await
                .unwrap_or_else(|e| panic!("get {key}: {e:?}"));
            out.body.collect().await.unwrap().into_bytes().to_vec()
        })
    }

    /// Writes `body` at `key`.
    pub(crate) fn put_body(&self, bucket: &str, key: &str, body: &[u8]) {
        self.block(
            self.s3
                .put_object()
                .bucket(bucket)
                .key(key)
                .body(aws_sdk_s3::primitives::ByteStream::from(body.to_vec()))
                .send(),
        )
        .unwrap_or_else(|e| panic!("put {key}: {e:?}"));
    }
}
