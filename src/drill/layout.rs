//! Where everything of one drill lives inside its work directory, the
//! programs it runs (without a shell), and the settings every throwaway
//! server gets whatever it restores. Pure: the cluster runs what this
//! returns. It knows no backup tool and no domain.

use std::path::{Path, PathBuf};

use crate::util::shell::shell_quote;

/// Where everything of one restore test lives, inside its work directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Layout {
    pub(crate) work: PathBuf,
}

impl Layout {
    pub(crate) fn data(&self) -> PathBuf {
        self.work.join("data")
    }
    pub(crate) fn socket(&self) -> PathBuf {
        self.work.join("socket")
    }
    pub(crate) fn lock(&self) -> PathBuf {
        self.work.join("lock")
    }
    pub(crate) fn server_log(&self) -> PathBuf {
        self.work.join("postgres.log")
    }
    pub(crate) fn hba(&self) -> PathBuf {
        self.work.join("pg_hba.conf")
    }
    pub(crate) fn ident(&self) -> PathBuf {
        self.work.join("pg_ident.conf")
    }
}

/// A program and its arguments, run without a shell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Invocation {
    pub(crate) program: String,
    pub(crate) args: Vec<String>,
}

impl Invocation {
    pub(crate) fn new(program: &str) -> Self {
        Self {
            program: program.into(),
            args: Vec::new(),
        }
    }

    pub(crate) fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// The command line as a shell would read it, for the restore log.
    pub(crate) fn display(&self) -> String {
        std::iter::once(self.program.as_str())
            .chain(self.args.iter().map(String::as_str))
            .map(shell_quote)
            .collect::<Vec<_>>()
            .join(" ")
    }
}

fn path(p: &Path) -> String {
    p.display().to_string()
}

/// What every throwaway server runs with, whatever it restores: its own
/// port on 127.0.0.1 and socket, no archiving, no replication, no TLS, its
/// own pg_hba.conf and no logging collector.
pub(crate) fn base_settings(layout: &Layout, port: u16) -> Vec<(String, String)> {
    [
        // Recovery neither pauses nor stops on a parameter the primary
        // raised after the backup (PostgreSQL checks them only for hot standby).
        ("hot_standby", "off".into()),
        ("port", port.to_string()),
        ("listen_addresses", "127.0.0.1".into()),
        ("unix_socket_directories", path(&layout.socket())),
        ("archive_mode", "off".into()),
        ("archive_command", String::new()),
        ("ssl", "off".into()),
        ("hba_file", path(&layout.hba())),
        ("ident_file", path(&layout.ident())),
        ("logging_collector", "off".into()),
        ("primary_conninfo", String::new()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// The restored server's pg_hba.conf: its socket only (a 0700 directory of
/// the server's OS user), no TCP login at all.
pub(crate) const HBA: &str =
    "# dbops restore-test: the owner of the socket directory only\nlocal all all trust\n";

/// Lines appended to `postgresql.auto.conf` (the last setting wins).
pub(crate) fn auto_conf(settings: &[(String, String)]) -> String {
    let mut text = String::from("# dbops restore-test: a throwaway server\n");
    for (name, value) in settings {
        text.push_str(&format!("{name} = '{}'\n", value.replace('\'', "''")));
    }
    text
}
