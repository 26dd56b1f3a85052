//! What a run concluded, for the two ways it reaches people who were not
//! watching: the `--metrics-file` and the `[notify]` webhooks. Commands add
//! what they found (findings, changes, samples) as they go; [`Record::finish`]
//! runs once the command returned, whatever it returned, so a run that
//! failed to connect is reported too. Neither way changes the run's own exit
//! code, except that a metrics file that cannot be written turns a clean
//! exit into an error (the monitoring would otherwise go blind unseen).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Instant, SystemTime};

use super::ExitStatus;
use crate::error::Errors;
use crate::events::{Event, EventLog, EventName, EventSink, Level};
use crate::metrics::{self, catalogue as m, Sample};
use crate::notify::payload::{self, Payload, PayloadFinding};
use crate::notify::state::{self, CommandState};
use crate::notify::{Notify, Verdict};
use crate::plan::Finding;
use crate::printer::Printer;

pub(crate) struct Record {
    pub(crate) command: &'static str,
    /// The environment the run worked on (`--environment`, or one of
    /// `--all-environments`): a label on every series, part of the
    /// notification state's key, a field of the payload.
    pub(crate) environment: Option<String>,
    started_at: SystemTime,
    started: Instant,
    pub(crate) metrics_file: Option<PathBuf>,
    /// `[notify]`, once the file resolved.
    pub(crate) notify: Option<Notify>,
    pub(crate) findings: Vec<Finding>,
    /// Changes found (drift) or made (apply), by domain word.
    pub(crate) changes: BTreeMap<String, usize>,
    pub(crate) samples: Vec<Sample>,
    /// Errors a command printed itself while still ending with its own
    /// report (a failed drill, a failed dump), for notifications.
    pub(crate) errors: Vec<String>,
}

impl Record {
    pub(crate) fn new(
        command: &'static str,
        environment: Option<String>,
        metrics_file: Option<PathBuf>,
    ) -> Self {
        Self {
            command,
            environment,
            started_at: SystemTime::now(),
            started: Instant::now(),
            metrics_file,
            notify: None,
            findings: Vec::new(),
            changes: BTreeMap::new(),
            samples: Vec::new(),
            errors: Vec::new(),
        }
    }

    /// Refuses an unusable `--metrics-file` before the run does anything.
    pub(crate) fn check(&self) -> Result<(), Errors> {
        match &self.metrics_file {
            Some(path) => metrics::check_writable(path).map_err(Errors::from),
            None => Ok(()),
        }
    }

    /// Notifies, then writes the metrics file; returns the run's result,
    /// which only a failed metrics write after a clean run changes.
    pub(crate) async fn finish(
        self,
        result: Result<ExitStatus, Errors>,
        printer: &Printer,
        log: &EventLog,
    ) -> Result<ExitStatus, Errors> {
        let Some(samples) = self.conclude(&result, log).await else {
            return result;
        };
        let path = self.metrics_file.clone().expect("samples come with a file");
        let environment = self.environment.as_deref();
        let text = metrics::render_environments(self.command, &[(environment, &samples)]);
        write_metrics(&path, &text, samples.len(), result, printer, log)
    }

    /// Notifies; the series for the metrics file, when there is one.
    pub(crate) async fn conclude(
        &self,
        result: &Result<ExitStatus, Errors>,
        log: &EventLog,
    ) -> Option<Vec<Sample>> {
        let code = match &result {
            Ok(status) => *status as i32,
            Err(errors) => errors.first().exit_code().map_or(1, i32::from),
        };
        let mut errors = self.errors.clone();
        if let Err(list) = &result {
            errors.extend(list.list().iter().map(crate::error::Error::headline));
        }
        let finished_at = SystemTime::now();
        let (sent, failed) = match self.notify.clone() {
            Some(notify) => self.notify(&notify, code, &errors, finished_at, log).await,
            None => (0, 0),
        };
        let path = self.metrics_file.as_deref()?;
        Some(self.samples_for(code, errors.len(), finished_at, sent, failed, path))
    }

    fn samples_for(
        &self,
        code: i32,
        errors: usize,
        finished_at: SystemTime,
        sent: usize,
        failed: usize,
        path: &std::path::Path,
    ) -> Vec<Sample> {
        let success = code == 0;
        let last_success = if success {
            Some(Sample::timestamp(&m::LAST_SUCCESS, finished_at))
        } else {
            Some(Sample::new(
                &m::LAST_SUCCESS,
                metrics::previous_value(
                    path,
                    m::LAST_SUCCESS.name,
                    self.command,
                    self.environment.as_deref(),
                )
                .unwrap_or(0.0),
            ))
        };
        let mut samples = vec![
            Sample::new(&m::RUN_SUCCESS, f64::from(u8::from(success))),
            Sample::new(&m::RUN_EXIT_CODE, f64::from(code)),
            Sample::timestamp(&m::RUN_TIMESTAMP, finished_at),
            Sample::new(
                &m::RUN_DURATION,
                (self.started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
            ),
            Sample::new(&m::ERRORS, errors as f64),
        ];
        samples.extend(last_success);
        if self.notify_declared() {
            samples.push(Sample::new(&m::NOTIFICATIONS_SENT, sent as f64));
            samples.push(Sample::new(&m::NOTIFICATIONS_FAILED, failed as f64));
        }
        samples.extend(self.samples.iter().cloned());
        samples
    }

    fn notify_declared(&self) -> bool {
        self.notify.as_ref().is_some_and(|n| !n.webhooks.is_empty())
    }

    /// The run's findings: in notifications, and as series (per class, and
    /// per finding id while it fails).
    pub(crate) fn found(&mut self, findings: &[Finding]) {
        use crate::plan::FindingClass;
        self.findings = findings.to_vec();
        for class in [FindingClass::Health, FindingClass::Security] {
            let count = findings.iter().filter(|f| f.class == class).count();
            self.samples
                .push(Sample::new(&m::FINDINGS, count as f64).label(class_word(class)));
        }
        let mut by_id: BTreeMap<(&str, FindingClass), usize> = BTreeMap::new();
        for finding in findings {
            *by_id.entry((finding.id, finding.class)).or_default() += 1;
        }
        for ((id, class), count) in by_id {
            self.samples.push(
                Sample::new(&m::FINDING, count as f64)
                    .label(id)
                    .label(class_word(class)),
            );
        }
    }

    /// Changes by domain word, as `metric` (drift: to make; apply: made),
    /// every domain in `words` listed, zero when it has none.
    pub(crate) fn changes<'a>(
        &mut self,
        metric: &'static metrics::Metric,
        words: &[&str],
        addresses: impl Iterator<Item = &'a crate::plan::Address>,
    ) {
        let mut counts: BTreeMap<String, usize> =
            words.iter().map(|w| ((*w).to_string(), 0)).collect();
        for address in addresses {
            let word = address.to_string();
            let word = word.split('.').next().unwrap_or_default().to_string();
            *counts.entry(word).or_default() += 1;
        }
        for (word, count) in &counts {
            self.samples
                .push(Sample::new(metric, *count as f64).label(word.clone()));
        }
        self.changes = counts;
    }

    /// Tells each webhook what it needs to hear; returns (sent, failed).
    async fn notify(
        &self,
        notify: &Notify,
        code: i32,
        errors: &[String],
        finished_at: SystemTime,
        log: &EventLog,
    ) -> (usize, usize) {
        let verdict = if code == 0 {
            Verdict::Ok
        } else {
            Verdict::Failing
        };
        let mut failed = 0;
        let mut sent = 0;
        let mut state = match &notify.state_file {
            Some(path) => match state::load(path) {
                Ok(state) => Some(state),
                Err(error) => {
                    failure(
                        log,
                        None,
                        error.message(),
                        error.hints().first().map(String::as_str),
                    );
                    // Without the last outcome a failure cannot be told from
                    // a repeat: tell failures, never recoveries.
                    None
                }
            },
            None => None,
        };
        let previous = state
            .as_ref()
            .and_then(|s| s.commands.get(&self.state_key()))
            .cloned();
        let mut told = previous
            .as_ref()
            .map(|p| p.webhooks.clone())
            .unwrap_or_default();
        for webhook in &notify.webhooks {
            // Without a readable state: as if the last run was clean.
            let last = told.get(&webhook.name).copied();
            let Some(kind) = state::decide(webhook.on, last, verdict) else {
                told.insert(webhook.name.clone(), verdict);
                continue;
            };
            let document = self.payload(kind, verdict, code, errors, finished_at);
            if tell(notify, webhook, kind, &document, log).await {
                sent += 1;
                told.insert(webhook.name.clone(), verdict);
            } else {
                failed += 1;
            }
        }
        if let (Some(path), Some(state)) = (&notify.state_file, state.as_mut()) {
            state.commands.insert(
                self.state_key(),
                CommandState {
                    verdict,
                    at: humantime::format_rfc3339_seconds(finished_at).to_string(),
                    webhooks: told,
                },
            );
            if let Err(error) = state::save(path, state) {
                failed += 1;
                failure(
                    log,
                    None,
                    error.message(),
                    error.hints().first().map(String::as_str),
                );
            }
        }
        (sent, failed)
    }

    /// The notification state's key: the command, and its environment
    /// (`drift@staging`), so each environment fails and recovers on its own.
    fn state_key(&self) -> String {
        match &self.environment {
            Some(environment) => format!("{}@{environment}", self.command),
            None => self.command.to_string(),
        }
    }

    fn payload(
        &self,
        kind: state::Kind,
        verdict: Verdict,
        code: i32,
        errors: &[String],
        finished_at: SystemTime,
    ) -> Payload {
        let mut document = Payload {
            format_version: "1.0",
            kind,
            command: self.command.to_string(),
            environment: self.environment.clone(),
            host: host(),
            verdict,
            exit_code: code,
            started_at: humantime::format_rfc3339_seconds(self.started_at).to_string(),
            finished_at: humantime::format_rfc3339_seconds(finished_at).to_string(),
            changes: self.changes.clone(),
            findings: self
                .findings
                .iter()
                .map(|f| PayloadFinding {
                    id: f.id.to_string(),
                    class: class_word(f.class).to_string(),
                    address: f.address.to_string(),
                    message: f.message.clone(),
                })
                .collect(),
            errors: errors.to_vec(),
            text: String::new(),
        };
        document.text = payload::text(&document);
        document
    }
}

/// Writes the metrics file; returns the run's result, which only a failed
/// write after a clean run changes.
pub(crate) fn write_metrics(
    path: &std::path::Path,
    text: &str,
    series: usize,
    result: Result<ExitStatus, Errors>,
    printer: &Printer,
    log: &EventLog,
) -> Result<ExitStatus, Errors> {
    match metrics::write(path, text) {
        Ok(()) => {
            log.emit(
                Event::message(EventName::MetricsWritten, "metrics written")
                    .level(Level::Debug)
                    .details(serde_json::json!({
                        "path": path.display().to_string(),
                        "series": series,
                    })),
            );
            result
        }
        Err(error) => match result {
            Ok(ExitStatus::Success) => Err(error
                .hint("the run itself succeeded; dbops exits 1 so that monitoring that went blind is seen")
                .into()),
            other => {
                printer.errors(&error.hint("the run's own exit code is kept").into());
                other
            }
        },
    }
}

/// Delivers one payload, logging how it went; whether it arrived.
async fn tell(
    notify: &Notify,
    webhook: &crate::notify::Webhook,
    kind: state::Kind,
    document: &Payload,
    log: &EventLog,
) -> bool {
    let body = serde_json::to_vec(document).expect("payload serialises");
    match crate::notify::deliver(&webhook.url, &body, notify.timeout, notify.retries).await {
        Ok(attempts) => {
            log.emit(
                Event::message(
                    EventName::NotificationSent,
                    format!(
                        "notified webhook `{}` of the {}",
                        webhook.name,
                        kind_word(kind)
                    ),
                )
                .details(serde_json::json!({
                    "webhook": webhook.name,
                    "kind": kind,
                    "attempts": attempts,
                })),
            );
            true
        }
        Err((attempts, why)) => {
            log.emit(
                Event::message(
                    EventName::NotificationFailed,
                    format!(
                        "cannot notify webhook `{}` of the {}: {why} ({attempts} attempt(s)); the next run tries again",
                        webhook.name,
                        kind_word(kind)
                    ),
                )
                .level(Level::Error)
                .details(serde_json::json!({
                    "webhook": webhook.name,
                    "kind": kind,
                    "attempts": attempts,
                    "reason": why,
                })),
            );
            false
        }
    }
}

fn failure(log: &EventLog, webhook: Option<&str>, message: &str, hint: Option<&str>) {
    log.emit(
        Event::message(EventName::NotificationFailed, message.to_string())
            .level(Level::Error)
            .details(serde_json::json!({ "webhook": webhook, "hint": hint })),
    );
}

fn kind_word(kind: state::Kind) -> &'static str {
    match kind {
        state::Kind::Failure => "failure",
        state::Kind::Recovery => "recovery",
        state::Kind::Report => "run",
    }
}

fn class_word(class: crate::plan::FindingClass) -> &'static str {
    match class {
        crate::plan::FindingClass::Health => "health",
        crate::plan::FindingClass::Security => "security",
    }
}

/// The machine's name (`uname -n`), for people reading the notification.
fn host() -> String {
    let mut name = [0u8; 256];
    // SAFETY: `gethostname` writes at most `len` bytes into the buffer.
    let ok = unsafe { libc::gethostname(name.as_mut_ptr().cast(), name.len()) } == 0;
    let end = name.iter().position(|b| *b == 0).unwrap_or(name.len());
    if ok {
        String::from_utf8_lossy(&name[..end]).into_owned()
    } else {
        "unknown".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::LogFormat;

    /// The metrics directory vanishes after the check: the run's own code
    /// stands (2 stays 2, an error stays that error); a clean run fails.
    #[tokio::test]
    async fn a_metrics_file_that_cannot_be_written_never_hides_the_runs_exit_code() {
        let printer = Printer::new(false, LogFormat::Text);
        let log = EventLog::new(LogFormat::Text);
        let attempt = |result: Result<ExitStatus, Errors>| {
            let dir = tempfile::tempdir().unwrap();
            let record = Record::new("drift", None, Some(dir.path().join("gone/dbops.prom")));
            drop(dir);
            record.finish(result, &printer, &log)
        };
        assert_eq!(
            attempt(Ok(ExitStatus::Changes)).await,
            Ok(ExitStatus::Changes)
        );
        let failed = attempt(Err(crate::error::Error::new("the server is down").into())).await;
        assert_eq!(failed.unwrap_err().first().message(), "the server is down");
        let clean = attempt(Ok(ExitStatus::Success)).await;
        assert!(clean
            .unwrap_err()
            .first()
            .message()
            .starts_with("cannot write the metrics file"),);
    }
}
