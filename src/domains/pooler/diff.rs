//! The pooler's part of a plan: its files (rendered from the desired state and
//! the live SCRAM verifiers) compared with disk, and its running configuration
//! (from `SHOW CONFIG`) compared with what the files say. Pure.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::admin::{same, Running};
use super::desired::DesiredPooler;
use super::desired::Reload;
use super::known::RESTART_ONLY;
use super::live::{LivePooler, Process};
use super::operation::{AuthEntry, Operation};
use super::render::{self, HBA_REDACTION, INI_REDACTION};
use super::SERVICE;
use crate::error::{Error, ErrorKind, Errors};
use crate::managed_files::grammar::FieldError;
use crate::managed_files::{self, DesiredFile, LiveFile, Redaction};
use crate::pg::connect::Login;
use crate::pg::scram::{new_verifier, Verifier};
use crate::plan::{Action, Address, AttributeChange, Change, DomainDiff, Pending, Planned, Value};
use crate::util::files::readable_by;
use secrecy::ExposeSecret;

pub(crate) fn file_address(path: &Path) -> Address {
    super::ID.address().word("file").file(path)
}

/// Every file of the pooler, by path.
pub(crate) fn paths(pooler: &DesiredPooler) -> Vec<&Path> {
    let mut paths = vec![pooler.config_path.as_path(), pooler.auth_path.as_path()];
    if pooler.admin.is_some() {
        paths.push(pooler.hba_path.as_path());
    }
    paths
}

/// Stands in, in plans only, for a verifier this apply will create; never written.
const PLACEHOLDER: &str = "SCRAM-SHA-256$(set by this apply)";

/// The verifier the auth file lists for the admin console user: the one on
/// disk when it still matches the password (never re-salted), else a new one.
fn admin_verifier(user: &str, password: &str, live_auth: Option<&LiveFile>) -> String {
    let existing = live_auth
        .and_then(|f| f.content.as_deref())
        .map(render::parse_auth_file)
        .unwrap_or_default();
    existing
        .into_iter()
        .find(|(name, _)| name == user)
        .map(|(_, secret)| secret)
        .filter(|secret| Verifier::parse(secret).is_some_and(|v| v.matches(password)))
        .unwrap_or_else(|| new_verifier(password))
}

/// The auth file's entries: each user's stored verifier, `SetByThisApply` for
/// users whose password this apply sets, and the admin console's user.
fn auth_entries(
    pooler: &DesiredPooler,
    stored: &BTreeMap<String, String>,
    rotating: &BTreeSet<String>,
    live_auth: Option<&LiveFile>,
) -> Result<BTreeMap<String, AuthEntry>, Error> {
    let mut entries = BTreeMap::new();
    for user in &pooler.users {
        let entry = if rotating.contains(user) {
            AuthEntry::SetByThisApply
        } else {
            match stored.get(user) {
                Some(verifier) => AuthEntry::Verifier(verifier.clone()),
                None => {
                    return Err(Error::new(format!(
                        "the pooler's auth file needs the SCRAM verifier of `{user}`, which `pg_authid` does not show"
                    ))
                    .kind(crate::error::ErrorKind::Permission)
                    .hint("the admin DSN must be a superuser's, so dbops can read `pg_authid`"))
                }
            }
        };
        entries.insert(user.clone(), entry);
    }
    if let Some(admin) = &pooler.admin {
        entries.insert(
            admin.user.clone(),
            AuthEntry::Verifier(admin_verifier(
                &admin.user,
                admin.password.expose_secret(),
                live_auth,
            )),
        );
    }
    Ok(entries)
}

/// The auth file's content; entries set by this apply come from `sent`, or
/// show as a placeholder in plans.
pub(crate) fn auth_content(
    entries: &BTreeMap<String, AuthEntry>,
    sent: Option<&BTreeMap<String, String>>,
) -> Result<String, Error> {
    let mut lines = Vec::new();
    for (user, entry) in entries {
        let verifier = match (entry, sent) {
            (AuthEntry::Verifier(v), _) => v.clone(),
            (AuthEntry::SetByThisApply, None) => PLACEHOLDER.to_string(),
            (AuthEntry::SetByThisApply, Some(sent)) => sent
                .get(user)
                .cloned()
                .ok_or_else(|| Error::internal(format!("no verifier was sent for `{user}`")))?,
        };
        lines.push((user.clone(), verifier));
    }
    render::auth_file(&lines)
        .map(|r| r.content)
        .map_err(field_errors)
}

/// Values resolution let through but a renderer refuses: a bug, said plainly.
fn field_errors(errors: Vec<FieldError>) -> Error {
    let first = &errors[0];
    Error::internal(format!("`{}` {}", first.path.join("."), first.message))
}

/// `[pgbouncer]` settings of an ini file on disk.
fn ini_settings(content: &str) -> BTreeMap<String, String> {
    let mut section = String::new();
    let mut out = BTreeMap::new();
    for line in content.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            section = line.trim_matches(|c| c == '[' || c == ']').to_string();
        } else if section == "pgbouncer" && !line.starts_with(';') && !line.starts_with('#') {
            if let Some((key, value)) = line.split_once('=') {
                out.insert(key.trim().to_string(), value.trim().to_string());
            }
        }
    }
    out
}

/// `stored`: each user's SCRAM verifier as PostgreSQL holds it now.
/// `rotating`: users whose verifier this apply sets (new role or new password).
pub(crate) fn diff(
    pooler: &DesiredPooler,
    live: &LivePooler,
    stored: &BTreeMap<String, String>,
    rotating: &BTreeSet<String>,
) -> Result<DomainDiff<Operation>, Errors> {
    let mut out = DomainDiff::default();
    let mut errors = Vec::new();
    if let Some(error) = other_server(pooler, live) {
        errors.push(error);
    }
    for planned in config_files(pooler, live)? {
        match planned {
            Ok(planned) => out.push(planned),
            Err(error) => errors.push(error),
        }
    }
    let mut auth_rewrite = None;
    match auth_file(pooler, live, stored, rotating) {
        Err(error) => errors.push(error),
        Ok((Some(change), operation)) => out.push(change.with(operation)),
        Ok((None, operation)) => auth_rewrite = Some(operation),
    }
    errors.extend(written_unreadable(live, &mut out));
    if !errors.is_empty() {
        return Err(Errors::new(errors));
    }
    if let Some(running) = &live.running {
        running_config(pooler, running, &mut out);
    }
    if let Some(refusal) = &live.console_refused {
        auth_rewrite = console_refused(pooler, live, refusal, auth_rewrite, &mut out)?;
    }
    logins(pooler, live, stored, rotating, auth_rewrite, &mut out);
    Ok(out)
}

/// Files this apply writes: a new one belongs to whoever runs dbops unless
/// `owner` is declared; a rewritten one keeps its owner. One the running
/// pgBouncer could not read (by its owner and mode; directories are checked
/// when a reload fails) is an error now, not a failed reload and a locked-out
/// application later. New files created as root for a pgBouncer dbops cannot
/// see are a note.
fn written_unreadable(live: &LivePooler, out: &mut DomainDiff<Operation>) -> Vec<Error> {
    /// A file to write: its path, mode, and owner (`None`: whoever runs dbops).
    type Written<'a> = (&'a Path, u32, Option<(u32, u32)>);
    let written: Vec<Written<'_>> = out
        .changes
        .iter()
        .filter_map(|p| {
            let file = match &p.operation {
                Operation::Write(write) => &write.file,
                Operation::WriteAuthFile { file, .. } => file,
                Operation::Reload => return None,
            };
            let on_disk = live.file(&file.path).filter(|f| f.exists);
            let owner = match (&file.owner, on_disk) {
                (Some((uid, gid, _)), _) => Some((*uid, *gid)),
                (None, Some(f)) => f.uid.zip(f.gid),
                (None, None) => None,
            };
            Some((file.path.as_path(), file.mode, owner))
        })
        .collect();
    let mut errors = Vec::new();
    if let Process::Verified {
        uid: reader, gids, ..
    } = &live.process
    {
        for (path, mode, owner) in &written {
            let owner = owner.unwrap_or(live.creator);
            if !readable_by(owner, *mode, *reader, gids) {
                errors.push(unreadable_error(path, owner, *mode, *reader));
            }
        }
    } else if live.creator.0 == 0 && written.iter().any(|(_, _, owner)| owner.is_none()) {
        out.notes.push(
            "pgBouncer's new files will be owned by root (dbops runs as root and `[pooler]` declares no `owner`): pgBouncer can read them only if it runs as root".into(),
        );
    }
    errors
}

fn unreadable_error(path: &Path, (uid, gid): (u32, u32), mode: u32, reader: u32) -> Error {
    Error::new(format!(
        "the running pgBouncer (uid {reader}) could not read `{}`: dbops would write it owned by {uid}:{gid} with mode {mode:04o}",
        path.display()
    ))
    .hint("declare `owner = \"user:group\"` in `[pooler]` (the user pgBouncer runs as), or give the file that owner once (`chown`): dbops keeps the owner of a file it rewrites")
}

/// The console refuses the declared admin user: pgBouncer has not loaded the
/// files that declare it (a rotated `admin_password`, a console turned on).
/// A reload that needs no console (a proven pgBouncer in `pidfile`, or a
/// command) teaches it; without one, nothing dbops can do is safe. Returns
/// the auth rewrite when it was not used here.
fn console_refused(
    pooler: &DesiredPooler,
    live: &LivePooler,
    refusal: &str,
    auth_rewrite: Option<Operation>,
    out: &mut DomainDiff<Operation>,
) -> Result<Option<Operation>, Errors> {
    let how = match (&pooler.reload, &live.process) {
        (Reload::Command(_), _) => "runs the pooler's reload command",
        (_, Process::Verified { .. }) => "sends SIGHUP to the pgBouncer in `pidfile`",
        (_, process) => {
            let mut error = Error::new(refusal.to_string())
                .kind(ErrorKind::Authentication)
                .cause("dbops cannot reload pgBouncer without its console: the files it would write declare this admin user, but nothing would make pgBouncer read them");
            if let Process::Unverified(why) = process {
                error = error.cause(why.clone());
            }
            return Err(Errors::from(error.hint(
                "set `pidfile` in `[pooler.settings]` (dbops then reloads the proven pgBouncer by signal) or `reload = { command = \"...\" }`; or reload pgBouncer by hand once, then run dbops again",
            )));
        }
    };
    if reloads(out) {
        return Ok(auth_rewrite);
    }
    let Some(operation) = auth_rewrite else {
        return Ok(None);
    };
    let admin = pooler.admin.as_ref().map_or("", |a| a.user.as_str());
    let change = Change::new(super::ID.address().word("reload"), Action::Update)
        .reason(format!(
            "the admin console refuses `{admin}`: pgBouncer has not loaded the files that declare it; apply rewrites {} and {how}",
            pooler.auth_path.display()
        ))
        .attribute(AttributeChange::new(
            &format!("console login {admin}"),
            Some(Value::text("refused")),
            Some(Value::text("accepted")),
        ));
    out.push(change.with(operation));
    Ok(None)
}

/// A backend other than the admin's address must be the same server: its
/// port, and a socket directory it uses or an address it listens on.
fn other_server(pooler: &DesiredPooler, live: &LivePooler) -> Option<Error> {
    let (port, listen, sockets) = live.server.as_ref()?;
    let host = &pooler.backend_host;
    let listed = |list: &str, wanted: &str| list.split(',').any(|item| item.trim() == wanted);
    let same = *port == pooler.backend_port
        && if host.starts_with('/') {
            listed(sockets, host)
        } else {
            listed(listen, "*")
                || listed(listen, host)
                || (matches!(host.as_str(), "127.0.0.1" | "::1") && listed(listen, "localhost"))
        };
    (!same).then(|| {
        Error::config(format!(
            "`pooler.backend` ({host}, port {}) is not where the server dbops manages listens (port {port}, `listen_addresses` `{listen}`, `unix_socket_directories` `{sockets}`): pgBouncer would reach another server",
            pooler.backend_port
        ))
        .key("pooler.backend")
        .hint("point `pooler.backend` at this server: one of its socket directories, or an address it listens on")
    })
}

/// A file of the pooler, as dbops renders it.
fn desired_file(
    pooler: &DesiredPooler,
    path: &Path,
    content: String,
    mode: u32,
    redaction: Redaction,
) -> DesiredFile {
    DesiredFile {
        address: file_address(path),
        path: path.to_path_buf(),
        content,
        mode,
        owner: pooler.owner.clone(),
        redaction,
        carried: Vec::new(),
    }
}

/// pgbouncer.ini (marked for a restart when a restart-only setting
/// changes) and the HBA file, where they differ from disk.
fn config_files(
    pooler: &DesiredPooler,
    live: &LivePooler,
) -> Result<Vec<Result<Planned<Operation>, Error>>, Errors> {
    let missing = LiveFile::missing();
    let on_disk = |path: &Path| live.file(path).unwrap_or(&missing);
    let mut out = Vec::new();
    let ini_content = render::ini(pooler)
        .map(|r| r.content)
        .map_err(|e| Errors::from(field_errors(e)))?;
    let ini = desired_file(
        pooler,
        &pooler.config_path,
        ini_content,
        pooler.mode,
        INI_REDACTION,
    );
    let old_ini = on_disk(&pooler.config_path);
    match managed_files::diff::diff(&ini, old_ini) {
        Ok(Some(planned)) => {
            let old = old_ini
                .content
                .as_deref()
                .map(ini_settings)
                .unwrap_or_default();
            let wanted = pooler.effective_settings();
            let mut planned = planned.map(Operation::Write);
            if old_ini.exists
                && RESTART_ONLY
                    .iter()
                    .any(|key| old.get(*key) != wanted.get(*key))
            {
                planned.change.restart = Some(SERVICE);
            }
            out.push(Ok(planned));
        }
        Ok(None) => {}
        Err(error) => out.push(Err(error)),
    }
    if let Some(hba) = render::hba(pooler) {
        let hba = hba
            .map(|r| r.content)
            .map_err(|e| Errors::from(field_errors(e)))?;
        let hba = desired_file(pooler, &pooler.hba_path, hba, pooler.mode, HBA_REDACTION);
        match managed_files::diff::diff(&hba, on_disk(&pooler.hba_path)) {
            Ok(Some(planned)) => out.push(Ok(planned.map(Operation::Write))),
            Ok(None) => {}
            Err(error) => out.push(Err(error)),
        }
    }
    Ok(out)
}

/// The auth file: its change, if any (always one when a verifier rotates),
/// and the write that makes it, which a stale pooler may need even when the
/// content is unchanged.
fn auth_file(
    pooler: &DesiredPooler,
    live: &LivePooler,
    stored: &BTreeMap<String, String>,
    rotating: &BTreeSet<String>,
) -> Result<(Option<Change>, Operation), Error> {
    let missing = LiveFile::missing();
    let live_auth = live.file(&pooler.auth_path).unwrap_or(&missing);
    let entries = auth_entries(pooler, stored, rotating, Some(live_auth))?;
    let content = auth_content(&entries, None).expect("plans need no sent verifiers");
    let auth = desired_file(
        pooler,
        &pooler.auth_path,
        content,
        0o600,
        Redaction::AuthFile,
    );
    let mut change = managed_files::diff::diff(&auth, live_auth)?.map(|p| p.change);
    if !rotating.is_empty() {
        let change =
            change.get_or_insert_with(|| Change::new(auth.address.clone(), Action::Update));
        if !change.attributes.iter().any(|a| a.sensitive) {
            change
                .attributes
                .push(AttributeChange::sensitive("secrets"));
        }
        let users: Vec<String> = rotating.iter().map(|u| format!("`{u}`")).collect();
        change.reason = Some(format!("new SCRAM verifier for {}", users.join(", ")));
    }
    Ok((
        change,
        Operation::WriteAuthFile {
            file: auth,
            entries,
        },
    ))
}

/// pgBouncer's running configuration against the file: reloadable settings
/// not in force are a reload, restart-only ones are pending.
fn running_config(
    pooler: &DesiredPooler,
    running: &BTreeMap<String, Running>,
    out: &mut DomainDiff<Operation>,
) {
    let files_change = out
        .changes
        .iter()
        .any(|p| p.change.address == file_address(&pooler.config_path));
    let mut stale = Vec::new();
    for (key, value) in &pooler.effective_settings() {
        let Some(now) = running.get(key) else {
            continue;
        };
        if same(&now.value, value) {
            continue;
        }
        if now.changeable && !RESTART_ONLY.contains(&key.as_str()) {
            stale.push(AttributeChange::new(
                key,
                Some(Value::Text(now.value.clone())),
                Some(Value::Text(value.clone())),
            ));
        } else if !files_change {
            out.pending.push(Pending {
                address: super::ID.address().word("setting").name(key),
                current: Value::Text(now.value.clone()),
                pending: Value::Text(value.clone()),
                service: SERVICE,
                declared: true,
            });
        }
    }
    if !stale.is_empty() && !files_change {
        let mut change = Change::new(super::ID.address().word("running_config"), Action::Update)
            .reason("pgbouncer.ini says otherwise but was not reloaded");
        change.attributes = stale;
        out.push(change.with(Operation::Reload));
    }
}

/// Whether a change is planned already: any of them reloads pgBouncer.
fn reloads(out: &DomainDiff<Operation>) -> bool {
    !out.changes.is_empty()
}

/// Which login a stale pooler fails: the client's to pgBouncer, or
/// pgBouncer's own to PostgreSQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refused {
    Client,
    Server,
    /// Logged in, but no server connection answered: pgBouncer keeps its
    /// clients waiting while its server logins fail.
    Stalled,
}

/// A pooler that refuses a password PostgreSQL holds, or whose own login to
/// PostgreSQL is refused, still uses an old verifier: a reload makes it read
/// its auth file. A pooler this host cannot reach is a note, not drift.
fn logins(
    pooler: &DesiredPooler,
    live: &LivePooler,
    stored: &BTreeMap<String, String>,
    rotating: &BTreeSet<String>,
    auth_rewrite: Option<Operation>,
    out: &mut DomainDiff<Operation>,
) {
    let mut stale: Vec<(String, Refused)> = Vec::new();
    let mut unreachable = None;
    for (user, login) in &live.logins {
        let settled = rotating.contains(user) || !stored.contains_key(user);
        match login {
            Login::Accepted => {}
            Login::Refused | Login::ServerRefused(_) | Login::Stalled(_) if settled => {}
            Login::Refused => stale.push((user.clone(), Refused::Client)),
            Login::ServerRefused(_) => stale.push((user.clone(), Refused::Server)),
            Login::Stalled(_) => stale.push((user.clone(), Refused::Stalled)),
            Login::Unreachable(why) => unreachable = Some(why.clone()),
            Login::Failed(why) => out.notes.push(format!(
                "could not check the login of `{user}` through pgBouncer at {}: {why}",
                live.reached_at
            )),
        }
    }
    if let Some(why) = unreachable {
        out.notes.push(format!(
            "skipped checking logins through pgBouncer at {}: {why} (pgBouncer is not running, or not reachable from where dbops runs)",
            live.reached_at
        ));
    }
    if stale.is_empty() {
        return;
    }
    if reloads(out) {
        return;
    }
    // pgBouncer re-reads its auth file on RELOAD only when the file looks
    // changed (inode, size, mtime in seconds): rewrite it, then reload.
    let Some(operation) = auth_rewrite else {
        return;
    };
    let named = |which: Refused| -> Vec<String> {
        stale
            .iter()
            .filter(|(_, what)| *what == which)
            .map(|(u, _)| format!("`{u}`"))
            .collect()
    };
    let (refused, server, stalled) = (
        named(Refused::Client),
        named(Refused::Server),
        named(Refused::Stalled),
    );
    let mut why = Vec::new();
    if !refused.is_empty() {
        why.push(format!(
            "pgBouncer refused the password PostgreSQL holds for {}",
            refused.join(", ")
        ));
    }
    if !server.is_empty() {
        why.push(format!(
            "PostgreSQL refused pgBouncer's own login for {} (the application cannot open new connections)",
            server.join(", ")
        ));
    }
    if !stalled.is_empty() {
        why.push(format!(
            "pgBouncer logged in {} but no server connection answered `SELECT 1` (its logins to PostgreSQL fail, or PostgreSQL is saturated)",
            stalled.join(", ")
        ));
    }
    let mut change =
        Change::new(super::ID.address().word("reload"), Action::Update).reason(format!(
            "{}: pgBouncer still uses an old verifier; apply rewrites {} and reloads it",
            why.join("; "),
            pooler.auth_path.display()
        ));
    for (user, what) in &stale {
        let login = match what {
            Refused::Client => "login",
            Refused::Server | Refused::Stalled => "server login",
        };
        change = change.attribute(AttributeChange::new(
            &format!("{login} {user}"),
            Some(Value::text("refused")),
            Some(Value::text("accepted")),
        ));
    }
    out.push(change.with(operation));
}

#[cfg(test)]
#[path = "diff_tests.rs"]
mod tests;
