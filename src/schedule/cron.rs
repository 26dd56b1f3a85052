//! Crontab lines (a user's crontab: five fields and the command). The
//! command is a POSIX shell line: every argument single-quoted (`'` as
//! `'\''`), then each `%` escaped as `\%` (cron turns a bare `%` into a
//! newline). Secrets stay in the environment file the caller names, read
//! with `set -a` so its `NAME=value` lines are exported.

use super::jobs::Job;

pub(crate) struct Options<'a> {
    pub(crate) binary: &'a str,
    pub(crate) file: &'a str,
    pub(crate) env_file: Option<&'a str>,
    pub(crate) metrics_dir: Option<&'a str>,
}

/// `text` as one shell word.
pub(crate) fn shell_word(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// The crontab's text: a header comment, then a line per job.
pub(crate) fn render(jobs: &[Job], o: &Options) -> String {
    let mut out = String::from(
        "# dbops jobs (`dbops schedule --cron`): install with `crontab FILE` as the user dbops runs as.\n",
    );
    for job in jobs {
        let mut words = vec![shell_word(o.binary)];
        words.extend(
            job.arguments(o.file, o.metrics_dir)
                .iter()
                .map(|a| shell_word(a)),
        );
        let mut command = String::new();
        if let Some(env_file) = o.env_file {
            command.push_str(&format!(
                "set -a && . {} && set +a && ",
                shell_word(env_file)
            ));
        }
        command.push_str("exec ");
        command.push_str(&words.join(" "));
        out.push_str(&format!(
            "# {}\n{} {}\n",
            job.name(),
            job.schedule.cron(),
            command.replace('%', "\\%")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::shell_word;

    #[test]
    fn words_are_single_quoted() {
        assert_eq!(shell_word("a b"), "'a b'");
        assert_eq!(shell_word("it's"), "'it'\\''s'");
    }
}
