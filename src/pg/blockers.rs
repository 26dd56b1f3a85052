//! Who holds the lock a statement of dbops gave up waiting for: after a
//! `lock_timeout`, the sessions with a transaction open longer than the wait
//! that wrote something or hold a lock stronger than a read's. Read on a
//! session of its own (the failed one may still be rolling back); never
//! signals or ends anything.

use std::time::Duration;

use crate::dsn::Dsn;
use crate::error::Error;
use crate::pg::connect::{connect, statement_lock_timeout, Access, APPLICATION_NAME};
use crate::util::durations::short;

const BLOCKERS: &str = "
SELECT a.pid,
       coalesce(a.application_name, ''),
       coalesce(a.usename::text, ''),
       coalesce(a.state, ''),
       extract(epoch FROM now() - a.xact_start)::float8
  FROM pg_stat_activity a
 WHERE a.pid <> pg_backend_pid()
   AND a.backend_type = 'client backend'
   AND a.application_name IS DISTINCT FROM $2
   AND a.xact_start < now() - make_interval(secs => $1)
   AND (a.backend_xid IS NOT NULL
        OR EXISTS (SELECT 1 FROM pg_locks l
                    WHERE l.pid = a.pid AND l.granted AND l.locktype = 'relation'
                      AND l.mode <> 'AccessShareLock'))
 ORDER BY a.xact_start
 LIMIT 5";

/// `error` (a statement's lock wait ran out) with who held the lock, as far
/// as the server shows it, and what to do.
pub(crate) async fn explain(error: Error, admin: &Dsn, timeout: Duration) -> Error {
    let waited = statement_lock_timeout();
    let mut error = error.cause(format!(
        "it waited {} (`--statement-lock-timeout`) for a lock another session holds",
        humantime::format_duration(waited)
    ));
    let sessions = match blockers(admin, waited, timeout).await {
        Ok(sessions) => sessions,
        Err(why) => {
            return error
                .cause(format!("could not read which session holds it: {why}"))
                .hint("`SELECT pid, state, xact_start FROM pg_stat_activity WHERE xact_start IS NOT NULL` shows open transactions; end the one that holds the lock, or raise `--statement-lock-timeout`");
        }
    };
    if sessions.is_empty() {
        return error.hint("the session that held the lock has ended; run `dbops apply` again, or raise `--statement-lock-timeout`");
    }
    let pids: Vec<String> = sessions.iter().map(|s| s.pid.to_string()).collect();
    for session in &sessions {
        error = error.cause(format!("held by {session}"));
    }
    error.hint(format!(
        "commit or roll back that transaction (or end the session: `SELECT pg_terminate_backend({})`), then run `dbops apply` again; or raise `--statement-lock-timeout`",
        pids.join(")`, `SELECT pg_terminate_backend(")
    ))
}

/// A session with a transaction open longer than dbops waited.
struct Blocker {
    pid: i32,
    application: String,
    user: String,
    state: String,
    open_for: f64,
}

impl std::fmt::Display for Blocker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let application = if self.application.is_empty() {
            "no application name".to_string()
        } else {
            format!("application `{}`", self.application)
        };
        write!(
            f,
            "pid {} ({application}, user `{}`, {}, its transaction open for {})",
            self.pid,
            self.user,
            self.state,
            short(Duration::from_secs_f64(self.open_for.max(0.0)))
        )
    }
}

async fn blockers(
    admin: &Dsn,
    waited: Duration,
    timeout: Duration,
) -> Result<Vec<Blocker>, String> {
    let client = connect(admin, Access::ReadOnly, timeout)
        .await
        .map_err(|e| e.message().to_string())?;
    let rows = client
        .query(BLOCKERS, &[&waited.as_secs_f64(), &APPLICATION_NAME])
        .await
        .map_err(|e| crate::pg::connect::describe(&e))?;
    Ok(rows
        .iter()
        .map(|row| Blocker {
            pid: row.get(0),
            application: row.get(1),
            user: row.get(2),
            state: row.get(3),
            open_for: row.get(4),
        })
        .collect())
}
