//! Structured events: one per applied change (`role.password.rotated`,
//! `membership.granted`, ...), emitted the moment the change is done, so a
//! deploy log carries evidence of what changed even when a later step fails.
//!
//! Names are `<object>.<what happened>` in the past tense. With `--log-format
//! json` each event is a JSON line on stderr, flushed as it happens; with
//! `text`, a short line. Events hold addresses and names, never a secret.
//! Domains emit through the [`EventSink`] trait and never print.

use std::cell::RefCell;
use std::io::Write;
use std::time::SystemTime;

use serde::Serialize;

use crate::plan::Address;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Level {
    Debug,
    Info,
    Warn,
    Error,
}

/// Every event dbops emits, `<object>.<what happened>` in the past tense.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, schemars::JsonSchema)]
pub(crate) enum EventName {
    /// A warning about the file (a lint, a deprecated key), with its key and location.
    #[serde(rename = "warning")]
    Warning,
    /// The command failed: the error, its causes and hints.
    #[serde(rename = "error")]
    Error,
    /// A line for people that is not an event of its own (a kept server, a note).
    #[serde(rename = "notice")]
    Notice,
    /// A database was created.
    #[serde(rename = "database.created")]
    DatabaseCreated,
    /// A database's owner was changed.
    #[serde(rename = "database.owner.changed")]
    DatabaseOwnerChanged,
    /// A role was created.
    #[serde(rename = "role.created")]
    RoleCreated,
    /// A role `absent = true` names was dropped, what it owned given away.
    #[serde(rename = "role.dropped")]
    RoleDropped,
    /// A role's attributes were changed.
    #[serde(rename = "role.updated")]
    RoleUpdated,
    /// A role's password was set.
    #[serde(rename = "role.password.rotated")]
    RolePasswordRotated,
    /// A role was made a member of a group.
    #[serde(rename = "membership.granted")]
    MembershipGranted,
    /// A membership was revoked.
    #[serde(rename = "membership.revoked")]
    MembershipRevoked,
    /// CONNECT on a database was granted to a DSN role.
    #[serde(rename = "grant.connect.granted")]
    GrantConnectGranted,
    /// A declared privilege scope was made equal to the file.
    #[serde(rename = "grant.changed")]
    GrantChanged,
    /// Objects in a database moved to their declared owner.
    #[serde(rename = "ownership.changed")]
    OwnershipChanged,
    /// A server setting was written with `ALTER SYSTEM`.
    #[serde(rename = "setting.changed")]
    SettingChanged,
    /// A server setting was reset.
    #[serde(rename = "setting.reset")]
    SettingReset,
    /// PostgreSQL reloaded its configuration.
    #[serde(rename = "config.reloaded")]
    ConfigReloaded,
    /// A bucket was created.
    #[serde(rename = "bucket.created")]
    BucketCreated,
    /// A bucket's versioning was changed.
    #[serde(rename = "bucket.versioning.changed")]
    BucketVersioningChanged,
    /// A bucket's default encryption was changed.
    #[serde(rename = "bucket.encryption.changed")]
    BucketEncryptionChanged,
    /// A bucket's public access block was changed.
    #[serde(rename = "bucket.public_access_block.changed")]
    BucketPublicAccessBlockChanged,
    /// A bucket's lifecycle rules were replaced.
    #[serde(rename = "bucket.lifecycle.changed")]
    BucketLifecycleChanged,
    /// A managed file was written.
    #[serde(rename = "file.written")]
    FileWritten,
    /// PgBouncer was made to reload.
    #[serde(rename = "pooler.reloaded")]
    PoolerReloaded,
    /// PgBouncer was not running, so not reloaded.
    #[serde(rename = "pooler.reload.skipped")]
    PoolerReloadSkipped,
    /// `[server] restart_command` started.
    #[serde(rename = "server.restart.started")]
    ServerRestartStarted,
    /// PostgreSQL accepted connections again after the restart.
    #[serde(rename = "server.restart.completed")]
    ServerRestartCompleted,
    /// A restore test started.
    #[serde(rename = "restore_test.started")]
    RestoreTestStarted,
    /// A work directory a killed restore test left was removed.
    #[serde(rename = "restore_test.leftover_removed")]
    RestoreTestLeftoverRemoved,
    /// A restore test passed.
    #[serde(rename = "restore_test.completed")]
    RestoreTestCompleted,
    /// A restore test failed.
    #[serde(rename = "restore_test.failed")]
    RestoreTestFailed,
    /// The managed passwords verified unchanged and rotated.
    #[serde(rename = "postgres.passwords.verified")]
    PostgresPasswordsVerified,
    /// An apply converged (JSON logs, last).
    #[serde(rename = "apply.complete")]
    ApplyComplete,
    /// The time spent in each phase (debug).
    #[serde(rename = "observe.timings")]
    ObserveTimings,
    /// SCRAM derivations per phase (debug).
    #[serde(rename = "passwords.derivations")]
    PasswordsDerivations,
    /// What reading backup health cost (debug).
    #[serde(rename = "backup.health.read")]
    BackupHealthRead,
    /// A webhook was told of a failure, a recovery or a run (`[notify]`).
    #[serde(rename = "notification.sent")]
    NotificationSent,
    /// A webhook could not be told, after its retries.
    #[serde(rename = "notification.failed")]
    NotificationFailed,
    /// `dbops dump` started a database's set.
    #[serde(rename = "dump.started")]
    DumpStarted,
    /// A database's set is complete (its manifest written).
    #[serde(rename = "dump.completed")]
    DumpCompleted,
    /// A database's dump failed; what it left is said.
    #[serde(rename = "dump.failed")]
    DumpFailed,
    /// A set outside the retention windows was removed from a directory.
    #[serde(rename = "dump.pruned")]
    DumpPruned,
    /// What reading dump health cost (debug).
    #[serde(rename = "dumps.health.read")]
    DumpsHealthRead,
    /// The metrics file was written (`--metrics-file`).
    #[serde(rename = "metrics.written")]
    MetricsWritten,
}

impl EventName {
    /// The name as logged: `role.password.rotated`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            EventName::Warning => "warning",
            EventName::Error => "error",
            EventName::Notice => "notice",
            EventName::DatabaseCreated => "database.created",
            EventName::DatabaseOwnerChanged => "database.owner.changed",
            EventName::RoleCreated => "role.created",
            EventName::RoleDropped => "role.dropped",
            EventName::RoleUpdated => "role.updated",
            EventName::RolePasswordRotated => "role.password.rotated",
            EventName::MembershipGranted => "membership.granted",
            EventName::MembershipRevoked => "membership.revoked",
            EventName::GrantConnectGranted => "grant.connect.granted",
            EventName::GrantChanged => "grant.changed",
            EventName::OwnershipChanged => "ownership.changed",
            EventName::SettingChanged => "setting.changed",
            EventName::SettingReset => "setting.reset",
            EventName::ConfigReloaded => "config.reloaded",
            EventName::BucketCreated => "bucket.created",
            EventName::BucketVersioningChanged => "bucket.versioning.changed",
            EventName::BucketEncryptionChanged => "bucket.encryption.changed",
            EventName::BucketPublicAccessBlockChanged => "bucket.public_access_block.changed",
            EventName::BucketLifecycleChanged => "bucket.lifecycle.changed",
            EventName::FileWritten => "file.written",
            EventName::PoolerReloaded => "pooler.reloaded",
            EventName::PoolerReloadSkipped => "pooler.reload.skipped",
            EventName::ServerRestartStarted => "server.restart.started",
            EventName::ServerRestartCompleted => "server.restart.completed",
            EventName::RestoreTestStarted => "restore_test.started",
            EventName::RestoreTestLeftoverRemoved => "restore_test.leftover_removed",
            EventName::RestoreTestCompleted => "restore_test.completed",
            EventName::RestoreTestFailed => "restore_test.failed",
            EventName::PostgresPasswordsVerified => "postgres.passwords.verified",
            EventName::ApplyComplete => "apply.complete",
            EventName::ObserveTimings => "observe.timings",
            EventName::PasswordsDerivations => "passwords.derivations",
            EventName::BackupHealthRead => "backup.health.read",
            EventName::NotificationSent => "notification.sent",
            EventName::NotificationFailed => "notification.failed",
            EventName::MetricsWritten => "metrics.written",
            EventName::DumpStarted => "dump.started",
            EventName::DumpCompleted => "dump.completed",
            EventName::DumpFailed => "dump.failed",
            EventName::DumpPruned => "dump.pruned",
            EventName::DumpsHealthRead => "dumps.health.read",
        }
    }
}

/// One line of `--log-format json` (schemas/event.schema.json).
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub(crate) struct Event {
    /// RFC 3339, UTC, milliseconds.
    pub(crate) timestamp: String,
    pub(crate) level: Level,
    /// `<object>.<what happened>`: `role.password.rotated`, `apply.complete`, ...
    pub(crate) event: EventName,
    /// The `[environments.NAME]` the run works for, when the file declares environments.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) environment: Option<String>,
    /// The plan address the event is about, when it is about one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) address: Option<Address>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) message: Option<String>,
    /// Event-specific figures and names (never a secret).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) details: Option<serde_json::Value>,
}

/// The JSON Schema of one event line, committed as schemas/event.schema.json.
pub fn schema_text() -> String {
    let schema = schemars::schema_for!(Event);
    let mut text = serde_json::to_string_pretty(&schema).expect("schemas serialize");
    text.push('\n');
    text
}

impl Event {
    /// A change done at `address`.
    pub(crate) fn new(event: EventName, address: &Address) -> Self {
        Self {
            timestamp: now(),
            level: Level::Info,
            event,
            environment: crate::section::environment(),
            address: Some(address.clone()),
            message: None,
            details: None,
        }
    }

    pub(crate) fn message(event: EventName, message: impl Into<String>) -> Self {
        Self {
            timestamp: now(),
            level: Level::Info,
            event,
            environment: crate::section::environment(),
            address: None,
            message: Some(message.into()),
            details: None,
        }
    }

    pub(crate) fn level(mut self, level: Level) -> Self {
        self.level = level;
        self
    }

    pub(crate) fn details(mut self, details: serde_json::Value) -> Self {
        self.details = Some(details);
        self
    }
}

fn now() -> String {
    humantime::format_rfc3339_millis(SystemTime::now()).to_string()
}

/// Where domains send events.
pub(crate) trait EventSink {
    fn emit(&self, event: Event);

    /// Where apply is now, for people told about an interruption. Not an
    /// event; never logged.
    fn progress(&self, _where: Progress) {}
}

/// Where apply is, as far as an interruption's meaning goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Progress {
    /// Statements sent inside the role transaction, not committed.
    RoleTransaction,
    /// `COMMIT` sent, its answer not received: the outcome is unknown.
    Committing,
    /// Between steps: everything logged so far is applied.
    BetweenSteps,
}

/// Events to stderr, each written and flushed when emitted; remembers them so
/// a failed apply can say what was applied.
pub(crate) struct EventLog {
    format: LogFormat,
    emitted: RefCell<Vec<Event>>,
    progress: std::cell::Cell<Progress>,
}

impl EventLog {
    pub(crate) fn new(format: LogFormat) -> Self {
        Self {
            format,
            emitted: RefCell::new(Vec::new()),
            progress: std::cell::Cell::new(Progress::BetweenSteps),
        }
    }

    /// The last progress a domain reported.
    pub(crate) fn last_progress(&self) -> Progress {
        self.progress.get()
    }

    /// Every event emitted so far.
    pub(crate) fn emitted(&self) -> Vec<Event> {
        self.emitted.borrow().clone()
    }

    fn write(&self, event: &Event) {
        if self.format == LogFormat::Text && event.level == Level::Debug {
            return;
        }
        let prefix = crate::section::prefix();
        let mut stderr = std::io::stderr().lock();
        if self.format == LogFormat::Text {
            let _ = write!(stderr, "{prefix}");
        }
        let _ = match self.format {
            LogFormat::Json => {
                let line = serde_json::to_string(event).expect("events serialize");
                writeln!(stderr, "{line}")
            }
            LogFormat::Text => match (&event.address, &event.message) {
                (Some(address), _) => {
                    writeln!(
                        stderr,
                        "{address}: {}",
                        event.event.as_str().replace('.', " ")
                    )
                }
                (None, Some(message)) => writeln!(stderr, "{message}"),
                (None, None) => writeln!(stderr, "{}", event.event.as_str()),
            },
        };
        let _ = stderr.flush();
    }
}

impl EventSink for EventLog {
    fn emit(&self, event: Event) {
        self.write(&event);
        self.emitted.borrow_mut().push(event);
    }

    fn progress(&self, place: Progress) {
        self.progress.set(place);
    }
}
