//! S3, neutral (no domain): what the file declares about a bucket
//! ([`BucketSpec`]: endpoint, credentials, the properties dbops manages),
//! lifecycle rules in S3's own vocabulary, and clients with bounded timeouts
//! whose errors name the API and the endpoint, never a credential. The
//! bucket domain converges buckets with it; the backup domain reads and
//! writes objects with it. Never prints, never knows a domain.

pub(crate) mod bucket;
pub(crate) mod client;
pub(crate) mod lifecycle;

pub(crate) use bucket::BucketSpec;
