//! Sessions to the cluster's databases for one run, opened on first use and
//! shared by every domain that reads the same database: grants, owners and
//! the `public` schema of `app` are read on one backend, not three, and the
//! admin session serves its own database. Each backend costs the server a
//! process start and a cold catalog cache and the client a SCRAM key
//! derivation, which over many environments is most of a drift's work.
//!
//! Only for reading: changes open their own sessions (`per_database`), one
//! transaction per database. The sessions must not outlive their admin
//! session: a server restart ends every session, so the owner drops them on
//! reconnect.

use std::collections::BTreeMap;
use std::ops::Deref;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::OnceCell;
use tokio_postgres::Client;

use super::connect::{connect_if_exists, Access, Connected};
use crate::dsn::Dsn;
use crate::error::Result;

/// The sessions opened so far, by database.
#[derive(Default)]
pub(crate) struct Opened {
    cells: Mutex<BTreeMap<String, Arc<OnceCell<Arc<Client>>>>>,
}

impl Opened {
    fn cell(&self, database: &str) -> Arc<OnceCell<Arc<Client>>> {
        let mut cells = self.cells.lock().unwrap_or_else(|e| e.into_inner());
        cells.entry(database.to_string()).or_default().clone()
    }
}

/// Opens (or reuses) a session to any database of the admin's cluster.
#[derive(Clone, Copy)]
pub(crate) struct Databases<'a> {
    /// The admin session, which serves its own database.
    pub(crate) client: &'a Client,
    pub(crate) admin: &'a Dsn,
    pub(crate) access: Access,
    pub(crate) timeout: Duration,
    pub(crate) opened: &'a Opened,
}

/// A session to one database: the admin's own, or one opened for it.
pub(crate) enum Database<'a> {
    Admin(&'a Client),
    Opened(Arc<Client>),
}

impl Deref for Database<'_> {
    type Target = Client;

    fn deref(&self) -> &Client {
        match self {
            Database::Admin(client) => client,
            Database::Opened(client) => client,
        }
    }
}

impl<'a> Databases<'a> {
    /// A session to `database`, `None` when it does not exist (yet: an apply
    /// may create it, so that answer is asked again next time). Callers
    /// asking for the same database at once share one connection attempt; a
    /// failed attempt is not remembered.
    pub(crate) async fn session(&self, database: &str) -> Result<Option<Database<'a>>> {
        if database == self.admin.database {
            return Ok(Some(Database::Admin(self.client)));
        }
        let cell = self.opened.cell(database);
        let opened = cell
            .get_or_try_init(|| async {
                let dsn = self.admin.with_database(database);
                match connect_if_exists(&dsn, self.access, self.timeout).await {
                    Ok(Connected::Client(client)) => Ok(Arc::new(client)),
                    Ok(Connected::NoSuchDatabase) => Err(None),
                    Err(e) => Err(Some(e)),
                }
            })
            .await;
        match opened {
            Ok(client) => Ok(Some(Database::Opened(client.clone()))),
            Err(None) => Ok(None),
            Err(Some(e)) => Err(e),
        }
    }
}
