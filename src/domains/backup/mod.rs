//! The backup-tool domain: what `[backup]` declares beyond the bucket: the
//! archive settings it implies (`archive`), the tool's rendered configuration
//! files (managed files), cross-checks against the bucket (`lint`), and backup
//! health for `drift` (`health`, reading the bucket, or a repository directory, through `listing`), and
//! `dbops restore-test` (`restore`). Owns its raw section and its resolution.

pub(crate) mod archive;
pub(crate) mod chain;
pub(crate) mod chain_state;
pub(crate) mod copies;
pub(crate) mod desired;
pub(crate) mod dir_store;
pub(crate) mod domain;
pub(crate) mod health;
pub(crate) mod lint;
pub(crate) mod listing;
pub(crate) mod raw;
pub(crate) mod render;
pub(crate) mod resolve;
pub mod restore;

use crate::contract::DomainId;

/// The backup tool: its files and backup health.
pub(crate) const ID: DomainId = DomainId::new("backup", "backup");
