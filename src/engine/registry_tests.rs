//! The registry's diff across domains, pure: what one domain publishes
//! reaches the domains after it through the facts board, never through glue.

use std::collections::{BTreeMap, BTreeSet};

use super::*;
use crate::domains::grants::live::{LiveDatabaseGrants, LiveGrants};
use crate::domains::grants::privilege::Privilege;
use crate::domains::ownership::live::LiveOwnership;
use crate::domains::pooler::live::LivePooler;
use crate::domains::postgres::desired::RoleAttributes;
use crate::domains::postgres::live::{LiveDatabase, LivePostgres, LiveRole, StoredPassword};
use crate::domains::postgres::verify::Verified;
use crate::plan::outline;

const STORED: &str = "SCRAM-SHA-256$4096:c2FsdA==$a2V5:c2VydmVy";

/// The file, with every secret in a file of its own.
fn resolved(dir: &std::path::Path) -> crate::engine::session::Resolved {
    let secret = |name: &str, value: &str| {
        let path = dir.join(name);
        std::fs::write(&path, value).unwrap();
        path.display().to_string()
    };
    let admin = secret("admin", "postgres://postgres:pw@127.0.0.1:5432/postgres");
    let app = secret("app", "postgres://app_user:new%20pw@127.0.0.1:6432/app");
    let d = dir.display();
    let toml = format!(
        r#"
[postgres]
admin = {{ file = "{admin}" }}

[roles.app_user]
dsn = {{ file = "{app}" }}

[roles.migrator]

[databases.app]
owner = "migrator"

[[grants]]
role = "app_user"
database = "app"
on = "database"
privileges = ["CONNECT"]

[pooler]
config_file = "{d}/pgbouncer.ini"
auth_file = "{d}/userlist.txt"
host = "127.0.0.1"
listen_addr = "127.0.0.1"

[pooler.settings]
pidfile = "{d}/pgbouncer.pid"
"#
    );
    let path = dir.join("dbops.toml");
    std::fs::write(&path, toml).unwrap();
    crate::engine::session::resolve(&path, None).unwrap_or_else(|e| panic!("{e}"))
}

fn live_role(name: &str, password: StoredPassword) -> LiveRole {
    LiveRole {
        name: name.into(),
        bootstrap: false,
        attributes: RoleAttributes {
            login: name == "app_user",
            ..RoleAttributes::default()
        },
        password,
    }
}

/// `app_user` owns `app` and holds an old password; nothing else exists.
fn live() -> LiveState {
    let postgres = LivePostgres {
        current_user: "postgres".into(),
        superuser: true,
        server_version_num: 150_000,
        login_superusers: BTreeSet::from(["postgres".to_string()]),
        managed: BTreeSet::new(),
        absent: std::collections::BTreeMap::new(),
        roles: [
            live_role("app_user", StoredPassword::Scram(STORED.into())),
            live_role("migrator", StoredPassword::None),
        ]
        .into_iter()
        .map(|r| (r.name.clone(), r))
        .collect(),
        memberships: BTreeSet::new(),
        databases: BTreeMap::from([(
            "app".to_string(),
            LiveDatabase {
                name: "app".into(),
                owner: "app_user".into(),
                connect: BTreeSet::from(["app_user".to_string()]),
            },
        )]),
        statements: 1,
        verified: Verified::default(),
    };
    let grants = LiveGrants {
        databases: BTreeMap::from([(
            "app".to_string(),
            LiveDatabaseGrants {
                exists: true,
                database_acl: BTreeMap::from([(
                    "app_user".to_string(),
                    BTreeSet::from([Privilege::Connect, Privilege::Create, Privilege::Temporary]),
                )]),
                ..LiveDatabaseGrants::default()
            },
        )]),
        statements: 1,
    };
    LiveState {
        postgres: Some(postgres),
        pooler: Some(LivePooler {
            creator: (70, 70),
            ..LivePooler::default()
        }),
        ownership: Some(LiveOwnership::default()),
        grants: Some(grants),
        ..LiveState::default()
    }
}

#[test]
fn a_rotation_reaches_the_auth_file_and_an_owner_move_the_grants() {
    let dir = tempfile::tempdir().unwrap();
    let resolved = resolved(dir.path());
    let mut facts = resolved.facts.clone();
    let plan = diff(&resolved.desired, &live(), &mut facts).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        outline(&plan),
        vec![
            // The role domain leaves the governed CONNECT to the grants domain.
            "~ postgres.role.app_user",
            "~ postgres.database.app",
            // The rotation it publishes reaches the pooler's auth file.
            "+ pooler.file.pgbouncer.ini",
            "+ pooler.file.userlist.txt (new SCRAM verifier for `app_user`)",
            // The owner move it publishes: `app_user` loses what it held as owner.
            "+ postgres.grant.app_user.app.database",
        ]
    );
    assert_eq!(
        facts
            .get::<crate::contract::facts::RotatingRoles>()
            .unwrap()
            .0,
        BTreeSet::from(["app_user".to_string()])
    );
}

#[test]
fn a_left_out_domain_is_not_diffed() {
    let dir = tempfile::tempdir().unwrap();
    let mut resolved = resolved(dir.path());
    restrict(
        &mut resolved.desired,
        &super::super::scope::Scope::new(&["postgres".to_string()]),
    );
    let mut facts = resolved.facts.clone();
    let plan = diff(&resolved.desired, &live(), &mut facts).unwrap();
    assert!(
        outline(&plan).iter().all(|line| !line.contains("pooler")),
        "{:?}",
        outline(&plan)
    );
    assert!(targets().starts_with(&["postgres", "pooler", "bucket", "backup"]));
}
