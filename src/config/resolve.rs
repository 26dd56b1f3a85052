//! From the raw document to the desired state: secret references resolved, DSNs
//! parsed and cross-checked, defaults filled in. Every error names the key and
//! where it is written; none quotes a secret or a DSN.

use std::collections::{BTreeMap, BTreeSet};

use std::path::PathBuf;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use super::raw::{
    BackupTool, GrantOn, PlainOrSecret, RawBackup, RawBucket, RawConfig, RawPooler, RawReload,
    RawRole,
};
use super::secret_ref::SecretRef;
use super::source::SourceFile;
use crate::backup::desired::DesiredBackup;
use crate::backup::lint::lint as backup_lint;
use crate::backup::render::{self, SECRET_KEYS};
use crate::bucket::desired::DesiredBucket;
use crate::bucket::rule::{Rule, STORAGE_CLASSES};
use crate::dsn::Dsn;
use crate::error::{Error, Result};
use crate::grants::desired::{DesiredGrant, DesiredGrants, Scope};
use crate::grants::diff::address as grants_address;
use crate::grants::privilege::{self, noun};
use crate::managed_file::{resolve_owner, DesiredFile, Redaction};
use crate::plan::address_segment;
use crate::pooler::desired::{AdminConsole, DesiredPooler, Reload};
use crate::pooler::known as pooler_known;
use crate::pooler::lint as pooler_lint;
use crate::postgres::desired::{DesiredDatabase, DesiredPostgres, DesiredRole, RoleAttributes};
use crate::settings::archive;
use crate::settings::desired::{DesiredSetting, DesiredSettings, Origin};

/// Everything the file declares, resolved.
#[derive(Debug, Clone)]
pub struct DesiredState {
    pub admin: Dsn,
    /// `$DATABASE_ROOT_URL`-style name of where the admin DSN came from.
    pub admin_source: String,
    pub postgres: DesiredPostgres,
    pub grants: DesiredGrants,
    pub settings: DesiredSettings,
    pub buckets: Vec<DesiredBucket>,
    pub backup: Option<DesiredBackup>,
    pub pooler: Option<DesiredPooler>,
}

/// PostgreSQL's identifier limit (NAMEDATALEN - 1), in bytes.
const MAX_NAME_BYTES: usize = 63;

pub fn resolve(raw: &RawConfig, source: &SourceFile) -> Result<(DesiredState, Vec<String>)> {
    let mut warnings = Vec::new();
    let admin_ref = &raw.postgres.admin;
    let admin = resolve_dsn(admin_ref, source, &["postgres", "admin"])?;

    let mut roles = BTreeMap::new();
    let mut databases: BTreeMap<String, DesiredDatabase> = BTreeMap::new();
    for (name, role) in &raw.roles {
        let desired = resolve_role(name, role, source, &admin, admin_ref)?;
        if let Some(dsn) = &desired.dsn {
            databases
                .entry(dsn.database.clone())
                .or_insert_with(|| DesiredDatabase {
                    name: dsn.database.clone(),
                    ..Default::default()
                })
                .connect
                .insert(name.clone());
        }
        roles.insert(name.clone(), desired);
    }
    for (name, database) in &raw.databases {
        let at = source.locate(&["databases", name]);
        check_name(name, "database", at.clone())?;
        let entry = databases
            .entry(name.clone())
            .or_insert_with(|| DesiredDatabase {
                name: name.clone(),
                ..Default::default()
            });
        if let Some(owner) = &database.owner {
            let at = source.locate(&["databases", name, "owner"]);
            check_name(owner, "owner", at)?;
            entry.owner = Some(owner.clone());
        }
    }
    let grants = resolve_grants(raw, source, &roles, &mut databases)?;
    let settings = resolve_settings(raw, source, &mut warnings)?;
    let mut buckets = Vec::new();
    for (name, bucket) in &raw.bucket {
        buckets.push(resolve_bucket(name, bucket, source)?);
    }
    let backup = match &raw.backup {
        Some(backup) => Some(resolve_backup(backup, &buckets, source, &mut warnings)?),
        None => None,
    };
    let pooler = match &raw.pooler {
        Some(pooler) => Some(resolve_pooler(raw, pooler, source, &admin, &roles)?),
        None => None,
    };
    let desired = DesiredState {
        admin,
        admin_source: admin_ref.source_name(),
        postgres: DesiredPostgres { roles, databases },
        grants,
        settings,
        buckets,
        backup,
        pooler,
    };
    Ok((desired, warnings))
}

fn resolve_grants(
    raw: &RawConfig,
    source: &SourceFile,
    roles: &BTreeMap<String, DesiredRole>,
    databases: &mut BTreeMap<String, DesiredDatabase>,
) -> Result<DesiredGrants> {
    let mut grants = DesiredGrants::default();
    for (index, grant) in raw.grants.iter().enumerate() {
        let i = index.to_string();
        let at = |key: &str| source.locate(&["grants", &i, key]);
        let key = |name: &str| format!("key `grants[{index}].{name}`");
        check_name(&grant.role, "role", at("role"))?;
        check_name(&grant.database, "database", at("database"))?;
        let schema = match (grant.on, &grant.schema) {
            (GrantOn::Database, Some(_)) => {
                return Err(Error::new(format!(
                    "{}: a database-level grant takes no schema",
                    key("schema")
                ))
                .at(at("schema"))
                .hint("remove `schema`, or choose `on = \"schema\"` or an object kind"))
            }
            (GrantOn::Database, None) => None,
            (_, None) => {
                return Err(Error::new(format!(
                    "grants[{index}]: `on = \"{}\"` needs a `schema`",
                    noun(grant.on)
                ))
                .at(at("on"))
                .hint("add `schema = \"public\"` (or the schema the objects live in)"))
            }
            (_, Some(schema)) => {
                check_name(schema, "schema", at("schema"))?;
                Some(schema.clone())
            }
        };
        if grant.privileges.is_empty() {
            return Err(Error::new(format!("{}: lists no privileges", key("privileges")))
                .at(at("privileges"))
                .hint("list the privileges the role must hold; to revoke everything, list them in another scope or drop the grant"));
        }
        let mut privileges = BTreeSet::new();
        for (j, written) in grant.privileges.iter().enumerate() {
            let parsed = privilege::parse(grant.on, written).map_err(|why| {
                Error::new(format!("{}: {why}", key("privileges"))).at(source.locate(&[
                    "grants",
                    &i,
                    "privileges",
                    &j.to_string(),
                ]))
            })?;
            privileges.extend(parsed.into_iter().map(str::to_string));
        }
        let default_for = match (grant.default, &grant.for_role) {
            (true, _) if matches!(grant.on, GrantOn::Database | GrantOn::Schema) => {
                return Err(Error::new(format!(
                    "{}: default privileges apply to tables, sequences or functions, not to {}",
                    key("default"),
                    noun(grant.on)
                ))
                .at(at("default")))
            }
            (true, None) => {
                return Err(Error::new(format!(
                "{}: default privileges need `for_role`, the role whose future objects they cover",
                key("default")
            ))
                .at(at("default"))
                .hint("add `for_role = \"migrator\"` (the role your migrations run as)"))
            }
            (true, Some(creator)) => {
                check_name(creator, "role", at("for_role"))?;
                Some(creator.clone())
            }
            (false, Some(_)) => {
                return Err(Error::new(format!(
                    "{}: only applies with `default = true`",
                    key("for_role")
                ))
                .at(at("for_role")))
            }
            (false, None) => None,
        };
        let scope = Scope {
            role: grant.role.clone(),
            database: grant.database.clone(),
            schema,
            on: grant.on,
        };
        // A DSN role keeps CONNECT on its own database even when the scope is declared.
        if grant.on == GrantOn::Database {
            let dsn_database = roles
                .get(&grant.role)
                .and_then(|r| r.dsn.as_ref())
                .map(|d| d.database.clone());
            if dsn_database.as_deref() == Some(grant.database.as_str()) {
                privileges.insert("CONNECT".to_string());
                if let Some(database) = databases.get_mut(&grant.database) {
                    database.connect.remove(&grant.role);
                }
            }
        }
        let desired = DesiredGrant {
            scope: scope.clone(),
            privileges,
            default_for,
        };
        if grants.grants.insert(scope.clone(), desired).is_some() {
            return Err(Error::new(format!(
                "grants[{index}] declares `{}` a second time",
                grants_address(&scope)
            ))
            .at(at("role"))
            .hint("merge the two entries into one"));
        }
    }
    Ok(grants)
}

fn secret(reference: &SecretRef, source: &SourceFile, path: &[&str]) -> Result<SecretString> {
    reference.resolve().map_err(|e| {
        let error = Error::new(format!("key `{}`: {e}", path.join("."))).at(source.locate(path));
        match reference {
            SecretRef::Env(name) => error.hint(format!("export `{name}` before running dbops")),
            SecretRef::File(_) => error.hint("check the path and that dbops may read it"),
        }
    })
}

fn resolve_bucket(name: &str, raw: &RawBucket, source: &SourceFile) -> Result<DesiredBucket> {
    let at = |keys: &[&str]| {
        let mut path = vec!["bucket", name];
        path.extend_from_slice(keys);
        source.locate(&path)
    };
    if name.len() < 3
        || name.len() > 63
        || !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
    {
        return Err(Error::new(format!(
            "`{name}` is not a valid bucket name: 3 to 63 lowercase letters, digits, `-` and `.`"
        ))
        .at(at(&[])));
    }
    let endpoint = match &raw.endpoint {
        None => None,
        Some(PlainOrSecret::Plain(text)) => Some(text.clone()),
        Some(PlainOrSecret::Secret(reference)) => Some(
            secret(reference, source, &["bucket", name, "endpoint"])?
                .expose_secret()
                .to_string(),
        ),
    };
    if let Some(endpoint) = &endpoint {
        let ok = url::Url::parse(endpoint)
            .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
        if !ok {
            return Err(
                Error::new(format!("key `bucket.{name}.endpoint`: not an http(s) URL"))
                    .at(at(&["endpoint"]))
                    .hint(
                        "write e.g. `https://s3.eu-central-1.amazonaws.com` or `http://minio:9000`",
                    ),
            );
        }
    }
    let credentials = match (&raw.access_key_id, &raw.secret_access_key) {
        (Some(id), Some(key)) => Some((
            secret(id, source, &["bucket", name, "access_key_id"])?,
            secret(key, source, &["bucket", name, "secret_access_key"])?,
        )),
        (None, None) => None,
        _ => {
            return Err(Error::new(format!(
                "bucket `{name}` sets only one of `access_key_id` and `secret_access_key`"
            ))
            .at(at(&[]))
            .hint("set both, or neither to use the standard AWS credential chain"))
        }
    };
    if let Some(encryption) = &raw.encryption {
        if encryption.trim().is_empty() {
            return Err(
                Error::new(format!("key `bucket.{name}.encryption` is empty"))
                    .at(at(&["encryption"]))
                    .hint("write `AES256` or a KMS key id"),
            );
        }
    }
    let lifecycle = match &raw.lifecycle {
        None => None,
        Some(rules) => {
            let mut out: Vec<Rule> = Vec::new();
            for (index, rule) in rules.iter().enumerate() {
                let i = index.to_string();
                let key = |k: &str| format!("key `bucket.{name}.lifecycle[{index}].{k}`");
                let rule_at = |k: &str| at(&["lifecycle", &i, k]);
                if rule.id.trim().is_empty() {
                    return Err(
                        Error::new(format!("{}: a rule needs an id", key("id"))).at(rule_at("id"))
                    );
                }
                if out.iter().any(|r| r.id == rule.id) {
                    return Err(Error::new(format!(
                        "{}: lifecycle rule id `{}` is used twice; ids identify rules",
                        key("id"),
                        rule.id
                    ))
                    .at(rule_at("id")));
                }
                for (field, value) in [
                    ("expire_after_days", rule.expire_after_days),
                    (
                        "noncurrent_expire_after_days",
                        rule.noncurrent_expire_after_days,
                    ),
                    ("transition_after_days", rule.transition_after_days),
                    (
                        "abort_incomplete_multipart_after_days",
                        rule.abort_incomplete_multipart_after_days,
                    ),
                ] {
                    if let Some(days) = value {
                        if days < 0 || days > i64::from(i32::MAX) {
                            return Err(Error::new(format!(
                                "{}: {days} is not a number of days",
                                key(field)
                            ))
                            .at(rule_at(field))
                            .hint("use a whole number of days, 0 or more"));
                        }
                    }
                }
                let transition = match (rule.transition_after_days, &rule.transition_storage_class) {
                    (Some(days), Some(class)) => {
                        if !STORAGE_CLASSES.contains(&class.as_str()) {
                            return Err(Error::new(format!(
                                "{}: `{class}` is not a storage class; valid: {}",
                                key("transition_storage_class"),
                                STORAGE_CLASSES.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ")
                            ))
                            .at(rule_at("transition_storage_class")));
                        }
                        Some((days, class.clone()))
                    }
                    (None, None) => None,
                    _ => {
                        return Err(Error::new(format!(
                            "lifecycle rule `{}` needs both `transition_after_days` and `transition_storage_class`",
                            rule.id
                        ))
                        .at(rule_at("id")))
                    }
                };
                let normalized = Rule {
                    id: rule.id.clone(),
                    prefix: rule.prefix.clone().unwrap_or_default(),
                    enabled: rule.enabled.unwrap_or(true),
                    expire_after_days: rule.expire_after_days,
                    noncurrent_expire_after_days: rule.noncurrent_expire_after_days,
                    transition,
                    abort_incomplete_multipart_after_days: rule
                        .abort_incomplete_multipart_after_days,
                };
                if normalized.expire_after_days.is_none()
                    && normalized.noncurrent_expire_after_days.is_none()
                    && normalized.transition.is_none()
                    && normalized.abort_incomplete_multipart_after_days.is_none()
                {
                    return Err(Error::new(format!("lifecycle rule `{}` has no action", rule.id))
                        .at(rule_at("id"))
                        .hint("add an expiry, a transition or `abort_incomplete_multipart_after_days`"));
                }
                out.push(normalized);
            }
            out.sort_by(|a, b| a.id.cmp(&b.id));
            Some(out)
        }
    };
    Ok(DesiredBucket {
        name: name.to_string(),
        path_style: raw.path_style.unwrap_or(endpoint.is_some()),
        endpoint,
        region: raw
            .region
            .clone()
            .unwrap_or_else(|| "us-east-1".to_string()),
        credentials,
        create: raw.create,
        versioning: raw.versioning,
        encryption: raw.encryption.clone(),
        block_public_access: raw.block_public_access,
        lifecycle,
        prune_lifecycle: raw.prune_lifecycle,
    })
}

fn duration(
    text: &Option<String>,
    default: Duration,
    key: &str,
    source: &SourceFile,
) -> Result<Duration> {
    match text {
        None => Ok(default),
        Some(text) => humantime::parse_duration(text).map_err(|e| {
            Error::new(format!(
                "key `backup.{key}`: `{text}` is not a duration ({e})"
            ))
            .at(source.locate(&["backup", key]))
            .hint("write e.g. `26h`, `35d` or `10m`")
        }),
    }
}

fn resolve_backup(
    raw: &RawBackup,
    buckets: &[DesiredBucket],
    source: &SourceFile,
    warnings: &mut Vec<String>,
) -> Result<DesiredBackup> {
    let tool = raw.tool.unwrap_or(BackupTool::WalG);
    let rpo = duration(&Some(raw.rpo.clone()), Duration::ZERO, "rpo", source)?;
    let bucket = match &raw.bucket {
        None => None,
        Some(name) => Some(buckets.iter().find(|b| &b.name == name).ok_or_else(|| {
            Error::new(format!(
                "key `backup.bucket`: `{name}` has no `[bucket.{name}]` table"
            ))
            .at(source.locate(&["backup", "bucket"]))
            .hint(format!(
                "declare `[bucket.{name}]` with its endpoint and credentials"
            ))
        })?),
    };
    let mut backup = DesiredBackup {
        tool,
        rpo,
        bucket: bucket.map(|b| b.name.clone()),
        prefix: raw
            .prefix
            .clone()
            .unwrap_or_default()
            .trim_matches('/')
            .to_string(),
        stanza: raw.stanza.clone().unwrap_or_else(|| "main".to_string()),
        full_backups: raw.full_backups.unwrap_or(7).max(1),
        full_backup_interval: duration(
            &raw.full_backup_interval,
            Duration::from_secs(86_400),
            "full_backup_interval",
            source,
        )?,
        wal_days: raw.wal_days,
        max_wal_age: duration(&raw.max_wal_age, rpo * 2, "max_wal_age", source)?,
        max_base_backup_age: duration(
            &raw.max_base_backup_age,
            Duration::from_secs(26 * 3600),
            "max_base_backup_age",
            source,
        )?,
        restore_test_max_age: match &raw.restore_test_max_age {
            None => None,
            some => Some(duration(
                some,
                Duration::ZERO,
                "restore_test_max_age",
                source,
            )?),
        },
        files: Vec::new(),
    };
    let owner = match &raw.file_owner {
        None => None,
        Some(text) => {
            let (uid, gid) = resolve_owner(text).map_err(|why| {
                Error::new(format!("key `backup.file_owner`: {why}"))
                    .at(source.locate(&["backup", "file_owner"]))
            })?;
            Some((uid, gid, text.clone()))
        }
    };
    let needs_bucket = |key: &str| {
        Error::new(format!(
            "key `backup.{key}`: rendering it needs `backup.bucket`, a declared `[bucket.NAME]`"
        ))
        .at(source.locate(&["backup", key]))
    };
    let file = |path: &str, content: String| DesiredFile {
        address: format!("backup.file.{}", file_segment(path)),
        path: PathBuf::from(path),
        content,
        mode: 0o600,
        owner: owner.clone(),
        redaction: Redaction::Keys(SECRET_KEYS.iter().map(|k| k.to_string()).collect()),
    };
    match (tool, &raw.env_file, &raw.config_file) {
        (BackupTool::WalG, Some(path), None) => {
            let bucket = bucket.ok_or_else(|| needs_bucket("env_file"))?;
            let content = render::walg_env(&render::WalG {
                bucket,
                endpoint: raw.tool_endpoint.as_deref().or(bucket.endpoint.as_deref()),
                ca_file: raw.ca_file.as_deref(),
                prefix: &backup.prefix,
                compression: raw.compression.as_deref().unwrap_or("lz4"),
            });
            backup.files.push(file(path, content));
        }
        (BackupTool::PgBackRest, None, Some(path)) => {
            let bucket = bucket.ok_or_else(|| needs_bucket("config_file"))?;
            let content = render::pgbackrest_conf(&render::PgBackRest {
                bucket,
                endpoint: raw.tool_endpoint.as_deref().or(bucket.endpoint.as_deref()),
                ca_file: raw.ca_file.as_deref(),
                prefix: &backup.prefix,
                stanza: &backup.stanza,
                full_backups: backup.full_backups,
                pg_data: raw.pg_data.as_deref().unwrap_or("/var/lib/postgresql/data"),
            });
            backup.files.push(file(path, content));
        }
        (_, None, None) => {}
        (BackupTool::WalG, _, Some(_)) => {
            return Err(Error::new(
                "key `backup.config_file` is for pgBackRest; WAL-G takes `env_file`",
            )
            .at(source.locate(&["backup", "config_file"])))
        }
        (BackupTool::PgBackRest, Some(_), _) => {
            return Err(Error::new(
                "key `backup.env_file` is for WAL-G; pgBackRest takes `config_file`",
            )
            .at(source.locate(&["backup", "env_file"])))
        }
    }
    if let Some(bucket) = bucket {
        for lint in backup_lint(&backup, bucket) {
            let at = source.locate(&["bucket", &bucket.name]);
            if lint.error {
                return Err(Error::new(lint.message)
                    .at(at)
                    .hint("fix the lifecycle rule or the retention"));
            }
            let prefix = at.map(|l| format!("{l}: ")).unwrap_or_default();
            warnings.push(format!("{prefix}{}", lint.message));
        }
    }
    Ok(backup)
}

fn resolve_pooler(
    raw_config: &RawConfig,
    raw: &RawPooler,
    source: &SourceFile,
    admin: &Dsn,
    roles: &BTreeMap<String, DesiredRole>,
) -> Result<DesiredPooler> {
    let at = |key: &str| source.locate(&["pooler", key]);
    let listen_addr = raw
        .listen_addr
        .clone()
        .unwrap_or_else(|| "0.0.0.0".to_string());
    let listen_port = raw.listen_port.unwrap_or(6432);
    let pool_mode = raw
        .pool_mode
        .clone()
        .unwrap_or_else(|| "transaction".to_string());
    if !matches!(pool_mode.as_str(), "session" | "transaction" | "statement") {
        return Err(Error::new(format!(
            "key `pooler.pool_mode`: `{pool_mode}` is not `session`, `transaction` or `statement`"
        ))
        .at(at("pool_mode")));
    }
    let auth_type = raw
        .auth_type
        .clone()
        .unwrap_or_else(|| "scram-sha-256".to_string());
    if auth_type != "scram-sha-256" && !raw.allow_insecure_auth {
        return Err(Error::new(format!(
            "key `pooler.auth_type`: `{auth_type}` is weaker than `scram-sha-256`; pgBouncer is the trust boundary"
        ))
        .at(at("auth_type"))
        .hint("use `scram-sha-256`, or set `allow_insecure_auth = true` if you must"));
    }
    let admin_console = match raw.admin_console.as_deref().unwrap_or("disabled") {
        "disabled" => AdminConsole::Disabled,
        "localhost" => {
            let Some(reference) = &raw.admin_password else {
                return Err(Error::new(
                    "`admin_console = \"localhost\"` needs `admin_password`, a secret reference",
                )
                .at(at("admin_console"))
                .hint("add `admin_password = { env = \"PGBOUNCER_ADMIN_PASSWORD\" }`"));
            };
            AdminConsole::Localhost {
                user: raw
                    .admin_user
                    .clone()
                    .unwrap_or_else(|| "pgbouncer_admin".to_string()),
                password: secret(reference, source, &["pooler", "admin_password"])?,
            }
        }
        other => {
            return Err(Error::new(format!(
                "key `pooler.admin_console`: `{other}` is not `disabled` or `localhost`"
            ))
            .at(at("admin_console")))
        }
    };
    let mut settings = BTreeMap::new();
    for (name, value) in &raw.settings {
        let setting_at = source.locate(&["pooler", "settings", name]);
        if !pooler_known::SETTINGS.contains(&name.as_str()) {
            let mut error = Error::new(format!(
                "key `pooler.settings.{name}`: pgBouncer has no setting `{name}`"
            ))
            .at(setting_at);
            if let Some(close) = pooler_known::suggest(name) {
                error = error.hint(format!("did you mean `{close}`?"));
            }
            return Err(error);
        }
        if pooler_known::OWNED.contains(&name.as_str()) {
            return Err(Error::new(format!(
                "key `pooler.settings.{name}`: set it as `pooler.{name}`, which dbops owns"
            ))
            .at(setting_at));
        }
        let admin_like = matches!(name.as_str(), "admin_users" | "stats_users");
        if admin_like
            && matches!(admin_console, AdminConsole::Localhost { .. })
            && name == "admin_users"
        {
            return Err(Error::new(
                "key `pooler.settings.admin_users`: dbops sets it from `admin_user`",
            )
            .at(setting_at));
        }
        if admin_like
            && !matches!(admin_console, AdminConsole::Localhost { .. })
            && !pooler_lint::is_loopback(&listen_addr)
        {
            return Err(Error::new(format!(
                "`pooler.settings.{name}` opens the admin console while pgBouncer listens on `{listen_addr}` and `admin_console` is not `localhost`"
            ))
            .at(setting_at)
            .hint("set `admin_console = \"localhost\"` (dbops then confines the console to loopback), or remove the setting"));
        }
        settings.insert(name.clone(), value.to_config_text());
    }
    let host = match (&raw.host, pooler_lint::is_wildcard(&listen_addr)) {
        (Some(host), _) => host.clone(),
        (None, false) => listen_addr.split(',').next().unwrap_or_default().trim().to_string(),
        (None, true) => {
            return Err(Error::new(format!(
                "`pooler.host` is needed: pgBouncer listens on `{listen_addr}`, so dbops cannot tell which address clients use"
            ))
            .at(source.locate(&["pooler"]))
            .hint("set `host = \"pgbouncer\"` (the name the application connects to)"))
        }
    };
    let (backend_host, backend_port) = match &raw.backend {
        None => (admin.host.clone(), admin.port),
        Some(backend) => (backend.host.clone(), backend.port.unwrap_or(5432)),
    };
    let admin_source = raw_config.postgres.admin.source_name();
    if admin.host != backend_host || admin.port != backend_port {
        return Err(Error::new(format!(
            "`{admin_source}` does not point at the backend the pooler uses (`pooler.backend`): dbops must reach PostgreSQL directly"
        ))
        .at(at("backend")));
    }
    for (name, role) in roles {
        let Some(dsn) = &role.dsn else { continue };
        let reference = raw_config
            .roles
            .get(name)
            .and_then(|r| r.dsn.as_ref())
            .map(|r| r.source_name())
            .unwrap_or_default();
        if dsn.host == backend_host && dsn.port == backend_port {
            return Err(Error::new(format!(
                "`{reference}` points at PostgreSQL itself; with `[pooler]` declared, the application must reach only the pooler"
            ))
            .at(source.locate(&["roles", name, "dsn"]))
            .hint(format!("point it at `{host}:{listen_port}`")));
        }
        if dsn.host != host || dsn.port != listen_port {
            return Err(Error::new(format!(
                "`{reference}` does not point at the pooler (`pooler.host`:`pooler.listen_port`)"
            ))
            .at(source.locate(&["roles", name, "dsn"]))
            .hint(format!("point it at `{host}:{listen_port}`")));
        }
    }
    let mut databases: Vec<String> = match &raw.databases {
        Some(list) => list.clone(),
        None => roles
            .values()
            .filter_map(|r| r.dsn.as_ref().map(|d| d.database.clone()))
            .collect(),
    };
    databases.sort();
    databases.dedup();
    for database in &databases {
        if !database
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(Error::new(format!(
                "database `{database}` cannot be named in pgbouncer.ini; use letters, digits, `_` and `-`"
            ))
            .at(at("databases")));
        }
    }
    let owner = match &raw.owner {
        None => None,
        Some(text) => {
            let (uid, gid) = resolve_owner(text)
                .map_err(|why| Error::new(format!("key `pooler.owner`: {why}")).at(at("owner")))?;
            Some((uid, gid, text.clone()))
        }
    };
    let mode = match &raw.mode {
        None => 0o640,
        Some(text) => u32::from_str_radix(text.trim_start_matches("0o"), 8)
            .ok()
            .filter(|m| *m <= 0o777 && m & 0o007 == 0)
            .ok_or_else(|| {
                Error::new(format!(
                    "key `pooler.mode`: `{text}` is not an octal mode without access for others"
                ))
                .at(at("mode"))
                .hint("write e.g. `0640`")
            })?,
    };
    let reload = match &raw.reload {
        Some(RawReload::Named(name)) if name == "admin" => {
            if !matches!(admin_console, AdminConsole::Localhost { .. }) {
                return Err(Error::new(
                    "`reload = \"admin\"` needs `admin_console = \"localhost\"`",
                )
                .at(at("reload")));
            }
            Reload::Admin
        }
        Some(RawReload::Named(name)) if name == "signal" => Reload::Signal,
        Some(RawReload::Named(other)) => {
            return Err(Error::new(format!(
                "key `pooler.reload`: `{other}` is not `admin`, `signal` or `{{ command = ... }}`"
            ))
            .at(at("reload")))
        }
        Some(RawReload::Command { command }) => Reload::Command(command.clone()),
        None if matches!(admin_console, AdminConsole::Localhost { .. }) => Reload::Admin,
        None => Reload::Signal,
    };
    if reload == Reload::Signal && !settings.contains_key("pidfile") {
        return Err(Error::new("reloading pgBouncer by signal needs `pidfile` in `[pooler.settings]`")
            .at(source.locate(&["pooler"]))
            .hint("set `pidfile`, or `admin_console = \"localhost\"`, or `reload = { command = \"...\" }`"));
    }
    let config_path = PathBuf::from(&raw.config_file);
    let hba_path = match &raw.hba_file {
        Some(path) => PathBuf::from(path),
        None => config_path.with_file_name("pgbouncer_hba.conf"),
    };
    let users = roles
        .values()
        .filter(|r| r.password.is_some() && r.attributes.login)
        .map(|r| r.name.clone())
        .collect();
    Ok(DesiredPooler {
        config_path,
        auth_path: PathBuf::from(&raw.auth_file),
        hba_path,
        host,
        listen_addr,
        listen_port,
        pool_mode,
        auth_type,
        admin: admin_console,
        backend_host,
        backend_port,
        databases,
        owner,
        mode,
        reload,
        settings,
        users,
    })
}

/// A file's name as an address segment: dots allowed (`pgbouncer.ini`).
pub fn file_segment(path: &str) -> String {
    let name = std::path::Path::new(path)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.to_string());
    if name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        name
    } else {
        address_segment(&name)
    }
}

fn resolve_settings(
    raw: &RawConfig,
    source: &SourceFile,
    warnings: &mut Vec<String>,
) -> Result<DesiredSettings> {
    let mut desired = DesiredSettings::default();
    if let Some(server) = &raw.server {
        desired.prune = server.prune;
        desired.restart_command = server.restart_command.clone();
        for (name, value) in &server.settings {
            let at = source.locate(&["server", "settings", name]);
            let lower = name.to_ascii_lowercase();
            if lower.is_empty()
                || !lower
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
            {
                return Err(Error::new(format!("`{name}` is not a setting name")).at(at));
            }
            if desired.settings.contains_key(&lower) {
                return Err(Error::new(format!(
                    "setting `{lower}` is written twice (names are case-insensitive)"
                ))
                .at(at));
            }
            desired.settings.insert(
                lower.clone(),
                DesiredSetting {
                    name: lower,
                    value: value.to_config_text(),
                    origin: Origin::File,
                },
            );
        }
    }
    if let Some(backup) = &raw.backup {
        let rpo = humantime::parse_duration(&backup.rpo).map_err(|e| {
            Error::new(format!(
                "key `backup.rpo`: `{}` is not a duration ({e})",
                backup.rpo
            ))
            .at(source.locate(&["backup", "rpo"]))
            .hint("write e.g. `5m` or `1h`")
        })?;
        for (name, value) in archive::derive(backup, rpo) {
            desired
                .settings
                .entry(name.clone())
                .or_insert(DesiredSetting {
                    name,
                    value,
                    origin: Origin::Backup,
                });
        }
        let effective: BTreeMap<String, String> = desired
            .settings
            .iter()
            .map(|(k, v)| (k.clone(), v.value.clone()))
            .collect();
        for lint in archive::lint(&backup.rpo, rpo, &effective) {
            let at = match desired.settings.get(lint.setting).map(|s| s.origin) {
                Some(Origin::File) => source.locate(&["server", "settings", lint.setting]),
                _ => source.locate(&["backup"]),
            };
            if lint.error {
                return Err(Error::new(lint.message).at(at).hint(
                    "fix the setting, or remove `[backup]` if this server is not backed up",
                ));
            }
            let prefix = at.map(|l| format!("{l}: ")).unwrap_or_default();
            warnings.push(format!("{prefix}{}", lint.message));
        }
    }
    Ok(desired)
}

fn resolve_dsn(reference: &SecretRef, source: &SourceFile, path: &[&str]) -> Result<Dsn> {
    let at = source.locate(path);
    let key = path.join(".");
    let secret = reference.resolve().map_err(|e| {
        let error = Error::new(format!("key `{key}`: {e}")).at(at.clone());
        match reference {
            SecretRef::Env(name) => error.hint(format!("export `{name}` before running dbops")),
            SecretRef::File(_) => error.hint("check the path and that dbops may read it"),
        }
    })?;
    use secrecy::ExposeSecret;
    Dsn::parse(secret.expose_secret()).map_err(|e| {
        Error::new(format!(
            "key `{key}`: the DSN in `{}` is {}",
            reference.source_name(),
            e.to_string().trim_start_matches("the URL ")
        ))
        .at(at)
        .hint("expected `postgres://USER:PASSWORD@HOST:PORT/DATABASE`, with reserved characters in the user and password percent-encoded")
    })
}

fn resolve_role(
    name: &str,
    role: &RawRole,
    source: &SourceFile,
    admin: &Dsn,
    admin_ref: &SecretRef,
) -> Result<DesiredRole> {
    let role_at = source.locate(&["roles", name]);
    check_name(name, "role", role_at.clone())?;
    if name.starts_with("pg_") {
        return Err(Error::new(format!(
            "role `{name}`: names beginning with `pg_` are reserved for PostgreSQL's built-in roles"
        ))
        .at(role_at));
    }

    let (dsn, password) = match (&role.dsn, &role.password) {
        (Some(_), Some(_)) => {
            return Err(Error::new(format!(
                "role `{name}` sets both `dsn` and `password`; the DSN already carries the password"
            ))
            .at(source.locate(&["roles", name, "password"]))
            .hint("keep `dsn` and remove `password`"))
        }
        (Some(reference), None) => {
            let path = ["roles", name, "dsn"];
            let dsn = resolve_dsn(reference, source, &path)?;
            let at = source.locate(&path);
            if dsn.user != name {
                return Err(Error::new(format!(
                    "role `{name}`: the DSN in `{}` is for user `{}`, not `{name}`",
                    reference.source_name(),
                    dsn.user
                ))
                .at(at)
                .hint(format!(
                    "rename the table to `[roles.{}]` or point `dsn` at the DSN of `{name}`",
                    dsn.user
                )));
            }
            if dsn.user == admin.user {
                let mut error = Error::new(format!(
                    "role `{name}` is the admin user of `{}`; dbops connects as the admin and does not manage it",
                    admin_ref.source_name()
                ))
                .at(at.clone());
                if !dsn.same_password(admin) {
                    error = error.cause(format!(
                        "`{}` and `{}` name the same user with different passwords",
                        admin_ref.source_name(),
                        reference.source_name()
                    ));
                }
                return Err(error.hint("give the application its own role"));
            }
            let login = role.login.unwrap_or(true);
            if dsn.password().is_none() && login {
                return Err(Error::new(format!(
                    "role `{name}`: the DSN in `{}` has no password, and `{name}` is a login role",
                    reference.source_name()
                ))
                .at(at)
                .hint("put the password in the DSN, percent-encoded: `postgres://USER:PASSWORD@HOST/DATABASE`"));
            }
            check_name(&dsn.database, "database", at)?;
            let password = dsn.password().cloned();
            (Some(dsn), password)
        }
        (None, Some(reference)) => {
            let at = source.locate(&["roles", name, "password"]);
            let secret = reference
                .resolve()
                .map_err(|e| Error::new(format!("key `roles.{name}.password`: {e}")).at(at))?;
            (None, Some(secret))
        }
        (None, None) => (None, None),
    };

    let connection_limit = role.connection_limit.unwrap_or(-1);
    if connection_limit < -1 {
        return Err(Error::new(format!(
            "key `roles.{name}.connection_limit`: {connection_limit} is not a connection limit"
        ))
        .at(source.locate(&["roles", name, "connection_limit"]))
        .hint("use a number of connections, or -1 for no limit"));
    }
    let valid_until = match &role.valid_until {
        None => None,
        Some(text) => normalize_valid_until(text).map_err(|why| {
            Error::new(format!("key `roles.{name}.valid_until`: {why}"))
                .at(source.locate(&["roles", name, "valid_until"]))
                .hint("write an RFC 3339 UTC timestamp such as `2027-01-01T00:00:00Z`, a date such as `2027-01-01`, or `infinity`")
        })?,
    };

    let mut member_of = BTreeSet::new();
    for (index, group) in role.member_of.iter().flatten().enumerate() {
        let at = source.locate(&["roles", name, "member_of", &index.to_string()]);
        check_name(group, "role", at.clone())?;
        if group == name {
            return Err(Error::new(format!("role `{name}` cannot be a member of itself")).at(at));
        }
        member_of.insert(group.clone());
    }

    let has_password = password.is_some();
    Ok(DesiredRole {
        name: name.to_string(),
        attributes: RoleAttributes {
            login: role.login.unwrap_or(has_password || dsn.is_some()),
            superuser: role.superuser.unwrap_or(false),
            createdb: role.createdb.unwrap_or(false),
            createrole: role.createrole.unwrap_or(false),
            inherit: role.inherit.unwrap_or(true),
            replication: role.replication.unwrap_or(false),
            bypass_rls: role.bypass_rls.unwrap_or(false),
            connection_limit,
            valid_until,
        },
        password,
        dsn,
        member_of,
    })
}

fn check_name(name: &str, what: &str, at: Option<crate::error::Location>) -> Result<()> {
    if name.is_empty() {
        return Err(Error::new(format!("a {what} name cannot be empty")).at(at));
    }
    if name.len() > MAX_NAME_BYTES {
        return Err(Error::new(format!(
            "{what} name `{name}` is {} bytes long; PostgreSQL allows at most {MAX_NAME_BYTES}",
            name.len()
        ))
        .at(at));
    }
    if name.contains('\0') {
        return Err(Error::new(format!("{what} name contains a NUL byte")).at(at));
    }
    Ok(())
}

/// `infinity` -> `None`; a date or RFC 3339 UTC timestamp -> `YYYY-MM-DDTHH:MM:SSZ`.
pub fn normalize_valid_until(text: &str) -> std::result::Result<Option<String>, String> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("infinity") {
        return Ok(None);
    }
    let utc = if text.len() == 10 {
        Some(format!("{text}T00:00:00"))
    } else {
        text.strip_suffix('Z')
            .or_else(|| text.strip_suffix("+00:00"))
            .map(str::to_string)
    };
    let time = utc
        .and_then(|t| humantime::parse_rfc3339_weak(&t).ok())
        .ok_or_else(|| format!("`{text}` is not a UTC timestamp"))?;
    Ok(Some(humantime::format_rfc3339_seconds(time).to_string()))
}

#[cfg(test)]
mod tests {
    use super::normalize_valid_until;

    #[test]
    fn valid_until_normalizes() {
        assert_eq!(normalize_valid_until("infinity").unwrap(), None);
        assert_eq!(
            normalize_valid_until("2027-01-01").unwrap().as_deref(),
            Some("2027-01-01T00:00:00Z")
        );
        assert_eq!(
            normalize_valid_until("2027-01-01T10:20:30Z")
                .unwrap()
                .as_deref(),
            Some("2027-01-01T10:20:30Z")
        );
        assert_eq!(
            normalize_valid_until("2027-01-01T10:20:30+00:00")
                .unwrap()
                .as_deref(),
            Some("2027-01-01T10:20:30Z")
        );
        assert!(normalize_valid_until("2027-01-01T10:20:30+02:00").is_err());
        assert!(normalize_valid_until("2027-01-01T10:20:30").is_err());
        assert!(normalize_valid_until("next week").is_err());
    }
}
