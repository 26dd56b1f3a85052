//! Which environment the running code works for, and where its report goes.
//!
//! A run over several environments (`--all-environments`) runs each one's
//! command inside a [`scoped`] section: its reports on stdout are kept for
//! its own section of the one document printed at the end (reports of
//! environments running side by side never interleave), its lines on stderr
//! are prefixed `[NAME]`, and every event names the environment. A run of
//! one environment (`--environment NAME`) names it in events only. This
//! module only routes text; it never formats a report.

use std::cell::RefCell;
use std::future::Future;

tokio::task_local! {
    static SECTION: Section;
}

struct Section {
    environment: String,
    /// Whether stdout is kept for the section (several environments).
    capture: bool,
    stdout: RefCell<String>,
    /// The tasks driving the section's server sessions: a section ends when
    /// they have ended, so `--parallel N` bounds open sessions, not only
    /// running commands.
    sessions: RefCell<Vec<tokio::task::JoinHandle<()>>>,
}

/// How long a section waits for its sessions to close once its work is done.
const CLOSE_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Runs `work` as environment `environment`'s; with `capture`, returns what
/// it printed on stdout instead of printing it.
pub(crate) async fn scoped<F: Future>(
    environment: &str,
    capture: bool,
    work: F,
) -> (F::Output, String) {
    let section = Section {
        environment: environment.to_string(),
        capture,
        stdout: RefCell::new(String::new()),
        sessions: RefCell::new(Vec::new()),
    };
    SECTION
        .scope(section, async {
            let output = work.await;
            let sessions = SECTION.with(|s| std::mem::take(&mut *s.sessions.borrow_mut()));
            // Every client is dropped with the work: each task sends
            // `Terminate` and ends; a stuck one is given up on.
            let _ = tokio::time::timeout(CLOSE_WAIT, async {
                for session in sessions {
                    let _ = session.await;
                }
            })
            .await;
            let text = SECTION.with(|s| std::mem::take(&mut *s.stdout.borrow_mut()));
            (output, text)
        })
        .await
}

/// Remembers the task driving a server session opened in this section.
pub(crate) fn track(task: tokio::task::JoinHandle<()>) {
    let _ = SECTION.try_with(|s| s.sessions.borrow_mut().push(task));
}

/// The environment the running code works for.
pub(crate) fn environment() -> Option<String> {
    SECTION.try_with(|s| s.environment.clone()).ok()
}

/// Keeps `text` for the section when stdout is captured; false otherwise
/// (the caller prints it).
pub(crate) fn capture(text: &str) -> bool {
    SECTION
        .try_with(|s| {
            if s.capture {
                s.stdout.borrow_mut().push_str(text);
            }
            s.capture
        })
        .unwrap_or(false)
}

/// `[NAME] ` before a stderr line when environments run side by side.
pub(crate) fn prefix() -> String {
    SECTION
        .try_with(|s| {
            if s.capture {
                format!("[{}] ", s.environment)
            } else {
                String::new()
            }
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sections_keep_their_own_stdout_and_name() {
        assert_eq!(environment(), None);
        assert!(!capture("x"));
        let ((), text) = scoped("staging", true, async {
            assert_eq!(environment().as_deref(), Some("staging"));
            assert_eq!(prefix(), "[staging] ");
            assert!(capture("report\n"));
        })
        .await;
        assert_eq!(text, "report\n");
        let ((), text) = scoped("prod", false, async {
            assert_eq!(prefix(), "");
            assert!(!capture("printed"));
        })
        .await;
        assert_eq!(text, "");
    }
}
