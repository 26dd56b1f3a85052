//! systemd service and timer units, one pair per job. `ExecStart=` is
//! written in systemd's own command-line grammar: `%` doubled (specifiers),
//! `$` doubled (variable expansion), and an argument holding a space, a
//! quote or a backslash double-quoted with `\"` and `\\`. Secrets stay in
//! the `EnvironmentFile=` the caller names; the units hold none.

use super::jobs::Job;

pub(crate) struct Options<'a> {
    /// dbops's absolute path.
    pub(crate) binary: &'a str,
    /// The desired-state file's absolute path.
    pub(crate) file: &'a str,
    /// Where the referenced variables are (`NAME=value` lines), when the
    /// file references any.
    pub(crate) env_file: Option<&'a str>,
    /// node_exporter's textfile directory, for `--metrics-file`.
    pub(crate) metrics_dir: Option<&'a str>,
    /// The user the jobs run as.
    pub(crate) user: &'a str,
}

/// One argument of `ExecStart=`, as systemd parses it back.
pub(crate) fn argument(text: &str) -> String {
    quoted(&text.replace('%', "%%").replace('$', "$$"))
}

/// The executable of `ExecStart=`: systemd expands specifiers in it but no
/// variables, so only `%` is doubled (measured with `systemd-analyze verify`).
pub(crate) fn executable(text: &str) -> String {
    quoted(&text.replace('%', "%%"))
}

fn quoted(escaped: &str) -> String {
    if escaped.is_empty()
        || escaped
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, '"' | '\'' | '\\' | ';'))
    {
        let inner = escaped.replace('\\', "\\\\").replace('"', "\\\"");
        format!("\"{inner}\"")
    } else {
        escaped.to_string()
    }
}

/// A value of a `KEY=value` line that is not a command line (`%` still a
/// specifier).
fn value(text: &str) -> String {
    text.replace('%', "%%")
}

/// `(file name, content)` of each unit.
pub(crate) fn render(jobs: &[Job], o: &Options) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for job in jobs {
        let name = job.name();
        let mut command = vec![executable(o.binary)];
        command.extend(
            job.arguments(o.file, o.metrics_dir)
                .iter()
                .map(|a| argument(a)),
        );
        let environment = o
            .env_file
            .map(|f| format!("EnvironmentFile={}\n", value(f)))
            .unwrap_or_default();
        let what = match job.command {
            "drift" => "check live state against the file",
            "dump" => "take a dump set of each database",
            _ => "restore the newest backup and run the checks",
        };
        let on = job
            .environment
            .as_ref()
            .map(|e| format!(" ({e})"))
            .unwrap_or_default();
        out.push((
            format!("{name}.service"),
            format!(
                "[Unit]\nDescription=dbops {}{on}: {what}\nWants=network-online.target\nAfter=network-online.target\n\n[Service]\nType=oneshot\nUser={}\n{environment}ExecStart={}\nTimeoutStartSec={}\nNoNewPrivileges=yes\nPrivateTmp=yes\n",
                job.command,
                value(o.user),
                command.join(" "),
                job.deadline.as_secs().max(1),
            ),
        ));
        out.push((
            format!("{name}.timer"),
            format!(
                "[Unit]\nDescription=dbops {}{on} on schedule\n\n[Timer]\nOnCalendar={}\nPersistent=true\nRandomizedDelaySec=300\n\n[Install]\nWantedBy=timers.target\n",
                job.command,
                job.schedule.calendar(),
            ),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::argument;

    #[test]
    fn arguments_are_escaped_as_systemd_reads_them() {
        assert_eq!(argument("/usr/bin/dbops"), "/usr/bin/dbops");
        assert_eq!(argument("/srv/100%/a b"), "\"/srv/100%%/a b\"");
        assert_eq!(argument("$HOME"), "$$HOME");
        assert_eq!(argument("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(argument(""), "\"\"");
    }
}
