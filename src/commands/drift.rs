//! `dbops drift`: the nightly read-only check. Exit 0 in sync, 2 drifted;
//! `--fail-on` chooses which classes count: configuration drift, health
//! findings, security findings, or all.

use super::record::Record;
use super::ExitStatus;
use crate::cli::{FailOn, Settings};
use crate::engine::scope::Scope;
use crate::engine::Session;
use crate::error::Errors;
use crate::events::{EventLog, EventSink};
use crate::metrics::{catalogue, Sample};
use crate::pg::connect::Access;
use crate::printer::Printer;
use crate::render::{render, Kind, Report};

/// What `drift` was asked.
pub(crate) struct Options<'a> {
    pub(crate) fail_on: &'a [FailOn],
    pub(crate) scope: Scope,
    pub(crate) deep: bool,
}

pub(crate) async fn run(
    settings: &Settings,
    printer: &Printer,
    options: Options<'_>,
    record: &mut Record,
) -> Result<ExitStatus, Errors> {
    let Options {
        fail_on,
        scope,
        deep,
    } = options;
    let resolved = super::resolve(settings, settings.environment.as_deref())?;
    record.notify = resolved.notify.clone();
    let words = scope_words(&scope);
    let mut session =
        Session::connect(resolved, Access::ReadOnly, settings.connect_timeout, scope).await?;
    session.deep = deep;
    printer.warnings(&session.warnings);
    let (live, mut plan) = session.observe_and_plan().await?;
    let log = EventLog::new(settings.log_format);
    log.emit(session.timings.event(live.statements()));
    let health = session.health(&log).await?;
    plan.findings.extend(health.findings);
    plan.notes.extend(health.notes);
    record.samples.extend(health.samples);
    record.found(&plan.findings);
    record.changes(
        &catalogue::DRIFT_CHANGES,
        &words,
        plan.changes().map(|c| &c.address),
    );
    record.samples.push(Sample::new(
        &catalogue::PENDING_RESTART,
        plan.pending.len() as f64,
    ));
    printer.out(&render(
        settings.format,
        &Report::new(Kind::Drift, &plan, settings.color).warnings(&session.warnings),
    ));
    let configuration = !plan.is_empty() || !plan.pending.is_empty();
    let fails = fail_on.iter().any(|class| {
        (configuration && class.configuration())
            || plan.findings.iter().any(|f| class.finding(f.class))
    });
    Ok(if fails {
        ExitStatus::Changes
    } else {
        ExitStatus::Success
    })
}

/// The domain words a run covers, for per-domain series that read zero.
pub(super) fn scope_words(scope: &Scope) -> Vec<&'static str> {
    crate::engine::registry::targets()
        .into_iter()
        .filter(|word| scope.everything() || scope.targets().iter().any(|t| t == word))
        .collect()
}
