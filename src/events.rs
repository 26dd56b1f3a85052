//! Structured events: one per applied change (`role.password.rotated`,
//! `membership.granted`, ...), so deploy logs carry evidence of what changed.
//! With `--log-format json` each is a JSON line on stderr; with `text`, a short
//! line on stderr. Events hold addresses and names, never a secret.

use std::io::Write;
use std::time::SystemTime;

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    pub timestamp: String,
    pub level: &'static str,
    pub event: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
}

impl Event {
    pub fn new(event: &str, address: &str) -> Self {
        Self {
            timestamp: now(),
            level: "info",
            event: event.to_string(),
            address: Some(address.to_string()),
            message: None,
            details: None,
        }
    }

    pub fn message(event: &str, message: impl Into<String>) -> Self {
        Self {
            timestamp: now(),
            level: "info",
            event: event.to_string(),
            address: None,
            message: Some(message.into()),
            details: None,
        }
    }

    /// Where a read of live state spent its time; a `debug` event, JSON log only.
    pub fn timings(phases: &Timings, statements: usize) -> Self {
        let ms = |d: std::time::Duration| (d.as_secs_f64() * 1000.0 * 10.0).round() / 10.0;
        Self {
            timestamp: now(),
            level: "debug",
            event: "observe.timings".to_string(),
            address: None,
            message: None,
            details: Some(serde_json::json!({
                "load_ms": ms(phases.load),
                "connect_ms": ms(phases.connect),
                "observe_ms": ms(phases.observe),
                "diff_ms": ms(phases.diff),
                "statements": statements,
            })),
        }
    }
}

/// Durations of the pipeline's phases.
#[derive(Debug, Clone, Copy, Default)]
pub struct Timings {
    pub load: std::time::Duration,
    pub connect: std::time::Duration,
    pub observe: std::time::Duration,
    pub diff: std::time::Duration,
}

fn now() -> String {
    humantime::format_rfc3339_millis(SystemTime::now()).to_string()
}

/// Where events go.
pub struct EventLog {
    format: LogFormat,
}

impl EventLog {
    pub fn new(format: LogFormat) -> Self {
        Self { format }
    }

    pub fn emit(&self, event: &Event) {
        if self.format == LogFormat::Text && event.level == "debug" {
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
    }
}
