//! The storage-bucket domain: an S3-compatible bucket's existence, versioning,
//! default encryption, public access block and lifecycle rules, through
//! aws-sdk-s3 with a custom endpoint. Owns its raw section, resolution,
//! desired and live state, observe (declared properties only), pure diff,
//! operations and apply.

pub(crate) mod apply;
pub(crate) mod diff;
pub(crate) mod domain;
pub(crate) mod live;
pub(crate) mod observe;
pub(crate) mod operation;
pub(crate) mod raw;
pub(crate) mod resolve;

pub(crate) use operation::Operation;

use crate::contract::DomainId;

/// S3 buckets.
pub(crate) const ID: DomainId = DomainId::new("bucket", "bucket");
