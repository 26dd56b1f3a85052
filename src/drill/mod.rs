//! A drill: a throwaway PostgreSQL server on 127.0.0.1 that a restore test
//! fills from a backup, checks, and deletes. What every drill shares lives
//! here: `[restore_test]` (`settings`), the work directory's layout and the
//! settings every throwaway server gets (`layout`), the server itself
//! (`cluster`), the drills a killed dbops left behind (`leftovers`), the
//! declared checks (`check`) and the evidence document (`evidence`).
//!
//! It knows no domain and no backup tool: the domains that restore (the
//! physical backups, the logical dumps) bring the data; this never connects
//! to a production server and writes nothing outside its work directory.

pub(crate) mod check;
pub(crate) mod cluster;
pub mod evidence;
pub(crate) mod layout;
pub(crate) mod leftovers;
pub(crate) mod outcome;
pub(crate) mod settings;
pub(crate) mod verify;
