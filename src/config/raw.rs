//! The desired-state file exactly as written: the low-level form of `dbops.toml`.
//!
//! These types mirror the TOML and only validate its shape (unknown keys are
//! errors). They are also the source of `schemas/dbops.schema.json`, so the
//! schema editors use and the parser can never disagree. Resolving references,
//! parsing DSNs and cross-checks happen in `resolve`, never here.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

use super::secret_ref::SecretRef;
use crate::settings::value::SettingValue;

/// dbops desired-state file (`dbops.toml`).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "dbops desired-state file")]
pub struct RawConfig {
    /// How dbops reaches the server as an administrator.
    pub postgres: RawPostgres,
    /// Managed roles, by role name.
    #[serde(default)]
    pub roles: BTreeMap<String, RawRole>,
    /// Managed databases, by database name. Databases named in a role's DSN are managed too.
    #[serde(default)]
    pub databases: BTreeMap<String, RawDatabase>,
    /// Privileges: each entry declares a scope (role x database x schema x object kind)
    /// that dbops makes exactly equal to the listed privileges.
    #[serde(default)]
    pub grants: Vec<RawGrant>,
    /// Server settings (postgresql.conf overrides, via `ALTER SYSTEM`).
    pub server: Option<RawServer>,
    /// Continuous archiving: the backup tool and recovery targets.
    pub backup: Option<RawBackup>,
    /// S3-compatible buckets (AWS S3, Cloudflare R2, Backblaze B2, MinIO), by bucket name.
    #[serde(default)]
    pub bucket: BTreeMap<String, RawBucket>,
    /// The pgBouncer connection pooler in front of PostgreSQL.
    pub pooler: Option<RawPooler>,
}

/// `[pooler]`: pgBouncer's configuration, rendered and kept in sync by dbops.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawPooler {
    /// Path of `pgbouncer.ini`.
    pub config_file: String,
    /// Path of the auth file (`userlist.txt`): SCRAM verifiers, never passwords.
    pub auth_file: String,
    /// Path of the HBA file, written when `admin_console = "localhost"`. Default: beside `config_file`.
    pub hba_file: Option<String>,
    /// Host name clients use to reach the pooler (`pgbouncer`). Default: `listen_addr`, unless it is a wildcard.
    pub host: Option<String>,
    /// Default: `0.0.0.0`.
    pub listen_addr: Option<String>,
    /// Default: 6432.
    pub listen_port: Option<u16>,
    /// `session`, `transaction` or `statement`. Default: `transaction`.
    pub pool_mode: Option<String>,
    /// Default: `scram-sha-256`; anything else needs `allow_insecure_auth = true`.
    pub auth_type: Option<String>,
    /// Accept an `auth_type` other than `scram-sha-256`. Default: false.
    #[serde(default)]
    pub allow_insecure_auth: bool,
    /// `disabled` (default) or `localhost`: reachable only from 127.0.0.1 / ::1, by `admin_user`.
    pub admin_console: Option<String>,
    /// The admin console's user, with `admin_console = "localhost"`. Default: `pgbouncer_admin`.
    pub admin_user: Option<String>,
    /// The admin console user's password, with `admin_console = "localhost"`.
    pub admin_password: Option<SecretRef>,
    /// PostgreSQL as the pooler reaches it. Default: the admin DSN's host and port.
    pub backend: Option<RawBackend>,
    /// Databases the pooler serves. Default: each database named in a role's DSN.
    pub databases: Option<Vec<String>>,
    /// Owner of the files, `user` or `user:group` (the user pgBouncer runs as).
    pub owner: Option<String>,
    /// Mode of `pgbouncer.ini` and the HBA file. Default: `0640`. The auth file is always `0600`.
    pub mode: Option<String>,
    /// How to make pgBouncer reload: `admin` (the admin console), `signal` (SIGHUP to
    /// the pid in `pidfile`), or `{ command = "..." }`. Default: `admin` with the admin
    /// console on, else `signal`.
    pub reload: Option<RawReload>,
    /// Any other pgBouncer setting, verbatim.
    #[serde(default)]
    pub settings: BTreeMap<String, SettingValue>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawBackend {
    pub host: String,
    pub port: Option<u16>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum RawReload {
    /// `admin` or `signal`.
    Named(String),
    Command {
        command: String,
    },
}

/// A plain value, or a secret reference for values that should not sit in the file.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum PlainOrSecret {
    Plain(String),
    Secret(SecretRef),
}

/// `[bucket.NAME]`: one S3-compatible bucket. Only declared properties are read or changed.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawBucket {
    /// Endpoint URL (`http://minio:9000`), plain or a secret reference. Default: AWS S3.
    pub endpoint: Option<PlainOrSecret>,
    /// Region. Default: `us-east-1`.
    pub region: Option<String>,
    /// Path-style addressing (`endpoint/bucket/key`). Default: true with a custom endpoint.
    pub path_style: Option<bool>,
    /// Access key id; without both keys, the standard AWS credential chain is used.
    pub access_key_id: Option<SecretRef>,
    pub secret_access_key: Option<SecretRef>,
    /// Create the bucket when it does not exist. Default: false.
    #[serde(default)]
    pub create: bool,
    /// Object versioning: true (Enabled) or false (Suspended).
    pub versioning: Option<bool>,
    /// Default encryption: `AES256`, or a KMS key id (`aws:kms` with that key).
    pub encryption: Option<String>,
    /// Block all public access (all four settings).
    pub block_public_access: Option<bool>,
    /// Remove lifecycle rules the file does not declare. Default: false (they are kept).
    #[serde(default)]
    pub prune_lifecycle: bool,
    /// Lifecycle rules, compared by `id`.
    pub lifecycle: Option<Vec<RawLifecycleRule>>,
}

/// `[[bucket.NAME.lifecycle]]`: one lifecycle rule.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawLifecycleRule {
    pub id: String,
    /// Key prefix the rule applies to; absent for the whole bucket.
    pub prefix: Option<String>,
    /// Default: true.
    pub enabled: Option<bool>,
    pub expire_after_days: Option<i64>,
    pub noncurrent_expire_after_days: Option<i64>,
    pub transition_after_days: Option<i64>,
    /// `STANDARD_IA`, `ONEZONE_IA`, `INTELLIGENT_TIERING`, `GLACIER`, `GLACIER_IR`, `DEEP_ARCHIVE`.
    pub transition_storage_class: Option<String>,
    pub abort_incomplete_multipart_after_days: Option<i64>,
}

/// `[[grants]]`: privileges of one role on one kind of object.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawGrant {
    /// The grantee.
    pub role: String,
    /// The database the objects live in.
    pub database: String,
    /// The schema; required unless `on = "database"`.
    pub schema: Option<String>,
    /// The kind of object.
    pub on: GrantOn,
    /// Privileges, e.g. `["SELECT", "INSERT", "UPDATE", "DELETE"]`, or `["ALL"]`.
    pub privileges: Vec<String>,
    /// Also set `ALTER DEFAULT PRIVILEGES` so objects created later get these privileges.
    #[serde(default)]
    pub default: bool,
    /// With `default = true`: the role whose future objects the default privileges cover
    /// (typically the migration role).
    pub for_role: Option<String>,
}

/// What a grant covers.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, serde::Serialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum GrantOn {
    Database,
    Schema,
    Tables,
    Sequences,
    Functions,
}

/// `[server]`: server-wide configuration.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawServer {
    /// Settings by name, applied with `ALTER SYSTEM SET` and `pg_reload_conf()`.
    #[serde(default)]
    pub settings: BTreeMap<String, SettingValue>,
    /// Reset settings in postgresql.auto.conf that `settings` does not name. Default: false.
    #[serde(default)]
    pub prune: bool,
    /// Shell command that restarts PostgreSQL (e.g. `docker compose restart postgres`),
    /// run by `apply --allow-restart` when a setting waits for a restart.
    pub restart_command: Option<String>,
}

/// `[backup]`: continuous archiving with WAL-G or pgBackRest.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawBackup {
    /// `wal-g` or `pgbackrest`. Default: `wal-g`.
    pub tool: Option<BackupTool>,
    /// Recovery point objective, e.g. `5m`: `archive_timeout` must not exceed it.
    pub rpo: String,
    /// The bucket (a `[bucket.NAME]` table) that holds the backups.
    pub bucket: Option<String>,
    /// Key prefix inside the bucket.
    pub prefix: Option<String>,
    /// pgBackRest stanza. Default: `main`.
    pub stanza: Option<String>,
    /// The `archive_command` to use instead of the tool's default
    /// (`wal-g wal-push %p`, `pgbackrest --stanza=STANZA archive-push %p`).
    pub archive_command: Option<String>,
    /// Full (base) backups kept. Default: 7.
    pub full_backups: Option<u32>,
    /// How often a full backup is taken, e.g. `1d`. Default: `1d`.
    pub full_backup_interval: Option<String>,
    /// Days of WAL kept. Default: enough for the oldest kept full backup.
    pub wal_days: Option<u32>,
    /// WAL-G: write its environment (`WALG_S3_PREFIX`, `AWS_*`) to this file.
    pub env_file: Option<String>,
    /// pgBackRest: write `pgbackrest.conf` to this file.
    pub config_file: Option<String>,
    /// Owner (`user` or `user:group`) of the rendered files. Default: unchanged.
    pub file_owner: Option<String>,
    /// WAL-G compression method. Default: `lz4`.
    pub compression: Option<String>,
    /// pgBackRest `pg1-path`: the data directory. Default: `/var/lib/postgresql/data`.
    pub pg_data: Option<String>,
    /// The S3 endpoint as the backup tool reaches it, when it differs from the
    /// bucket's (another network, a TLS proxy). Default: the bucket's endpoint.
    pub tool_endpoint: Option<String>,
    /// CA certificate the backup tool trusts for its endpoint (pgBackRest
    /// `repo1-storage-ca-file`, WAL-G `WALG_S3_CA_CERT_FILE`).
    pub ca_file: Option<String>,
    /// Newest archived WAL must be younger than this. Default: twice `rpo`.
    pub max_wal_age: Option<String>,
    /// Newest full backup must be younger than this. Default: `26h`.
    pub max_base_backup_age: Option<String>,
    /// Newest `restore-tests/YYYY-MM-DD/` folder must be younger than this (e.g. `35d`). Default: not checked.
    pub restore_test_max_age: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum BackupTool {
    #[serde(rename = "wal-g")]
    WalG,
    #[serde(rename = "pgbackrest")]
    PgBackRest,
}

/// `[postgres]`: the admin connection. It is used to observe and apply, and is not itself managed.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawPostgres {
    /// The admin (superuser) DSN, for example `{ env = "DATABASE_ROOT_URL" }`.
    pub admin: SecretRef,
}

/// `[roles.NAME]`: one managed role. Every attribute defaults to PostgreSQL's own default.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRole {
    /// A DSN whose user is this role: gives its password and database, for example
    /// `{ env = "DATABASE_URL" }`. Exclusive with `password`.
    pub dsn: Option<SecretRef>,
    /// The role's password, when it has no DSN. Exclusive with `dsn`.
    pub password: Option<SecretRef>,
    /// May log in. Default: true when the role has a password or a DSN, else false.
    pub login: Option<bool>,
    /// Default: false.
    pub superuser: Option<bool>,
    /// Default: false.
    pub createdb: Option<bool>,
    /// Default: false.
    pub createrole: Option<bool>,
    /// Inherits the privileges of the roles it is a member of. Default: true.
    pub inherit: Option<bool>,
    /// Default: false.
    pub replication: Option<bool>,
    /// Bypasses row-level security. Default: false.
    pub bypass_rls: Option<bool>,
    /// Concurrent connections allowed; -1 means no limit. Default: -1.
    #[schemars(range(min = -1))]
    pub connection_limit: Option<i32>,
    /// Password expiry as an RFC 3339 timestamp (`2027-01-01T00:00:00Z`), or `infinity`. Default: never.
    pub valid_until: Option<String>,
    /// Roles this role is a member of. Memberships in other managed roles are authoritative.
    pub member_of: Option<Vec<String>>,
}

/// `[databases.NAME]`: one managed database.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawDatabase {
    /// The owning role. Default: left as it is (the admin for a database dbops creates).
    pub owner: Option<String>,
}
