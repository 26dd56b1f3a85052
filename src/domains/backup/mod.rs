//! The backup-tool domain: what `[backup]` declares beyond the bucket: the
//! archive settings it implies (`archive`), the tool's rendered configuration
//! files (managed files), cross-checks against the bucket (`lint`), and backup
//! health for `drift` (`health`, reading the bucket through `listing`), and
//! `dbops restore-test` (`restore`). Owns its raw section and its resolution.

pub mod archive;
pub mod desired;
pub(crate) mod domain;
pub mod health;
pub mod lint;
pub mod listing;
pub mod raw;
pub mod render;
pub mod resolve;
pub mod restore;

use crate::contract::DomainId;

/// The backup tool: its files and backup health.
pub(crate) const ID: DomainId = DomainId::new("backup", "backup");
