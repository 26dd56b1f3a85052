//! `apply --all-environments`: the staged rollout. Stages run in the order
//! `[rollout] order` declares; the environments of one stage run side by
//! side (at most `--parallel`); the first stage with a failing environment
//! stops the rollout, and the report says which stages were applied, which
//! failed and which were not touched, and how to resume (`--from-stage N`).
//! Each environment's apply is the ordinary one; this module only orders
//! them and tells what happened.

use serde::Serialize;

use super::environments::{self, Outcome};
use super::{recorded, write_collected, Collected, ExitStatus};
use crate::cli::{Command, Settings};
use crate::error::{Error, Errors};
use crate::printer::Printer;
use crate::render::Format;

/// What became of one stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum StageStatus {
    /// Before `--from-stage`: taken as applied by an earlier run.
    Skipped,
    Applied,
    Failed,
    /// After the stage that failed: nothing of it was read or changed.
    NotApplied,
}

#[derive(Debug, Serialize)]
struct Stage {
    stage: usize,
    environments: Vec<String>,
    status: StageStatus,
}

pub(crate) async fn stages(
    settings: &Settings,
    printer: &Printer,
    command: Command,
) -> Result<ExitStatus, Errors> {
    let Command::Apply {
        auto_approve,
        planfile,
        from_stage,
        ..
    } = &command
    else {
        return Err(Error::internal("a rollout of another command than apply").into());
    };
    if planfile.is_some() {
        return Err(Error::config("a saved plan belongs to one environment: it cannot be applied with `--all-environments`")
            .hint("apply it alone: `dbops apply PLANFILE` (it names its environment)")
            .into());
    }
    if !auto_approve {
        return Err(Error::config(
            "`apply --all-environments` does not ask for each environment: pass `--auto-approve`",
        )
        .hint("review the changes first with `dbops plan --all-environments`")
        .into());
    }
    let (order, shared) = order(settings)?;
    let settings = &shared;
    let from = from_stage.map_or(1, |n| n as usize);
    if from > order.len() {
        return Err(Error::config(format!(
            "`--from-stage {from}`: `[rollout] order` has {} stage(s)",
            order.len()
        ))
        .hint("stages are numbered from 1, in the order `[rollout] order` lists them")
        .into());
    }
    if let Some(path) = command.metrics_file() {
        crate::metrics::check_writable(path)?;
    }
    let collected = Collected::default();
    let mut outcomes: Vec<Outcome> = Vec::new();
    let mut report = Vec::new();
    let mut stopped = false;
    for (index, names) in order.iter().enumerate() {
        let number = index + 1;
        let status = if number < from {
            StageStatus::Skipped
        } else if stopped {
            StageStatus::NotApplied
        } else {
            printer.note(&format!(
                "Stage {number} of {}: applying {}",
                order.len(),
                names.join(", ")
            ));
            let done = environments::each(settings, names, |one| {
                let command = command.clone();
                let collected = &collected;
                async move { recorded(&one, printer, command, Some(collected)).await }
            })
            .await;
            let failed = done.iter().any(|o| o.result != Ok(ExitStatus::Success));
            outcomes.extend(done);
            stopped = failed;
            if failed {
                StageStatus::Failed
            } else {
                StageStatus::Applied
            }
        };
        report.push(Stage {
            stage: number,
            environments: names.clone(),
            status,
        });
    }
    printer.out(&render(settings.format, &outcomes, &report));
    let result = environments::exit_status(&outcomes);
    write_collected(settings, printer, &command, collected, result)
}

/// `[rollout] order`, or why `apply --all-environments` cannot run; and
/// the settings every stage runs with (the file read once, for all stages).
fn order(settings: &Settings) -> Result<(Vec<Vec<String>>, Settings), Errors> {
    let file = environments::checked(settings)?;
    let Some(order) = file.environments.rollout.clone() else {
        return Err(no_rollout(&file));
    };
    Ok((order, environments::with_snapshot(settings, file)))
}

fn no_rollout(file: &crate::config::File) -> Errors {
    Error::config(format!(
            "`apply --all-environments` follows `[rollout] order`, and `{}` declares none",
            file.source.name
        ))
        .hint(format!(
            "declare the stages, e.g. `[rollout]` with `order = [[\"staging\"], [\"prod\"]]`; the file's environments are {}",
            file.environments.listed()
        ))
        .into()
}

fn render(format: Format, outcomes: &[Outcome], stages: &[Stage]) -> String {
    let text = environments::render("apply", format, outcomes);
    if format == Format::Json {
        let mut document: serde_json::Value = serde_json::from_str(&text).expect("json");
        document["rollout"] = serde_json::to_value(stages).expect("json");
        let mut text = serde_json::to_string_pretty(&document).expect("json");
        text.push('\n');
        return text;
    }
    let mut text = text;
    for stage in stages {
        let what = match stage.status {
            StageStatus::Skipped => "skipped (`--from-stage`)",
            StageStatus::Applied => "applied",
            StageStatus::Failed => "failed",
            StageStatus::NotApplied => "not applied",
        };
        text.push_str(&format!(
            "Stage {} ({}): {what}.\n",
            stage.stage,
            stage.environments.join(", ")
        ));
    }
    if let Some(failed) = stages.iter().find(|s| s.status == StageStatus::Failed) {
        text.push_str(&format!(
            "The rollout stopped at stage {}: fix it, then resume with `dbops apply --all-environments --auto-approve --from-stage {}`.\n",
            failed.stage, failed.stage
        ));
    }
    text
}
