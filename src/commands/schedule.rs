//! `dbops schedule --kubernetes|--systemd|--cron`: the jobs of the file's
//! environments for the chosen runner (src/schedule). Reads the file alone:
//! no secret is resolved, nothing is connected to. Every value that goes
//! into a rendered file is refused if it holds a control character.

use super::ExitStatus;
use crate::cli::{Runner, ScheduleArgs as Options, Settings};
use crate::config;
use crate::error::{Error, Errors};
use crate::printer::Printer;
use crate::schedule::{cron, jobs, kubernetes, systemd, Job};

/// One environment's jobs and the secrets it references.
struct Planned {
    jobs: Vec<Job>,
    variables: Vec<String>,
    files: Vec<String>,
    work_dir: Option<String>,
    /// What a pod forgets when it ends: a dump directory, the notification state.
    ephemeral: Vec<&'static str>,
}

pub(crate) fn run(
    settings: &Settings,
    printer: &Printer,
    options: &Options,
) -> Result<ExitStatus, Errors> {
    let file = config::read(&settings.file)?;
    let names: Vec<Option<String>> = match (&settings.environment, file.environments.is_empty()) {
        (Some(name), _) => vec![Some(name.clone())],
        (None, true) => vec![None],
        (None, false) => file.environments.names.iter().cloned().map(Some).collect(),
    };
    let mut planned = Vec::new();
    for name in &names {
        let loaded = file.select(name.as_deref())?;
        if !loaded.shape_errors.is_empty() {
            return Err(Errors::new(loaded.shape_errors));
        }
        let references = loaded
            .source
            .root()
            .map(config::references::references)
            .unwrap_or_default();
        let (variables, files) = jobs::secrets(&references);
        planned.push(Planned {
            jobs: jobs::jobs(&loaded.raw, name.as_deref()),
            variables,
            files,
            work_dir: loaded
                .raw
                .restore_test
                .as_ref()
                .and_then(|r| r.work_dir.clone()),
            ephemeral: ephemeral(&loaded.raw),
        });
    }
    let path = absolute(&settings.file)?;
    check_values(options, &path, &planned)?;
    match options.runner() {
        Runner::Kubernetes => kubernetes_manifests(printer, options, &planned),
        Runner::Systemd => systemd_units(&path, printer, options, &planned),
        Runner::Cron => {
            let mut text = String::new();
            for one in &planned {
                let env_file = (!one.variables.is_empty()).then_some(options.env_file.as_str());
                let rendered = cron::render(
                    &one.jobs,
                    &cron::Options {
                        binary: &options.binary,
                        file: &path,
                        env_file,
                        metrics_dir: options.metrics_dir.as_deref(),
                    },
                );
                if text.is_empty() {
                    text = rendered;
                } else {
                    text.extend(rendered.lines().skip(1).map(|l| format!("{l}\n")));
                }
            }
            write_or_print(printer, options.out.as_deref(), "dbops.crontab", &text)?;
            Ok(ExitStatus::Success)
        }
    }
}

/// What a pod forgets when it ends: a dump directory, the notification state.
fn ephemeral(raw: &crate::config::raw::RawConfig) -> Vec<&'static str> {
    let dumps = raw.dumps.as_ref().is_some_and(|d| d.directory.is_some());
    let state = raw.notify.as_ref().is_some_and(|n| n.state_file.is_some());
    [
        (dumps, "`[dumps] directory`"),
        (state, "`[notify] state_file`"),
    ]
    .into_iter()
    .filter_map(|(on, what)| on.then_some(what))
    .collect()
}

fn kubernetes_manifests(
    printer: &Printer,
    options: &Options,
    planned: &[Planned],
) -> Result<ExitStatus, Errors> {
    let image = options.image.as_deref().ok_or_else(|| {
        Error::config("`schedule --kubernetes` needs the image to run: `--image REPOSITORY:TAG`")
            .hint("build it with the repository's Dockerfile (`docker build --target dbops ...`) and push it")
    })?;
    if options.metrics_dir.is_some() {
        return Err(Error::config("`--metrics-dir` is for `--systemd` and `--cron`: a CronJob's pod has no node_exporter textfile directory")
            .hint("watch the CronJobs' failed Jobs (kube-state-metrics), and declare `[notify]` for webhooks")
            .into());
    }
    let drills = planned
        .iter()
        .any(|p| p.jobs.iter().any(|j| j.command == "restore-test"));
    if drills && options.restore_volume_size.is_none() {
        return Err(Error::config("the file declares `[restore_test]`: `schedule --kubernetes` needs the restored server's volume size, `--restore-volume-size SIZE` (e.g. `50Gi`)")
            .hint("a restore test writes a whole data directory; give at least the database's size plus its WAL")
            .into());
    }
    let mut ephemeral: Vec<&str> = planned.iter().flat_map(|p| p.ephemeral.clone()).collect();
    ephemeral.dedup();
    for what in ephemeral {
        printer.warnings(&[crate::diagnostics::Warning {
            key: None,
            location: None,
            message: format!("{what} is a path inside the job's pod, gone when the pod ends: use a bucket, or mount a volume there (docs/scheduling.md)"),
        }]);
    }
    let mut text = String::new();
    for one in planned {
        text.push_str(&kubernetes::render(
            &one.jobs,
            &kubernetes::Options {
                image,
                secret: &options.secret,
                config_map: &options.config_map,
                restore_size: options.restore_volume_size.as_deref(),
                work_dir: one.work_dir.as_deref(),
                variables: &one.variables,
                files: &one.files,
            },
        ));
    }
    write_or_print(
        printer,
        options.out.as_deref(),
        "dbops-cronjobs.yaml",
        &text,
    )?;
    Ok(ExitStatus::Success)
}

fn systemd_units(
    path: &str,
    printer: &Printer,
    options: &Options,
    planned: &[Planned],
) -> Result<ExitStatus, Errors> {
    let mut units = Vec::new();
    for one in planned {
        let env_file = (!one.variables.is_empty()).then_some(options.env_file.as_str());
        units.extend(systemd::render(
            &one.jobs,
            &systemd::Options {
                binary: &options.binary,
                file: path,
                env_file,
                metrics_dir: options.metrics_dir.as_deref(),
                user: &options.user,
            },
        ));
    }
    match &options.out {
        Some(dir) => {
            for (name, content) in &units {
                write(&dir.join(name), content)?;
            }
            printer.note(&format!(
                "Wrote {} units to `{}`; install them in `/etc/systemd/system` and enable the timers: `systemctl enable --now dbops-*.timer`",
                units.len(),
                dir.display()
            ));
        }
        None => {
            let text: Vec<String> = units
                .iter()
                .map(|(name, content)| format!("### {name}\n{content}"))
                .collect();
            printer.out(&text.join("\n"));
        }
    }
    Ok(ExitStatus::Success)
}

fn write_or_print(
    printer: &Printer,
    dir: Option<&std::path::Path>,
    name: &str,
    text: &str,
) -> Result<(), Errors> {
    match dir {
        Some(dir) => {
            write(&dir.join(name), text)?;
            printer.note(&format!("Wrote `{}`", dir.join(name).display()));
        }
        None => printer.out(text),
    }
    Ok(())
}

fn write(path: &std::path::Path, text: &str) -> Result<(), Errors> {
    crate::util::files::write_atomic(path, text.as_bytes(), 0o644, None).map_err(Errors::from)
}

/// The file's absolute path, as the units and crontab name it.
fn absolute(file: &std::path::Path) -> Result<String, Errors> {
    let path = std::path::absolute(file)
        .map_err(|e| Error::new(format!("cannot make `{}` absolute: {e}", file.display())))?;
    Ok(path.display().to_string())
}

/// Refuses a value with a control character (it would end a unit's line, a
/// crontab entry or a YAML scalar's meaning), a relative path where the
/// runner has no working directory, a systemd user name systemd would
/// reject, and (for Kubernetes) a variable name a Secret cannot hold as a key.
fn check_values(options: &Options, file: &str, planned: &[Planned]) -> Result<(), Errors> {
    let mut values: Vec<(&str, &str)> = vec![
        ("the desired-state file's path", file),
        ("--secret", &options.secret),
        ("--config-map", &options.config_map),
        ("--binary", &options.binary),
        ("--env-file", &options.env_file),
        ("--user", &options.user),
    ];
    values.extend(options.image.as_deref().map(|v| ("--image", v)));
    values.extend(options.metrics_dir.as_deref().map(|v| ("--metrics-dir", v)));
    values.extend(
        options
            .restore_volume_size
            .as_deref()
            .map(|v| ("--restore-volume-size", v)),
    );
    for one in planned {
        values.extend(
            one.variables
                .iter()
                .map(|v| ("an `{ env = ... }` reference", v.as_str())),
        );
        values.extend(
            one.files
                .iter()
                .map(|v| ("a `{ file = ... }` reference", v.as_str())),
        );
        values.extend(
            one.work_dir
                .as_deref()
                .map(|v| ("`[restore_test] work_dir`", v)),
        );
    }
    for (what, value) in values {
        if value.chars().any(char::is_control) {
            return Err(Error::config(format!(
                "{what} holds a control character (`{}`): it cannot be written into a job definition",
                crate::error::one_line(value)
            ))
            .into());
        }
    }
    for name in ["--binary", "--env-file"] {
        let value = if name == "--binary" {
            &options.binary
        } else {
            &options.env_file
        };
        if !value.starts_with('/') {
            return Err(
                Error::config(format!("`{name} {value}` must be an absolute path"))
                    .hint("systemd and cron run with a minimal PATH and working directory")
                    .into(),
            );
        }
    }
    let user_ok = options
        .user
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && !options.user.is_empty()
        && !options.user.starts_with('-');
    if !user_ok {
        return Err(Error::config(format!(
            "`--user {}` is not a user name systemd accepts",
            crate::error::one_line(&options.user)
        ))
        .hint("letters, digits, `_`, `-` and `.`, not starting with `-`")
        .into());
    }
    if options.runner() == Runner::Kubernetes {
        let key = |v: &str| {
            !v.is_empty()
                && v.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
        };
        if let Some(bad) = planned.iter().flat_map(|p| &p.variables).find(|v| !key(v)) {
            return Err(Error::config(format!(
                "the file references the variable `{}`, which a Kubernetes Secret cannot hold as a key",
                crate::error::one_line(bad)
            ))
            .hint("Secret keys are letters, digits, `-`, `.` and `_`: rename the variable in the file's `{ env = ... }`")
            .into());
        }
    }
    Ok(())
}
