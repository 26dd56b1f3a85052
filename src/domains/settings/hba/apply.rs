//! Writing the HBA file safely: the old content kept, the new file written
//! (its owner kept), `pg_hba_file_rules` read (it shows the file on disk),
//! and on any error the old file put back before anything reloads: a bad
//! file would also break the next restart. The reload itself is the
//! settings domain's one `pg_reload_conf()`.

use tokio_postgres::Client;

use crate::error::{Error, Result};
use crate::managed_files::{self, DesiredFile};
use crate::pg::connect::server_error;
use crate::util::files::write_atomic;

pub(crate) async fn write(client: &Client, file: &DesiredFile) -> Result<()> {
    let before = std::fs::read(&file.path).map_err(|e| {
        Error::new(format!(
            "cannot read `{}` before replacing it: {}",
            file.path.display(),
            crate::util::files::io_reason(&e)
        ))
    })?;
    managed_files::apply::write(file)?;
    let rows = client
        .query(
            "SELECT line_number, coalesce(error, '') FROM pg_hba_file_rules WHERE error IS NOT NULL ORDER BY line_number",
            &[],
        )
        .await;
    let problems: Vec<String> = match rows {
        Ok(rows) => rows
            .iter()
            .map(|row| {
                let line: Option<i32> = row.get(0);
                let error: String = row.get(1);
                format!("line {}: {error}", line.unwrap_or_default())
            })
            .collect(),
        Err(e) => {
            put_back(file, &before)?;
            return Err(server_error("cannot check the new pg_hba.conf", &e)
                .cause("the old file is back on disk and still in force"));
        }
    };
    if problems.is_empty() {
        return Ok(());
    }
    put_back(file, &before)?;
    Err(Error::new(format!(
        "PostgreSQL refuses the new pg_hba.conf: {}",
        problems.join("; ")
    ))
    .cause("the old file is back on disk and still in force; nothing was reloaded")
    .hint("fix the rule in `[[server.hba.rules]]` (for example `peer` is for `local` lines only, `cert` for `hostssl`)"))
}

fn put_back(file: &DesiredFile, before: &[u8]) -> Result<()> {
    write_atomic(&file.path, before, file.mode, None).map_err(|e| {
        e.cause(format!(
            "the new pg_hba.conf could not be replaced by the old one: restore `{}` by hand before the server reloads",
            file.path.display()
        ))
    })
}
