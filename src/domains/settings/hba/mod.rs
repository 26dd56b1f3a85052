//! PostgreSQL's own `pg_hba.conf` as a managed file (`[server.hba]`): the
//! application's roles only from where the pooler connects, SCRAM only;
//! the admin's maintenance over the local socket (peer); then the rules the
//! file declares. Never a lockout: a file under which the admin's own
//! current connection would match no accepting rule is refused before
//! anything is written (`matching`, a stated subset of PostgreSQL's rules),
//! and a file PostgreSQL reports an error in (`pg_hba_file_rules`) is put
//! back before anything reloads. Managed where dbops runs on the database
//! host; skipped with a note elsewhere.

pub(crate) mod apply;
pub(crate) mod desired;
pub(crate) mod diff;
pub(crate) mod live;
pub(crate) mod matching;
pub(crate) mod observe;
pub(crate) mod raw;
pub(crate) mod render;
pub(crate) mod resolve;
