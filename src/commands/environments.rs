//! Running a command on every environment of the file (`--all-environments`):
//! at most `--parallel` at once, each in its own output [`section`], one
//! failing or unreachable environment never stopping the others; then one
//! document with a section per environment, in file order, and the exit
//! code by precedence (interrupted > error > changes or drift > clean).
//! Also the checks that need every environment at once: two environments
//! managing the same database, role, setting or HBA file of one cluster
//! would fight, and are refused.
//!
//! This module knows no command's report: it runs the command the caller
//! hands it and places what that printed.

use std::future::Future;
use std::sync::Arc;

use futures_util::stream::{self, StreamExt};
use serde::Serialize;

use super::ExitStatus;
use crate::cli::{Settings, Snapshot};
use crate::config;
use crate::contract::facts::{
    AbsentRoles, AdminConnection, DeclaredDatabases, DeclaredRoles, DeclaredServer,
};
use crate::engine::session::Resolved;
use crate::error::{Error, Errors};
use crate::printer::Printer;
use crate::render::error_document::{diagnostic, Diagnostic};
use crate::render::Format;
use crate::section;
use crate::util::words::counted;

/// One environment's result in a run over several.
pub(crate) struct Outcome {
    pub(crate) name: String,
    pub(crate) result: Result<ExitStatus, Errors>,
    /// What its command printed on stdout.
    pub(crate) stdout: String,
}

impl Outcome {
    fn code(&self) -> i32 {
        match &self.result {
            Ok(status) => *status as i32,
            Err(errors) => errors.first().exit_code().map_or(1, i32::from),
        }
    }

    /// `clean`, `changes` (plan), `drift` (drift), `error` or `interrupted`.
    fn status(&self, command: &str) -> &'static str {
        match self.code() {
            0 => "clean",
            2 if command == "drift" => "drift",
            2 => "changes",
            130 | 143 => "interrupted",
            _ => "error",
        }
    }
}

/// The file, checked for a run over every environment: it declares some,
/// `[environments]` and `[rollout]` are sound, and no two environments
/// would fight (see [`conflicts`]). An environment that
/// does not resolve is left to fail in its own section.
pub(crate) fn checked(settings: &Settings) -> Result<config::File, Errors> {
    let file = config::read(&settings.file)?;
    if file.environments.is_empty() {
        return Err(Error::config(format!(
            "`--all-environments`: `{}` declares no `[environments.NAME]` table",
            file.source.name
        ))
        .hint(
            "drop `--all-environments`, or declare environments in the file (docs/environments.md)",
        )
        .into());
    }
    file.check()?;
    let resolved: Vec<(String, Resolved)> = file
        .environments
        .names
        .iter()
        .filter_map(|name| {
            let started = std::time::Instant::now();
            let loaded = file.select(Some(name)).ok()?;
            let one = crate::engine::session::resolve_loaded(loaded, started).ok()?;
            Some((name.clone(), one))
        })
        .collect();
    let places: Vec<(String, &Resolved)> = resolved.iter().map(|(n, r)| (n.clone(), r)).collect();
    let fights = conflicts(&places);
    if !fights.is_empty() {
        return Err(Errors::new(fights));
    }
    Ok(file)
}

/// `settings` with `file` as the snapshot every environment of the run
/// resolves from: the file is read and parsed once, and every environment
/// sees the same text, even if the file changes while they run.
pub(crate) fn with_snapshot(settings: &Settings, file: config::File) -> Settings {
    let mut shared = settings.clone();
    shared.snapshot = Some(Snapshot(Arc::new(file)));
    shared
}

/// Runs `run` for each of `names`, at most `settings.parallel` at once,
/// each in its own section; the outcomes in the order of `names`.
pub(crate) async fn each<F, Fut>(settings: &Settings, names: &[String], run: F) -> Vec<Outcome>
where
    F: Fn(Settings) -> Fut,
    Fut: Future<Output = Result<ExitStatus, Errors>>,
{
    let run = &run;
    // Unordered: an environment that finished frees its slot at once, even
    // while an earlier one still runs (`buffered` would hold it until every
    // earlier one is done); the outcomes are put back in file order.
    let mut outcomes: Vec<(usize, Outcome)> = stream::iter(names.iter().cloned().enumerate())
        .map(|(index, name)| async move {
            let mut one = settings.clone();
            one.environment = Some(name.clone());
            one.all_environments = false;
            let printer = Printer::new(settings.color, settings.log_format);
            let work = async {
                let result = run(one).await;
                // Its errors on stderr with its name, as a run of one would.
                if let Err(errors) = &result {
                    printer.errors(errors);
                }
                result
            };
            let (result, stdout) = section::scoped(&name, true, work).await;
            let outcome = Outcome {
                name,
                result,
                stdout,
            };
            (index, outcome)
        })
        .buffer_unordered(settings.parallel.max(1))
        .collect()
        .await;
    outcomes.sort_by_key(|(index, _)| *index);
    outcomes.into_iter().map(|(_, outcome)| outcome).collect()
}

/// The exit status of a run over several environments.
pub(crate) fn exit_status(outcomes: &[Outcome]) -> Result<ExitStatus, Errors> {
    let codes: Vec<i32> = outcomes.iter().map(Outcome::code).collect();
    let status = if codes.contains(&130) {
        ExitStatus::Interrupted
    } else if codes.contains(&143) {
        ExitStatus::Terminated
    } else if codes.iter().any(|c| *c != 0 && *c != 2) {
        ExitStatus::Error
    } else if codes.contains(&2) {
        ExitStatus::Changes
    } else {
        ExitStatus::Success
    };
    Ok(status)
}

/// One environment in the JSON document.
#[derive(Serialize)]
struct Section<'a> {
    name: &'a str,
    status: &'static str,
    exit_code: i32,
    /// The command's own JSON document, when it printed one.
    #[serde(skip_serializing_if = "Option::is_none")]
    report: Option<serde_json::Value>,
    errors: Vec<Diagnostic>,
}

/// The document: a section per environment (text, markdown), or one JSON
/// document with `environments[]`.
pub(crate) fn render(command: &str, format: Format, outcomes: &[Outcome]) -> String {
    match format {
        Format::Json => {
            let sections: Vec<Section> = outcomes
                .iter()
                .map(|o| Section {
                    name: &o.name,
                    status: o.status(command),
                    exit_code: o.code(),
                    report: serde_json::from_str(&o.stdout).ok(),
                    errors: o
                        .result
                        .as_ref()
                        .err()
                        .map(|e| e.list().iter().map(diagnostic).collect())
                        .unwrap_or_default(),
                })
                .collect();
            let exit = exit_status(outcomes).map_or(1, |s| s as i32);
            let document = serde_json::json!({
                "format_version": crate::render::json::FORMAT_VERSION,
                "command": command,
                "exit_code": exit,
                "environments": sections,
            });
            let mut text = serde_json::to_string_pretty(&document).expect("json");
            text.push('\n');
            text
        }
        Format::Text | Format::Markdown => {
            let mut text = String::new();
            for outcome in outcomes {
                let status = outcome.status(command);
                if format == Format::Markdown {
                    text.push_str(&format!("## Environment `{}`: {status}\n\n", outcome.name));
                } else {
                    text.push_str(&format!("=== environment {}: {status} ===\n", outcome.name));
                }
                text.push_str(&outcome.stdout);
                if let Err(errors) = &outcome.result {
                    for error in errors.list() {
                        let line = error.to_string();
                        if format == Format::Markdown {
                            text.push_str(&format!("```\nerror: {line}\n```\n"));
                        } else {
                            text.push_str(&format!("error: {line}\n"));
                        }
                    }
                }
                if !text.ends_with("\n\n") {
                    text.push('\n');
                }
            }
            text.push_str(&summary(command, outcomes));
            text.push('\n');
            text
        }
    }
}

/// `3 environments: 1 clean, 1 drift, 1 error (prod-us)`.
fn summary(command: &str, outcomes: &[Outcome]) -> String {
    let mut counts: Vec<(&'static str, Vec<&str>)> = Vec::new();
    for outcome in outcomes {
        let status = outcome.status(command);
        match counts.iter_mut().find(|(s, _)| *s == status) {
            Some((_, names)) => names.push(&outcome.name),
            None => counts.push((status, vec![&outcome.name])),
        }
    }
    let parts: Vec<String> = counts
        .iter()
        .map(|(status, names)| {
            if *status == "clean" {
                format!("{} clean", names.len())
            } else {
                format!("{} {status} ({})", names.len(), names.join(", "))
            }
        })
        .collect();
    format!(
        "{}: {}.",
        counted(outcomes.len(), "environments"),
        parts.join(", ")
    )
}

/// Runs a command over every environment and prints the document.
pub(crate) async fn run_all<F, Fut>(
    settings: &Settings,
    printer: &Printer,
    command: &str,
    run: F,
) -> Result<ExitStatus, Errors>
where
    F: Fn(Settings) -> Fut,
    Fut: Future<Output = Result<ExitStatus, Errors>>,
{
    let file = checked(settings)?;
    let names = file.environments.names.clone();
    let outcomes = each(&with_snapshot(settings, file), &names, run).await;
    printer.out(&render(command, settings.format, &outcomes));
    exit_status(&outcomes)
}

/// Where an environment's server is, and what it manages there.
struct Place<'a> {
    /// The admin DSN's host (loopback names spelled one way) and port.
    server: (String, u16),
    /// What belongs to the cluster, named: `("database", "app")`,
    /// `("role", "app_user")` (a role dropped with `absent` counts too).
    managed: Vec<(&'static str, String)>,
    /// The cluster's configuration the file declares: settings, `prune`,
    /// `[server.hba]`.
    server_config: Option<&'a DeclaredServer>,
}

fn place(resolved: &Resolved) -> Option<Place<'_>> {
    let admin = resolved.facts.get::<AdminConnection>()?;
    let host = match admin.dsn.host.to_ascii_lowercase().as_str() {
        "localhost" | "127.0.0.1" | "::1" | "[::1]" => "loopback".to_string(),
        other => other.to_string(),
    };
    let mut managed = Vec::new();
    if let Some(databases) = resolved.facts.get::<DeclaredDatabases>() {
        managed.extend(databases.0.keys().map(|d| ("database", d.clone())));
    }
    if let Some(roles) = resolved.facts.get::<DeclaredRoles>() {
        managed.extend(roles.0.keys().map(|r| ("role", r.clone())));
    }
    if let Some(absent) = resolved.facts.get::<AbsentRoles>() {
        managed.extend(absent.0.iter().map(|r| ("role", r.clone())));
    }
    Some(Place {
        server: (host, admin.dsn.port),
        managed,
        server_config: resolved.facts.get::<DeclaredServer>(),
    })
}

const OWN_SERVER: &str = "point each environment at its own server (`[environments.NAME.postgres] admin`), or give each its own databases and roles";
const ONE_CONFIGURATION: &str = "settings and the HBA file belong to the whole cluster: declare them once, alike for both, or point each environment at its own server";

/// How `first` and `second`, on one server, would undo each other's
/// work, if they would: what, and how to fix it. Never a setting's value.
fn fight(first: (&str, &Place), second: (&str, &Place)) -> Option<(String, &'static str)> {
    let ((a_name, a), (b_name, b)) = (first, second);
    let port = a.server.1;
    if let Some((kind, name)) = a.managed.iter().find(|m| b.managed.contains(m)) {
        return Some((
            format!("both manage {kind} `{name}` on the same server (port {port})"),
            OWN_SERVER,
        ));
    }
    let (Some(x), Some(y)) = (a.server_config, b.server_config) else {
        return None;
    };
    if let Some(name) = x
        .settings
        .iter()
        .find(|(name, value)| y.settings.get(*name).is_some_and(|v| v != *value))
        .map(|(name, _)| name)
    {
        return Some((
            format!("set server setting `{name}` differently on the same server (port {port})"),
            ONE_CONFIGURATION,
        ));
    }
    // `prune = true` resets every `ALTER SYSTEM` entry its file does not name.
    for (pruner, x, other, y) in [(a_name, x, b_name, y), (b_name, y, a_name, x)] {
        if let Some(name) = x
            .prune
            .then(|| y.settings.keys().find(|n| !x.settings.contains_key(*n)))
            .flatten()
        {
            return Some((
                format!("share a server (port {port}), where `{pruner}` prunes server setting `{name}` that `{other}` sets"),
                ONE_CONFIGURATION,
            ));
        }
    }
    match (&x.hba, &y.hba) {
        (Some(p), Some(q)) if p != q => Some((
            format!("declare different `[server.hba]` rules for the same server (port {port})"),
            ONE_CONFIGURATION,
        )),
        _ => None,
    }
}

/// Two environments on one cluster that manage the same database or role,
/// set one server setting to two values, prune a setting the other sets or
/// write the HBA file differently would undo each other's work: refused,
/// naming both (never a setting's value: it may be a secret).
pub(crate) fn conflicts(resolved: &[(String, &Resolved)]) -> Vec<Error> {
    let mut errors = Vec::new();
    let places: Vec<(&str, Option<Place>, &Resolved)> = resolved
        .iter()
        .map(|(name, r)| (name.as_str(), place(r), *r))
        .collect();
    for (i, (first, place, _)) in places.iter().enumerate() {
        let Some(place) = place else {
            continue;
        };
        for (second, other, r) in &places[i + 1..] {
            let Some(other) = other.as_ref().filter(|o| o.server == place.server) else {
                continue;
            };
            let Some((what, hint)) = fight((first, place), (second, other)) else {
                continue;
            };
            errors.push(
                Error::config(format!(
                    "environments `{first}` and `{second}` {what}: each apply would undo the other's"
                ))
                .at(r.loaded.source.locate(&["postgres", "admin"]))
                .key("postgres.admin")
                .hint(hint),
            );
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(name: &str, result: Result<ExitStatus, Errors>) -> Outcome {
        Outcome {
            name: name.into(),
            result,
            stdout: String::new(),
        }
    }

    #[test]
    fn an_error_beats_drift_and_drift_beats_clean() {
        let clean = || outcome("a", Ok(ExitStatus::Success));
        let drift = || outcome("b", Ok(ExitStatus::Changes));
        let error = || outcome("c", Err(Error::new("down").into()));
        assert_eq!(
            exit_status(&[clean(), drift(), error()]),
            Ok(ExitStatus::Error)
        );
        assert_eq!(exit_status(&[clean(), drift()]), Ok(ExitStatus::Changes));
        assert_eq!(exit_status(&[clean(), clean()]), Ok(ExitStatus::Success));
        let text = render("drift", Format::Text, &[clean(), drift(), error()]);
        assert!(
            text.contains("=== environment c: error ===\nerror: down"),
            "{text}"
        );
        assert!(
            text.ends_with("3 environments: 1 clean, 1 drift (b), 1 error (c).\n"),
            "{text}"
        );
        let one = render("drift", Format::Text, &[clean()]);
        assert!(one.ends_with("1 environment: 1 clean.\n"), "{one}");
        let json: serde_json::Value =
            serde_json::from_str(&render("drift", Format::Json, &[clean(), error()])).unwrap();
        assert_eq!(json["exit_code"], 1);
        assert_eq!(json["environments"][1]["status"], "error");
        assert_eq!(json["environments"][1]["errors"][0]["message"], "down");
    }

    #[test]
    fn every_environment_resolves_from_the_snapshot_read_once() {
        use clap::Parser;
        let dir = tempfile::tempdir().unwrap();
        let secret = |port: u16| {
            let path = dir.path().join(format!("admin-{port}"));
            std::fs::write(
                &path,
                format!("postgres://postgres:pw@127.0.0.1:{port}/postgres"),
            )
            .unwrap();
            format!("{:?}", path.display().to_string())
        };
        let path = dir.path().join("dbops.toml");
        std::fs::write(
            &path,
            format!(
                "[postgres]\nadmin = {{ file = {} }}\n\n[roles.app_reader]\n\n\
                 [environments.staging]\n\n[environments.prod.postgres]\nadmin = {{ file = {} }}\n",
                secret(5432),
                secret(5433)
            ),
        )
        .unwrap();
        let arguments = crate::cli::Arguments::try_parse_from([
            "dbops",
            "-f",
            path.to_str().unwrap(),
            "drift",
            "--all-environments",
        ])
        .unwrap();
        let (settings, _) = arguments.into_settings();
        let shared = with_snapshot(&settings, checked(&settings).unwrap());
        // The file is gone (or changed) once the run has read it: every
        // environment still resolves from what was read.
        std::fs::remove_file(&path).unwrap();
        for name in ["staging", "prod"] {
            let resolved = crate::commands::resolve(&shared, Some(name));
            assert!(resolved.is_ok(), "{name}: {:?}", resolved.err());
        }
        let on_disk = crate::commands::resolve(&settings, Some("staging"));
        assert!(on_disk.is_err(), "the file was read again");
    }
}
