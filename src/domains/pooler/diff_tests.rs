//! The pooler's diff as a table: files rendered from the desired state and
//! the stored verifiers against disk, the running configuration, and the
//! logins through the pooler. Pure: no pgBouncer.

use std::collections::{BTreeMap, BTreeSet};

use super::*;
use crate::domains::pooler::admin::Running;
use crate::domains::pooler::render::tests::pooler;
use crate::pg::connect::Login;
use crate::plan::outline;
use crate::util::digest::sha256_hex;

const STORED: &str = "SCRAM-SHA-256$4096:c2FsdA==$a2V5:c2VydmVy";

fn on_disk(content: &str, mode: u32) -> LiveFile {
    LiveFile {
        exists: true,
        content: Some(content.to_string()),
        digest: Some(sha256_hex(content.as_bytes())),
        mode: Some(mode),
        uid: Some(0),
        gid: Some(0),
        not_regular: None,
    }
}

fn stored() -> BTreeMap<String, String> {
    BTreeMap::from([("app_user".to_string(), STORED.to_string())])
}

/// The pooler's files on disk exactly as dbops renders them.
fn converged(desired: &DesiredPooler) -> LivePooler {
    let mut live = LivePooler::default();
    let ini = render::ini(desired).unwrap().content;
    live.files.insert(
        desired.config_path.display().to_string(),
        on_disk(&ini, 0o640),
    );
    let entries = auth_entries(desired, &stored(), &BTreeSet::new(), None).unwrap();
    let auth = auth_content(&entries, None).unwrap();
    live.files.insert(
        desired.auth_path.display().to_string(),
        on_disk(&auth, 0o600),
    );
    live.reached_at = "pgbouncer:6432".into();
    live
}

fn running(desired: &DesiredPooler) -> BTreeMap<String, Running> {
    desired
        .effective_settings()
        .into_iter()
        .map(|(key, value)| {
            let changeable = !RESTART_ONLY.contains(&key.as_str());
            (key, Running { value, changeable })
        })
        .collect()
}

struct Case {
    name: &'static str,
    live: LivePooler,
    rotating: BTreeSet<String>,
    outline: Vec<&'static str>,
}

fn cases(desired: &DesiredPooler) -> Vec<Case> {
    let mut stale_running = converged(desired);
    let mut settings = running(desired);
    settings.get_mut("default_pool_size").unwrap().value = "5".into();
    settings.get_mut("listen_port").unwrap().value = "7432".into();
    stale_running.running = Some(settings);
    let mut refused = converged(desired);
    refused.logins.insert("app_user".into(), Login::Refused);
    let mut server_refused = converged(desired);
    server_refused.logins.insert(
        "app_user".into(),
        Login::ServerRefused("server login failed".into()),
    );
    let mut stalled = converged(desired);
    stalled.logins.insert(
        "app_user".into(),
        Login::Stalled("`SELECT 1` did not answer within 10s".into()),
    );
    let mut unreachable = converged(desired);
    unreachable.logins.insert(
        "app_user".into(),
        Login::Unreachable("connection refused".into()),
    );
    vec![
        Case {
            name: "from empty: pgbouncer.ini and the auth file",
            live: LivePooler::default(),
            rotating: BTreeSet::new(),
            outline: vec![
                "+ pooler.file.pgbouncer.ini",
                "+ pooler.file.userlist.txt",
                "note pgBouncer's new files will be owned by root (dbops runs as root and `[pooler]` declares no `owner`): pgBouncer can read them only if it runs as root",
            ],
        },
        Case {
            name: "converged",
            live: converged(desired),
            rotating: BTreeSet::new(),
            outline: vec![],
        },
        Case {
            name: "a rotation in the role domain reaches the auth file",
            live: converged(desired),
            rotating: BTreeSet::from(["app_user".to_string()]),
            outline: vec!["~ pooler.file.userlist.txt (new SCRAM verifier for `app_user`)"],
        },
        Case {
            name: "a running setting not reloaded, and one that waits for a restart",
            live: stale_running,
            rotating: BTreeSet::new(),
            outline: vec![
                "~ pooler.running_config (pgbouncer.ini says otherwise but was not reloaded)",
                "pending pooler.setting.listen_port",
            ],
        },
        Case {
            name: "a pooler that refuses the password PostgreSQL holds is reloaded",
            live: refused,
            rotating: BTreeSet::new(),
            outline: vec!["~ pooler.reload (pgBouncer refused the password PostgreSQL holds for `app_user`: pgBouncer still uses an old verifier; apply rewrites /etc/pgbouncer/userlist.txt and reloads it)"],
        },
        Case {
            name: "a pooler whose own login to PostgreSQL is refused is reloaded",
            live: server_refused,
            rotating: BTreeSet::new(),
            outline: vec!["~ pooler.reload (PostgreSQL refused pgBouncer's own login for `app_user` (the application cannot open new connections): pgBouncer still uses an old verifier; apply rewrites /etc/pgbouncer/userlist.txt and reloads it)"],
        },
        Case {
            name: "a pooler that keeps the role waiting for a server is reloaded",
            live: stalled,
            rotating: BTreeSet::new(),
            outline: vec!["~ pooler.reload (pgBouncer logged in `app_user` but no server connection answered `SELECT 1` (its logins to PostgreSQL fail, or PostgreSQL is saturated): pgBouncer still uses an old verifier; apply rewrites /etc/pgbouncer/userlist.txt and reloads it)"],
        },
        Case {
            name: "a pooler this host cannot reach is a note",
            live: unreachable,
            rotating: BTreeSet::new(),
            outline: vec!["note skipped checking logins through pgBouncer at pgbouncer:6432: connection refused (pgBouncer is not running, or not reachable from where dbops runs)"],
        },
    ]
}

#[test]
fn the_pooler_diff_table() {
    let desired = pooler(None);
    for case in cases(&desired) {
        let plan = diff(&desired, &case.live, &stored(), &case.rotating)
            .unwrap_or_else(|e| panic!("{}: {e}", case.name));
        assert_eq!(outline(&plan), case.outline, "{}", case.name);
    }
}

/// A console that refuses the declared admin user, on a pooler whose files
/// already declare it: pgBouncer has not loaded them.
fn console_refused(desired: &DesiredPooler, process: Process) -> LivePooler {
    let mut live = converged(desired);
    let hba = render::hba(desired).unwrap().unwrap().content;
    live.files
        .insert(desired.hba_path.display().to_string(), on_disk(&hba, 0o640));
    live.console_refused = Some("password authentication failed".into());
    live.process = process;
    live
}

#[test]
fn a_console_that_refuses_the_declared_admin_is_reloaded_without_it() {
    let mut desired = pooler(Some(super::super::desired::AdminUser {
        user: "pgbouncer_admin".into(),
        password: secrecy::SecretString::from("x".to_string()),
    }));
    desired.reload = Reload::Admin;
    let verified = Process::Verified {
        pid: 42,
        uid: 0,
        gids: vec![0],
    };
    let plan = diff(
        &desired,
        &console_refused(&desired, verified),
        &stored(),
        &BTreeSet::new(),
    )
    .unwrap();
    assert_eq!(
        outline(&plan),
        ["~ pooler.reload (the admin console refuses `pgbouncer_admin`: pgBouncer has not loaded the files that declare it; apply rewrites /etc/pgbouncer/userlist.txt and sends SIGHUP to the pgBouncer in `pidfile`)"]
    );

    // No proven process and no command: no way to reload, said before apply.
    let error = diff(
        &desired,
        &console_refused(&desired, Process::NotRunning),
        &stored(),
        &BTreeSet::new(),
    )
    .unwrap_err()
    .to_string();
    assert!(error.contains("password authentication failed"), "{error}");
    assert!(error.contains("hint: set `pidfile`"), "{error}");

    desired.reload = Reload::Command("systemctl reload pgbouncer".into());
    let plan = diff(
        &desired,
        &console_refused(&desired, Process::NotRunning),
        &stored(),
        &BTreeSet::new(),
    )
    .unwrap();
    assert!(
        outline(&plan)[0].ends_with("and runs the pooler's reload command)"),
        "{:?}",
        outline(&plan)
    );
}

/// New files the running pgBouncer could not read are an error before
/// anything is written; with an `owner`, or readable, they are not.
#[test]
fn new_files_the_running_pooler_cannot_read() {
    let mut desired = pooler(None);
    let live = LivePooler {
        process: Process::Verified {
            pid: 42,
            uid: 70,
            gids: vec![70],
        },
        creator: (0, 0),
        ..LivePooler::default()
    };
    let error = diff(&desired, &live, &stored(), &BTreeSet::new())
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("the running pgBouncer (uid 70) could not read `/etc/pgbouncer/userlist.txt`: dbops would write it owned by 0:0 with mode 0600"),
        "{error}"
    );
    assert!(error.contains("declare `owner"), "{error}");
    let as_pgbouncer = LivePooler {
        creator: (70, 70),
        ..live.clone()
    };
    assert!(diff(&desired, &as_pgbouncer, &stored(), &BTreeSet::new()).is_ok());
    desired.owner = Some((70, 70, "postgres:postgres".into()));
    let plan = diff(&desired, &live, &stored(), &BTreeSet::new()).unwrap();
    assert!(plan.notes.is_empty(), "{:?}", plan.notes);
}

#[test]
fn a_user_without_a_stored_verifier_is_an_error() {
    let desired = pooler(None);
    let error = diff(
        &desired,
        &converged(&desired),
        &BTreeMap::new(),
        &BTreeSet::new(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        error.contains("needs the SCRAM verifier of `app_user`"),
        "{error}"
    );
}
