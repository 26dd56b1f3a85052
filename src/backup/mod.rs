//! The backup-tool domain: what `[backup]` declares beyond archive settings:
//! the tool's rendered configuration files (managed files), cross-checks
//! against the bucket, and backup health for `drift`.

pub mod desired;
pub mod health;
pub mod lint;
pub mod render;
