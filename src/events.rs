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
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Debug,
    Info,
    Warn,
    Error,
}

/// One line of `--log-format json` (schemas/event.schema.json).
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Event {
    /// RFC 3339, UTC, milliseconds.
    pub timestamp: String,
    pub level: Level,
    /// `<object>.<what happened>`: `role.password.rotated`, `apply.complete`, ...
    pub event: String,
    /// The plan address the event is about, when it is about one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Event-specific figures and names (never a secret).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
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
    pub fn new(event: &str, address: &Address) -> Self {
        Self {
            timestamp: now(),
            level: Level::Info,
            event: event.to_string(),
            address: Some(address.to_string()),
            message: None,
            details: None,
        }
    }

    pub fn message(event: &str, message: impl Into<String>) -> Self {
        Self {
            timestamp: now(),
            level: Level::Info,
            event: event.to_string(),
            address: None,
            message: Some(message.into()),
            details: None,
        }
    }

    pub fn level(mut self, level: Level) -> Self {
        self.level = level;
        self
    }

    pub fn details(mut self, details: serde_json::Value) -> Self {
        self.details = Some(details);
        self
    }
}

fn now() -> String {
    humantime::format_rfc3339_millis(SystemTime::now()).to_string()
}

/// Where domains send events.
pub trait EventSink {
    fn emit(&self, event: Event);

    /// Where apply is now, for people told about an interruption: a phrase
    /// such as "in the role transaction". Not an event; never logged.
    fn progress(&self, _where: &'static str) {}
}

/// Phrases domains pass to [`EventSink::progress`] that change what an
/// interruption means.
pub mod progress {
    /// Statements sent inside the role transaction, not committed.
    pub const ROLE_TRANSACTION: &str = "in the role transaction";
    /// `COMMIT` sent, its answer not received: the outcome is unknown.
    pub const COMMITTING: &str = "committing the role transaction";
    /// Between steps: everything logged so far is applied.
    pub const BETWEEN_STEPS: &str = "between steps";
}

/// Events to stderr, each written and flushed when emitted; remembers them so
/// a failed apply can say what was applied.
pub struct EventLog {
    format: LogFormat,
    emitted: RefCell<Vec<Event>>,
    progress: std::cell::Cell<&'static str>,
}

impl EventLog {
    pub fn new(format: LogFormat) -> Self {
        Self {
            format,
            emitted: RefCell::new(Vec::new()),
            progress: std::cell::Cell::new(progress::BETWEEN_STEPS),
        }
    }

    /// The last progress a domain reported.
    pub fn last_progress(&self) -> &'static str {
        self.progress.get()
    }

    /// Every event emitted so far.
    pub fn emitted(&self) -> Vec<Event> {
        self.emitted.borrow().clone()
    }

    fn write(&self, event: &Event) {
        if self.format == LogFormat::Text && event.level == Level::Debug {
            return;
        }
        let mut stderr = std::io::stderr().lock();
        let _ = match self.format {
            LogFormat::Json => {
                let line = serde_json::to_string(event).expect("events serialize");
                writeln!(stderr, "{line}")
            }
            LogFormat::Text => match (&event.address, &event.message) {
                (Some(address), _) => {
                    writeln!(stderr, "{address}: {}", event.event.replace('.', " "))
                }
                (None, Some(message)) => writeln!(stderr, "{message}"),
                (None, None) => writeln!(stderr, "{}", event.event),
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

    fn progress(&self, place: &'static str) {
        self.progress.set(place);
    }
}

/// Collects events in memory: for tests, and for steps whose events wait for a commit.
#[derive(Default)]
pub struct Collected(pub RefCell<Vec<Event>>);

impl EventSink for Collected {
    fn emit(&self, event: Event) {
        self.0.borrow_mut().push(event);
    }
}
