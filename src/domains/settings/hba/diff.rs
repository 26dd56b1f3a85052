//! The HBA file's change: the rendered file against disk (a redacted diff
//! when it takes over a hand-written one), or a reload when the file on disk
//! is newer than the server's last load. Refused before anything is written
//! when the admin's own connection would be shut out, or when the new file
//! could not be checked through `pg_hba_file_rules`. Pure.

use std::collections::BTreeSet;
use std::path::PathBuf;

use super::desired::DesiredHba;
use super::live::LiveHba;
use super::matching::{admits, Connection};
use super::render::render;
use crate::error::Error;
use crate::managed_files::{self, DesiredFile, Redaction};
use crate::plan::{Action, Address, Change, Planned};

/// What the HBA part of the settings plan does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HbaOperation {
    /// Write the file, check it through `pg_hba_file_rules` (putting the old
    /// one back on an error), then reload.
    Write(Box<DesiredFile>),
    /// Reload: the file on disk is newer than the server's last load.
    Reload,
}

pub(crate) fn address(path: &std::path::Path) -> Address {
    crate::domains::settings::ID
        .address()
        .word("file")
        .file(path)
}

/// The change, if any; a note when the file is not on this host.
pub(crate) fn diff(
    desired: &DesiredHba,
    live: &LiveHba,
    admin_certificate: bool,
    notes: &mut Vec<String>,
) -> Result<Option<Planned<HbaOperation>>, Error> {
    let path = PathBuf::from(&live.path);
    let Some(on_disk) = &live.file else {
        notes.push(format!(
            "`[server.hba]`: the server reads `{}`, which is not on this host; dbops manages it where it runs on the database host",
            live.path
        ));
        return Ok(None);
    };
    let connection = Connection {
        address: live.admin.address.as_deref().and_then(|a| a.parse().ok()),
        ssl: live.admin.ssl,
        database: live.admin.database.clone(),
        user: live.admin.user.clone(),
        groups: live.admin.groups.iter().cloned().collect::<BTreeSet<_>>(),
        client_certificate: admin_certificate,
    };
    if let Err(why) = admits(&desired.lines, &connection) {
        let rule = match connection.address {
            None => format!(
                "type = \"local\", database = [\"all\"], user = [\"{}\"], method = \"scram-sha-256\"",
                connection.user
            ),
            Some(ip) => format!(
                "type = \"{}\", database = [\"all\"], user = [\"{}\"], address = \"{ip}/{}\", method = \"scram-sha-256\"",
                if connection.ssl { "hostssl" } else { "host" },
                connection.user,
                if ip.is_ipv4() { 32 } else { 128 }
            ),
        };
        return Err(Error::config(format!(
            "the pg_hba.conf `[server.hba]` renders would shut out dbops's own connection ({}): {why}; nothing was written",
            connection.describe()
        ))
        .key("server.hba.rules")
        .hint(format!("add a rule that admits it, for example `[[server.hba.rules]]` with {rule}")));
    }
    if !live.rules_readable {
        return Err(Error::config(
            "managing pg_hba.conf needs a superuser admin: a new file is checked through `pg_hba_file_rules` before the server loads it, and only a superuser may read that view",
        )
        .key("server.hba"));
    }
    let file = DesiredFile {
        address: address(&path),
        path,
        content: render(desired),
        mode: on_disk.mode.unwrap_or(0o600),
        owner: None,
        redaction: Redaction::Hba,
        carried: Vec::new(),
    };
    if let Some(planned) = managed_files::diff::diff(&file, on_disk)? {
        return Ok(Some(planned.map(|w| HbaOperation::Write(Box::new(w.file)))));
    }
    let stale = live.modified_at.is_some_and(|m| m > live.loaded_at);
    Ok(stale.then(|| {
        Change::new(file.address.clone(), Action::Update)
            .reason("written but not loaded: the file is newer than the server's last configuration load; apply reloads it")
            .with(HbaOperation::Reload)
    }))
}
