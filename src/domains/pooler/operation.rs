//! The work apply does for the pooler: write its files, then make pgBouncer
//! reload. The auth file's entries for roles whose password this apply sets
//! are filled in from the verifiers the role transaction sent, so it never
//! needs to read them back.

use std::collections::BTreeMap;

use crate::managed_files::{DesiredFile, Write};

/// One auth-file entry: a verifier known at plan time, or one this apply sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AuthEntry {
    Verifier(String),
    SetByThisApply,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Operation {
    /// Write a file whose content the plan fixed.
    Write(Write),
    /// Write the auth file, its pending entries filled in at apply time.
    WriteAuthFile {
        file: DesiredFile,
        entries: BTreeMap<String, AuthEntry>,
    },
    /// Make pgBouncer reload files it has not read yet.
    Reload,
}
