//! Neutral helpers shared by every layer: text diffs, digests, durations, name
//! suggestions, files, shell commands and file owners. Nothing here knows a
//! domain, the plan or the config file.

pub mod digest;
pub mod durations;
pub mod files;
pub mod owner;
pub mod shell;
pub mod suggest;
pub mod text_diff;
