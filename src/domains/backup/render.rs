//! The backup tool's configuration as dbops renders it for the sidecar: the
//! WAL-G environment file and pgBackRest's `pgbackrest.conf`. Pure: secrets
//! go into the content, and each file says which keys are secret, so every
//! output can redact them.

use secrecy::ExposeSecret;

use crate::domains::bucket::desired::DesiredBucket;
use crate::domains::files::redaction::HEADER as HEADER_TEXT;
use crate::domains::files::Redaction;

fn header() -> String {
    format!("# {HEADER_TEXT}\n")
}

/// The WAL-G environment file: only these keys are ever shown in a plan.
pub const WALG_REDACTION: Redaction = Redaction::Env {
    public: &[
        "WALG_S3_PREFIX",
        "AWS_ENDPOINT",
        "WALG_S3_CA_CERT_FILE",
        "AWS_S3_FORCE_PATH_STYLE",
        "AWS_REGION",
        "WALG_COMPRESSION_METHOD",
        "PGHOST",
        "PGPORT",
        "PGUSER",
        "PGDATABASE",
        "PGSSLMODE",
    ],
    secret: &["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "PGPASSWORD"],
};

/// pgbackrest.conf: only these keys are ever shown in a plan.
pub const PGBACKREST_REDACTION: Redaction = Redaction::Ini {
    public: &[
        "repo1-type",
        "repo1-s3-endpoint",
        "repo1-storage-port",
        "repo1-storage-ca-file",
        "repo1-s3-bucket",
        "repo1-s3-region",
        "repo1-s3-uri-style",
        "repo1-path",
        "repo1-retention-full",
        "repo1-retention-full-type",
        "repo1-retention-archive",
        "repo1-retention-archive-type",
        "start-fast",
        "archive-copy",
        "pg1-path",
        "pg1-host",
        "pg1-port",
        "pg1-user",
        "pg1-database",
        "pg1-socket-path",
    ],
    secret: &["repo1-s3-key", "repo1-s3-key-secret", "repo1-cipher-pass"],
    connstring_section: None,
    connstring_public: &[],
};

pub struct WalG<'a> {
    pub bucket: &'a DesiredBucket,
    /// The endpoint as WAL-G reaches it.
    pub endpoint: Option<&'a str>,
    pub ca_file: Option<&'a str>,
    pub prefix: &'a str,
    pub compression: &'a str,
}

pub fn walg_env(input: &WalG<'_>) -> String {
    let bucket = input.bucket;
    let mut out = header();
    let prefix = if input.prefix.is_empty() {
        format!("s3://{}", bucket.name)
    } else {
        format!("s3://{}/{}", bucket.name, input.prefix)
    };
    out.push_str(&format!("WALG_S3_PREFIX={prefix}\n"));
    if let Some(endpoint) = input.endpoint {
        out.push_str(&format!("AWS_ENDPOINT={endpoint}\n"));
    }
    if let Some(ca_file) = input.ca_file {
        out.push_str(&format!("WALG_S3_CA_CERT_FILE={ca_file}\n"));
    }
    out.push_str(&format!("AWS_S3_FORCE_PATH_STYLE={}\n", bucket.path_style));
    out.push_str(&format!("AWS_REGION={}\n", bucket.region));
    out.push_str(&format!("WALG_COMPRESSION_METHOD={}\n", input.compression));
    if let Some((id, secret)) = &bucket.credentials {
        out.push_str(&format!("AWS_ACCESS_KEY_ID={}\n", id.expose_secret()));
        out.push_str(&format!(
            "AWS_SECRET_ACCESS_KEY={}\n",
            secret.expose_secret()
        ));
    }
    out
}

pub struct PgBackRest<'a> {
    pub bucket: &'a DesiredBucket,
    /// The endpoint as pgBackRest reaches it.
    pub endpoint: Option<&'a str>,
    pub ca_file: Option<&'a str>,
    pub prefix: &'a str,
    pub stanza: &'a str,
    pub full_backups: u32,
    pub pg_data: &'a str,
}

pub fn pgbackrest_conf(input: &PgBackRest<'_>) -> String {
    let bucket = input.bucket;
    let mut out = header();
    out.push_str("[global]\n");
    out.push_str("repo1-type=s3\n");
    if let Some(endpoint) = input.endpoint {
        match url::Url::parse(endpoint) {
            Ok(url) => {
                out.push_str(&format!(
                    "repo1-s3-endpoint={}\n",
                    url.host_str().unwrap_or_default()
                ));
                if let Some(port) = url.port() {
                    out.push_str(&format!("repo1-storage-port={port}\n"));
                }
            }
            Err(_) => out.push_str(&format!("repo1-s3-endpoint={endpoint}\n")),
        }
    } else {
        out.push_str(&format!(
            "repo1-s3-endpoint=s3.{}.amazonaws.com\n",
            bucket.region
        ));
    }
    if let Some(ca_file) = input.ca_file {
        out.push_str(&format!("repo1-storage-ca-file={ca_file}\n"));
    }
    out.push_str(&format!("repo1-s3-bucket={}\n", bucket.name));
    out.push_str(&format!("repo1-s3-region={}\n", bucket.region));
    out.push_str(&format!(
        "repo1-s3-uri-style={}\n",
        if bucket.path_style { "path" } else { "host" }
    ));
    out.push_str(&format!("repo1-path=/{}\n", input.prefix));
    if let Some((id, secret)) = &bucket.credentials {
        out.push_str(&format!("repo1-s3-key={}\n", id.expose_secret()));
        out.push_str(&format!("repo1-s3-key-secret={}\n", secret.expose_secret()));
    }
    out.push_str(&format!("repo1-retention-full={}\n", input.full_backups));
    out.push_str("start-fast=y\n");
    out.push_str(&format!("\n[{}]\n", input.stanza));
    out.push_str(&format!("pg1-path={}\n", input.pg_data));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;

    fn bucket() -> DesiredBucket {
        DesiredBucket {
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
        insta::assert_snapshot!(walg_env(&WalG {
            bucket: &b,
            endpoint: b.endpoint.as_deref(),
            ca_file: None,
            prefix: "prod",
            compression: "lz4",
        }));
    }

    #[test]
    fn pgbackrest_configuration() {
        let b = bucket();
        insta::assert_snapshot!(pgbackrest_conf(&PgBackRest {
            bucket: &b,
            endpoint: b.endpoint.as_deref(),
            ca_file: Some("/etc/ssl/certs/minio-ca.pem"),
            prefix: "prod",
            stanza: "main",
            full_backups: 7,
            pg_data: "/var/lib/postgresql/data",
        }));
    }
}
