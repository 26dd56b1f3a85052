//! Neutral helpers shared by every layer: text diffs, digests, durations, name
//! suggestions, files, shell commands, file owners, credential detection and
//! counting in words. Nothing here knows a domain, the plan or the config
//! file.

pub(crate) mod credential;
pub(crate) mod digest;
pub(crate) mod durations;
pub(crate) mod files;
pub(crate) mod owner;
pub(crate) mod shell;
pub(crate) mod sizes;
pub(crate) mod suggest;
pub(crate) mod text_diff;
pub(crate) mod words;
