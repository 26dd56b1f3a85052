//! `dbops restore-test`: restore a backup into a throwaway server, check it,
//! and leave evidence in the bucket. Each part owns one step: the recovery
//! target (`target`), the tool's backup catalogue and the choice of a backup
//! (`catalog`), the window a random target is drawn from (`window`), the tool's command lines and recovery settings (`tool`, pure,
//! snapshot-tested), the throwaway cluster (`cluster`), the drills a killed
//! dbops left behind (`leftovers`), the evidence document
//! (`evidence`) and the run that sequences them (`run`).
//!
//! It never connects to the production server and never writes to the
//! bucket except the evidence files: the restored server runs with archiving
//! off, on 127.0.0.1 and a socket in its own work directory.

pub(crate) mod catalog;
pub(crate) mod run;
pub(crate) mod target;
pub(crate) mod tool;
pub(crate) mod window;
