//! The backup tool's configuration as dbops renders it for the sidecar: the
//! WAL-G environment file and pgBackRest's `pgbackrest.conf`. Pure: secrets
//! go into the content, and each file says which keys are secret, so every
//! output can redact them.

use secrecy::ExposeSecret;

use super::desired::{Place, Repository, Retention};
use crate::dsn::Dsn;
use crate::managed_files::grammar::{path, FieldError, Rendered, Writer};
use crate::managed_files::redaction::HEADER as HEADER_TEXT;
use crate::managed_files::Redaction;
use crate::s3::BucketSpec;

/// The WAL-G environment file: only these keys are ever shown in a plan.
pub(crate) const WALG_REDACTION: Redaction = Redaction::Env {
    public: &[
        "WALG_S3_PREFIX",
        "AWS_ENDPOINT",
        "WALG_S3_CA_CERT_FILE",
        "AWS_S3_FORCE_PATH_STYLE",
        "AWS_REGION",
        "WALG_COMPRESSION_METHOD",
        "DBOPS_RETAIN_DAYS",
        "PGHOST",
        "PGPORT",
        "PGUSER",
        "PGDATABASE",
        "PGSSLMODE",
    ],
    secret: &["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "PGPASSWORD"],
};

/// pgbackrest.conf: only these keys are ever shown in a plan (`repo*-`
/// stands for every repository's number).
pub(crate) const PGBACKREST_REDACTION: Redaction = Redaction::Ini {
    public: &[
        "repo*-type",
        "repo*-s3-endpoint",
        "repo*-storage-port",
        "repo*-storage-ca-file",
        "repo*-s3-bucket",
        "repo*-s3-region",
        "repo*-s3-uri-style",
        "repo*-path",
        "repo*-retention-full",
        "repo*-retention-full-type",
        "repo*-retention-archive",
        "repo*-retention-archive-type",
        "start-fast",
        "archive-copy",
        "pg1-path",
        "pg1-host",
        "pg1-port",
        "pg1-user",
        "pg1-database",
        "pg1-socket-path",
    ],
    secret: &["repo*-s3-key", "repo*-s3-key-secret", "repo*-cipher-pass"],
    connstring_section: None,
    connstring_public: &[],
};

/// How the sidecar reaches PostgreSQL: `[backup] connection`.
pub(crate) struct Sidecar<'a> {
    pub(crate) dsn: &'a Dsn,
    pub(crate) key: Vec<String>,
}

impl Sidecar<'_> {
    /// The host libpq is given: a name, an address, or a socket directory
    /// (`?host=` in the DSN wins, as in libpq).
    fn host(&self) -> &str {
        &self.dsn.host
    }
}

pub(crate) struct WalG<'a> {
    pub(crate) bucket: &'a BucketSpec,
    /// The endpoint as WAL-G reaches it, and the key it comes from.
    pub(crate) endpoint: Option<(&'a str, Vec<String>)>,
    pub(crate) ca_file: Option<&'a str>,
    pub(crate) prefix: &'a str,
    pub(crate) compression: &'a str,
    /// Days of full backups the sidecar's prune keeps (`Retention::keep_days`).
    pub(crate) retain_days: u32,
    pub(crate) sidecar: Option<&'a Sidecar<'a>>,
}

fn bucket_key(bucket: &BucketSpec, key: &str) -> Vec<String> {
    path(&["bucket", &bucket.name, key])
}

/// The WAL-G environment file, every value checked against what `sh` and
/// docker compose read back.
pub(crate) fn walg_env(input: &WalG<'_>) -> Result<Rendered, Vec<FieldError>> {
    let bucket = input.bucket;
    let mut w = Writer::new("the WAL-G env file");
    w.raw(&format!("# {HEADER_TEXT}"));
    let prefix = if input.prefix.is_empty() {
        format!("s3://{}", bucket.name)
    } else {
        format!("s3://{}/{}", bucket.name, input.prefix)
    };
    w.env("WALG_S3_PREFIX", &prefix, &path(&["backup", "prefix"]));
    if let Some((endpoint, key)) = &input.endpoint {
        w.env("AWS_ENDPOINT", endpoint, key);
    }
    if let Some(ca_file) = input.ca_file {
        w.env(
            "WALG_S3_CA_CERT_FILE",
            ca_file,
            &path(&["backup", "ca_file"]),
        );
    }
    w.env(
        "AWS_S3_FORCE_PATH_STYLE",
        &bucket.path_style.to_string(),
        &bucket_key(bucket, "path_style"),
    );
    w.env("AWS_REGION", &bucket.region, &bucket_key(bucket, "region"));
    w.env(
        "WALG_COMPRESSION_METHOD",
        input.compression,
        &path(&["backup", "compression"]),
    );
    // WAL-G has no retention setting: the sidecar prunes with
    // `wal-g delete before FIND_FULL <now - DBOPS_RETAIN_DAYS> --confirm`.
    w.env(
        "DBOPS_RETAIN_DAYS",
        &input.retain_days.to_string(),
        &path(&["backup", "retention"]),
    );
    if let Some((id, secret)) = &bucket.credentials {
        w.env(
            "AWS_ACCESS_KEY_ID",
            id.expose_secret(),
            &bucket_key(bucket, "access_key_id"),
        );
        w.env(
            "AWS_SECRET_ACCESS_KEY",
            secret.expose_secret(),
            &bucket_key(bucket, "secret_access_key"),
        );
    }
    // libpq's variables, which `wal-g backup-push` reads like psql does.
    if let Some(sidecar) = input.sidecar {
        let dsn = sidecar.dsn;
        w.env("PGHOST", sidecar.host(), &sidecar.key);
        w.env("PGPORT", &dsn.port.to_string(), &sidecar.key);
        w.env("PGUSER", &dsn.user, &sidecar.key);
        w.env("PGDATABASE", &dsn.database, &sidecar.key);
        if let Some(mode) = dsn.params.get("sslmode") {
            w.env("PGSSLMODE", mode, &sidecar.key);
        }
        if let Some(password) = dsn.password() {
            w.env("PGPASSWORD", password.expose_secret(), &sidecar.key);
        }
    }
    w.finish_rendered()
}

pub(crate) struct PgBackRest<'a> {
    pub(crate) bucket: &'a BucketSpec,
    /// The endpoint as pgBackRest reaches it, and the key it comes from.
    pub(crate) endpoint: Option<(&'a str, Vec<String>)>,
    pub(crate) ca_file: Option<&'a str>,
    pub(crate) prefix: &'a str,
    pub(crate) stanza: &'a str,
    pub(crate) retention: &'a Retention,
    pub(crate) pg_data: &'a str,
    pub(crate) sidecar: Option<&'a Sidecar<'a>>,
    /// Repositories 2, 3...
    pub(crate) repositories: &'a [Repository],
}

fn line(w: &mut Writer, key: &str, value: &str, source: Vec<String>) {
    w.ini(key, "=", value, &source);
}

/// pgbackrest.conf, every value checked against pgBackRest's ini grammar.
pub(crate) fn pgbackrest_conf(input: &PgBackRest<'_>) -> Result<Rendered, Vec<FieldError>> {
    let mut w = Writer::new("pgbackrest.conf");
    w.raw(&format!("# {HEADER_TEXT}"));
    w.section("global", &path(&["backup"]));
    line(&mut w, "repo1-type", "s3", path(&["backup"]));
    s3_repository(
        &mut w,
        &S3Repository {
            number: 1,
            bucket: input.bucket,
            endpoint: input.endpoint.clone(),
            ca_file: input.ca_file.map(|f| (f, path(&["backup", "ca_file"]))),
            prefix: (input.prefix, path(&["backup", "prefix"])),
        },
    );
    retention(&mut w, 1, input.retention);
    for (index, repository) in input.repositories.iter().enumerate() {
        let index = index.to_string();
        let key = |name: &str| path(&["backup", "repositories", &index, name]);
        let n = repository.number;
        match &repository.place {
            Place::Bucket {
                bucket,
                prefix,
                tool_endpoint,
                ca_file,
            } => {
                line(&mut w, &format!("repo{n}-type"), "s3", key("bucket"));
                let endpoint = match (tool_endpoint, &bucket.endpoint) {
                    (Some(e), _) => Some((e.as_str(), key("tool_endpoint"))),
                    (None, Some(e)) => Some((e.as_str(), bucket_key(bucket, "endpoint"))),
                    (None, None) => None,
                };
                s3_repository(
                    &mut w,
                    &S3Repository {
                        number: n,
                        bucket,
                        endpoint,
                        ca_file: ca_file.as_deref().map(|f| (f, key("ca_file"))),
                        prefix: (prefix, key("prefix")),
                    },
                );
            }
            Place::Directory(dir) => {
                line(&mut w, &format!("repo{n}-type"), "posix", key("path"));
                line(
                    &mut w,
                    &format!("repo{n}-path"),
                    &dir.display().to_string(),
                    key("path"),
                );
            }
        }
        retention(&mut w, n, input.retention);
    }
    line(&mut w, "archive-copy", "y", path(&["backup"]));
    line(&mut w, "start-fast", "y", path(&["backup"]));
    w.raw("");
    w.section(input.stanza, &path(&["backup", "stanza"]));
    line(
        &mut w,
        "pg1-path",
        input.pg_data,
        path(&["backup", "pg_data"]),
    );
    if let Some(sidecar) = input.sidecar {
        let dsn = sidecar.dsn;
        if sidecar.host().starts_with('/') {
            line(
                &mut w,
                "pg1-socket-path",
                sidecar.host(),
                sidecar.key.clone(),
            );
        }
        line(
            &mut w,
            "pg1-port",
            &dsn.port.to_string(),
            sidecar.key.clone(),
        );
        line(&mut w, "pg1-user", &dsn.user, sidecar.key.clone());
        line(&mut w, "pg1-database", &dsn.database, sidecar.key.clone());
    }
    let rendered = w.finish_rendered()?;
    match input.sidecar.map(sidecar_errors) {
        Some(errors) if !errors.is_empty() => Err(errors),
        _ => Ok(rendered),
    }
}

/// One S3 repository's place and the keys each value comes from.
struct S3Repository<'a> {
    number: u32,
    bucket: &'a BucketSpec,
    /// The endpoint as pgBackRest reaches it, and the key it comes from.
    endpoint: Option<(&'a str, Vec<String>)>,
    ca_file: Option<(&'a str, Vec<String>)>,
    prefix: (&'a str, Vec<String>),
}

/// `repoN-*`: where an S3 repository is and how to reach it.
fn s3_repository(w: &mut Writer, repo: &S3Repository<'_>) {
    let bucket = repo.bucket;
    let n = repo.number;
    let endpoint_key = format!("repo{n}-s3-endpoint");
    match &repo.endpoint {
        Some((endpoint, key)) => match url::Url::parse(endpoint) {
            Ok(url) => {
                line(
                    w,
                    &endpoint_key,
                    url.host_str().unwrap_or_default(),
                    key.clone(),
                );
                if let Some(port) = url.port() {
                    line(
                        w,
                        &format!("repo{n}-storage-port"),
                        &port.to_string(),
                        key.clone(),
                    );
                }
            }
            Err(_) => line(w, &endpoint_key, endpoint, key.clone()),
        },
        None => line(
            w,
            &endpoint_key,
            &format!("s3.{}.amazonaws.com", bucket.region),
            bucket_key(bucket, "region"),
        ),
    }
    if let Some((ca_file, key)) = &repo.ca_file {
        line(w, &format!("repo{n}-storage-ca-file"), ca_file, key.clone());
    }
    line(
        w,
        &format!("repo{n}-s3-bucket"),
        &bucket.name,
        path(&["bucket", &bucket.name]),
    );
    line(
        w,
        &format!("repo{n}-s3-region"),
        &bucket.region,
        bucket_key(bucket, "region"),
    );
    line(
        w,
        &format!("repo{n}-s3-uri-style"),
        if bucket.path_style { "path" } else { "host" },
        bucket_key(bucket, "path_style"),
    );
    line(
        w,
        &format!("repo{n}-path"),
        &format!("/{}", repo.prefix.0),
        repo.prefix.1.clone(),
    );
    if let Some((id, secret)) = &bucket.credentials {
        line(
            w,
            &format!("repo{n}-s3-key"),
            id.expose_secret(),
            bucket_key(bucket, "access_key_id"),
        );
        line(
            w,
            &format!("repo{n}-s3-key-secret"),
            secret.expose_secret(),
            bucket_key(bucket, "secret_access_key"),
        );
    }
}

/// Time-based retention covering the whole policy (or `wal_days`, if
/// longer) keeps every full backup of that span, a superset of the
/// daily/weekly/monthly series, and one older; WAL is kept for the full
/// backups of `wal_days`, and each backup keeps its own WAL (`archive-copy`)
/// so it restores to its end point after that WAL expires.
fn retention(w: &mut Writer, n: u32, policy: &Retention) {
    let key = path(&["backup", "retention"]);
    line(
        w,
        &format!("repo{n}-retention-full-type"),
        "time",
        key.clone(),
    );
    line(
        w,
        &format!("repo{n}-retention-full"),
        &policy.keep_days().to_string(),
        key.clone(),
    );
    line(
        w,
        &format!("repo{n}-retention-archive-type"),
        "full",
        key.clone(),
    );
    let archive_backups = policy
        .wal_days
        .div_ceil(policy.interval_days())
        .clamp(1, 9_999_999);
    line(
        w,
        &format!("repo{n}-retention-archive"),
        &archive_backups.to_string(),
        key,
    );
}

/// What pgBackRest cannot do with the sidecar's connection.
fn sidecar_errors(sidecar: &Sidecar<'_>) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if !sidecar.host().starts_with('/') {
        errors.push(FieldError {
            path: sidecar.key.clone(),
            message: "pgBackRest reaches a local PostgreSQL through its Unix socket only: name the socket directory, e.g. `postgres://postgres@localhost:5432/postgres?host=/var/run/postgresql`".into(),
        });
    }
    if sidecar.dsn.password().is_some() {
        errors.push(FieldError {
            path: sidecar.key.clone(),
            message: "pgBackRest has no password option: connect as a role with `peer` (or `trust`) authentication on the socket, and drop the password from this DSN".into(),
        });
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;

    fn bucket() -> BucketSpec {
        BucketSpec {
            ca_pem: None,
            name: "db-backups".into(),
            endpoint: Some("http://minio:9000".into()),
            region: "eu-central-1".into(),
            path_style: true,
            credentials: Some((
                SecretString::from("AKIAEXAMPLE".to_string()),
                SecretString::from("s3cr3t/key+value".to_string()),
            )),
            create: true,
            versioning: None,
            encryption: None,
            block_public_access: None,
            lifecycle: None,
            prune_lifecycle: false,
        }
    }

    #[test]
    fn walg_environment() {
        let b = bucket();
        insta::assert_snapshot!(
            walg_env(&WalG {
                bucket: &b,
                endpoint: b.endpoint.as_deref().map(|e| (e, vec![])),
                ca_file: None,
                prefix: "prod",
                compression: "lz4",
                retain_days: 30,
                sidecar: None,
            })
            .unwrap()
            .content
        );
    }

    #[test]
    fn pgbackrest_configuration() {
        let b = bucket();
        insta::assert_snapshot!(
            pgbackrest_conf(&PgBackRest {
                bucket: &b,
                endpoint: b.endpoint.as_deref().map(|e| (e, vec![])),
                ca_file: Some("/etc/ssl/certs/minio-ca.pem"),
                prefix: "prod",
                stanza: "main",
                retention: &Retention {
                    daily: 7,
                    weekly: 4,
                    monthly: 0,
                    wal_days: 30,
                },
                pg_data: "/var/lib/postgresql/data",
                sidecar: None,
                repositories: &[],
            })
            .unwrap()
            .content
        );
    }

    #[test]
    fn sidecar_connection_for_each_tool() {
        let b = bucket();
        let walg_dsn = Dsn::parse(
            "postgres://backup_agent:p%40ss%20word@db.internal:5433/app?sslmode=require",
        )
        .unwrap();
        let sidecar = Sidecar {
            dsn: &walg_dsn,
            key: vec![],
        };
        let walg = walg_env(&WalG {
            bucket: &b,
            endpoint: None,
            ca_file: None,
            prefix: "prod",
            compression: "lz4",
            retain_days: 30,
            sidecar: Some(&sidecar),
        })
        .unwrap()
        .content;
        let socket_dsn =
            Dsn::parse("postgres://postgres@localhost:5432/postgres?host=/var/run/postgresql")
                .unwrap();
        let socket = Sidecar {
            dsn: &socket_dsn,
            key: vec![],
        };
        let retention = Retention {
            daily: 7,
            weekly: 4,
            monthly: 0,
            wal_days: 30,
        };
        let pgbackrest = pgbackrest_conf(&PgBackRest {
            bucket: &b,
            endpoint: None,
            ca_file: None,
            prefix: "prod",
            stanza: "main",
            retention: &retention,
            pg_data: "/var/lib/postgresql/data",
            sidecar: Some(&socket),
            repositories: &[],
        })
        .unwrap()
        .content;
        insta::assert_snapshot!(format!("{walg}\n---\n{pgbackrest}"));
    }

    #[test]
    fn pgbackrest_configuration_with_a_second_bucket_and_a_directory() {
        let b = bucket();
        let mut offsite = bucket();
        offsite.name = "offsite-backups".into();
        offsite.endpoint = Some("https://s3.eu-west-1.example.net".into());
        offsite.credentials = Some((
            SecretString::from("AKIAOFFSITE".to_string()),
            SecretString::from("0ffs1te/secret".to_string()),
        ));
        let repositories = [
            Repository {
                number: 2,
                place: Place::Bucket {
                    bucket: Box::new(offsite),
                    prefix: "prod/copy".into(),
                    tool_endpoint: Some("https://localhost:9443".into()),
                    ca_file: Some("/etc/ssl/offsite-ca.pem".into()),
                },
            },
            Repository {
                number: 3,
                place: Place::Directory("/mnt/backup disk/pgbackrest".into()),
            },
        ];
        let content = pgbackrest_conf(&PgBackRest {
            bucket: &b,
            endpoint: b.endpoint.as_deref().map(|e| (e, vec![])),
            ca_file: None,
            prefix: "prod",
            stanza: "main",
            retention: &Retention {
                daily: 7,
                weekly: 4,
                monthly: 0,
                wal_days: 30,
            },
            pg_data: "/var/lib/postgresql/data",
            sidecar: None,
            repositories: &repositories,
        })
        .unwrap()
        .content;
        let shown = PGBACKREST_REDACTION.redact(&content);
        for secret in ["AKIAOFFSITE", "0ffs1te/secret", "s3cr3t/key+value"] {
            assert!(content.contains(secret));
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(shown.contains("repo2-s3-key-secret=(sensitive)"), "{shown}");
        assert!(
            shown.contains("repo3-path=/mnt/backup disk/pgbackrest"),
            "{shown}"
        );
        insta::assert_snapshot!(shown);
    }
}
