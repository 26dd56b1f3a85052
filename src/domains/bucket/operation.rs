//! The work apply does on a bucket, one variant per property.

use crate::s3::bucket::Encryption;
use crate::s3::lifecycle::Rule;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Operation {
    Create {
        bucket: String,
    },
    Versioning {
        bucket: String,
        enabled: bool,
    },
    Encryption {
        bucket: String,
        value: Encryption,
    },
    PublicAccessBlock {
        bucket: String,
        block: bool,
    },
    /// The whole configuration: S3 has no per-rule API.
    Lifecycle {
        bucket: String,
        rules: Vec<Rule>,
    },
}

impl Operation {
    pub(crate) fn bucket(&self) -> &str {
        match self {
            Operation::Create { bucket }
            | Operation::Versioning { bucket, .. }
            | Operation::Encryption { bucket, .. }
            | Operation::PublicAccessBlock { bucket, .. }
            | Operation::Lifecycle { bucket, .. } => bucket,
        }
    }
}
