//! Where output goes: data meant to be piped on stdout (reports, plans, JSON),
//! everything else on stderr (warnings, errors, progress). Styles are applied
//! only when color is on, and the text reads the same without them. With
//! `--log-format json` every stderr line is a JSON event (schemas/event.schema.json):
//! warnings as `warning` with their key and location, errors as `error` with
//! their causes and hints, other lines as `notice`.

use std::io::Write;

use crate::diagnostics::Warning;
use crate::error::Errors;
use crate::events::{Event, EventName, Level, LogFormat};

#[derive(Debug, Clone, Copy)]
pub(crate) struct Printer {
    pub(crate) color: bool,
    pub(crate) log_format: LogFormat,
}

impl Printer {
    pub(crate) fn new(color: bool, log_format: LogFormat) -> Self {
        Self { color, log_format }
    }

    fn json(&self, event: &Event) {
        let mut stderr = std::io::stderr().lock();
        let line = serde_json::to_string(event).expect("events serialize");
        let _ = writeln!(stderr, "{line}");
        let _ = stderr.flush();
    }

    /// Data on stdout, flushed.
    pub(crate) fn out(&self, text: &str) {
        if crate::section::capture(text) {
            return;
        }
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(text.as_bytes());
        let _ = stdout.flush();
    }

    /// A line for people on stderr.
    pub(crate) fn note(&self, text: &str) {
        if self.log_format == LogFormat::Json {
            return self.json(&Event::message(EventName::Notice, text));
        }
        let prefix = crate::section::prefix();
        let mut stderr = std::io::stderr().lock();
        if prefix.is_empty() {
            let _ = writeln!(stderr, "{text}");
        } else {
            for line in text.lines() {
                let _ = writeln!(stderr, "{prefix}{line}");
            }
        }
    }

    pub(crate) fn warnings(&self, warnings: &[Warning]) {
        if self.log_format == LogFormat::Json {
            for warning in warnings {
                self.json(
                    &Event::message(EventName::Warning, warning.message.clone())
                        .level(Level::Warn)
                        .details(serde_json::json!({
                            "key": warning.key,
                            "location": warning.location,
                        })),
                );
            }
            return;
        }
        let style = console::Style::new()
            .yellow()
            .bold()
            .force_styling(self.color);
        for warning in warnings {
            self.note(&format!("{} {warning}", style.apply_to("warning:")));
        }
    }

    pub(crate) fn errors(&self, errors: &Errors) {
        if self.log_format == LogFormat::Json {
            for error in errors.list() {
                self.json(
                    &Event::message(EventName::Error, error.message().to_string())
                        .level(Level::Error)
                        .details(serde_json::json!({
                            "kind": error.error_kind(),
                            "environment": error.environment_name(),
                            "key": error.key_path(),
                            "location": error.location(),
                            "causes": error.causes(),
                            "hints": error.hints(),
                        })),
                );
            }
            return;
        }
        let style = console::Style::new().red().bold().force_styling(self.color);
        let list = errors.list();
        for error in list {
            self.note(&format!("{} {error}", style.apply_to("error:")));
        }
        if list.len() > 1 {
            self.note(&format!(
                "{} problems found; nothing was changed",
                list.len()
            ));
        }
    }
}
