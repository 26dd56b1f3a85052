//! The bucket domain's live state: only the properties the file declares are
//! read, so an endpoint that lacks an API nobody declared never fails a plan.

use serde::Serialize;

use crate::s3::bucket::Encryption;
use crate::s3::lifecycle::Rule;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub(crate) struct LiveBucket {
    pub(crate) exists: bool,
    /// `Enabled`, `Suspended`, or `None` (never enabled). Read when declared.
    pub(crate) versioning: Option<String>,
    /// The default encryption: `AES256`, or the KMS key id. Read when declared.
    pub(crate) encryption: Option<Encryption>,
    /// All four public access block settings on. Read when declared.
    pub(crate) block_public_access: Option<bool>,
    /// Rules by id order; empty when there is no configuration. Read when declared.
    pub(crate) lifecycle: Vec<Rule>,
}
