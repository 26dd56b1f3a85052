//! The role domain's diff as a table: each case a desired and a live state,
//! and the plan in outline (`plan::outline`). Pure: no server.

use std::collections::{BTreeMap, BTreeSet};

use secrecy::SecretString;

use super::*;
use crate::domains::postgres::desired::{DesiredDatabase, DesiredPostgres, DesiredRole};
use crate::domains::postgres::live::{LiveDatabase, LivePostgres, LiveRole};
use crate::dsn::Dsn;
use crate::plan::outline;

fn dsn(user: &str) -> Dsn {
    Dsn::parse(&format!("postgres://{user}:pw@127.0.0.1:5432/app")).unwrap()
}

fn role(name: &str) -> DesiredRole {
    DesiredRole {
        name: name.into(),
        attributes: RoleAttributes {
            login: true,
            ..RoleAttributes::default()
        },
        password: Some(SecretString::from("pw")),
        dsn: Some(dsn(name)),
        dsn_source: Some("$DATABASE_URL".into()),
        member_of: BTreeSet::new(),
    }
}

fn desired(roles: Vec<DesiredRole>, databases: Vec<DesiredDatabase>) -> DesiredPostgres {
    DesiredPostgres {
        admin: dsn("postgres"),
        roles: roles.into_iter().map(|r| (r.name.clone(), r)).collect(),
        databases: databases.into_iter().map(|d| (d.name.clone(), d)).collect(),
        absent: BTreeMap::new(),
    }
}

fn app_database() -> DesiredDatabase {
    DesiredDatabase {
        connect: BTreeSet::from(["app_user".to_string()]),
        ..DesiredDatabase::named("app")
    }
}

fn live_role(name: &str, password: StoredPassword) -> LiveRole {
    LiveRole {
        name: name.into(),
        bootstrap: false,
        attributes: RoleAttributes {
            login: true,
            ..RoleAttributes::default()
        },
        password,
    }
}

const STORED: &str = "SCRAM-SHA-256$4096:c2FsdA==$a2V5:c2VydmVy";

fn live(roles: Vec<LiveRole>, databases: Vec<LiveDatabase>, verified: &[&str]) -> LivePostgres {
    LivePostgres {
        current_user: "postgres".into(),
        superuser: true,
        server_version_num: 150_000,
        login_superusers: BTreeSet::from(["postgres".to_string()]),
        managed: BTreeSet::new(),
        absent: BTreeMap::new(),
        roles: roles.into_iter().map(|r| (r.name.clone(), r)).collect(),
        memberships: BTreeSet::new(),
        databases: databases.into_iter().map(|d| (d.name.clone(), d)).collect(),
        statements: 1,
        verified: Verified {
            matches: verified
                .iter()
                .map(|r| (r.to_string(), STORED.to_string()))
                .collect(),
        },
    }
}

fn live_app(owner: &str, connect: &[&str]) -> LiveDatabase {
    LiveDatabase {
        name: "app".into(),
        owner: owner.into(),
        connect: connect.iter().map(|r| r.to_string()).collect(),
    }
}

struct Case {
    name: &'static str,
    desired: DesiredPostgres,
    live: LivePostgres,
    governed: BTreeSet<(String, String)>,
    outline: Vec<&'static str>,
}

fn cases() -> Vec<Case> {
    let scram = || StoredPassword::Scram(STORED.into());
    vec![
        Case {
            name: "from empty: the database, then the role, then its CONNECT",
            desired: desired(vec![role("app_user")], vec![app_database()]),
            live: live(vec![], vec![], &[]),
            governed: BTreeSet::new(),
            outline: vec![
                "+ postgres.database.app",
                "+ postgres.role.app_user",
                "+ postgres.grant.app_user.app.database",
            ],
        },
        Case {
            name: "converged: the stored verifier holds the password",
            desired: desired(vec![role("app_user")], vec![app_database()]),
            live: live(
                vec![live_role("app_user", scram())],
                vec![live_app("postgres", &["app_user"])],
                &["app_user"],
            ),
            governed: BTreeSet::new(),
            outline: vec![],
        },
        Case {
            name: "a stale volume: the stored verifier is another password's",
            desired: desired(vec![role("app_user")], vec![app_database()]),
            live: live(
                vec![live_role("app_user", scram())],
                vec![live_app("postgres", &["app_user"])],
                &[],
            ),
            governed: BTreeSet::new(),
            outline: vec!["~ postgres.role.app_user"],
        },
        Case {
            name: "an MD5 password is stored again as SCRAM",
            desired: desired(vec![role("app_user")], vec![app_database()]),
            live: live(
                vec![live_role("app_user", StoredPassword::Md5)],
                vec![live_app("postgres", &["app_user"])],
                &[],
            ),
            governed: BTreeSet::new(),
            outline: vec!["~ postgres.role.app_user (the password is stored as an MD5 hash; it will be stored as SCRAM-SHA-256)"],
        },
    ]
}

/// Cases that cross into ownership, grants and row-level security.
fn crossing_cases() -> Vec<Case> {
    let scram = || StoredPassword::Scram(STORED.into());
    let mut moved = app_database();
    moved.owner = Some("migrator".into());
    let mut member = role("app_user");
    member.member_of.insert("admin_group".into());
    let mut live_member = live(
        vec![
            live_role("app_user", scram()),
            live_role("admin_group", StoredPassword::None),
        ],
        vec![live_app("postgres", &["app_user"])],
        &["app_user"],
    );
    live_member
        .roles
        .get_mut("admin_group")
        .unwrap()
        .attributes
        .bypass_rls = true;
    live_member
        .memberships
        .insert(("app_user".into(), "admin_group".into()));
    vec![
        Case {
            name: "an owner move predicts the old owner's CONNECT",
            desired: desired(vec![role("app_user")], vec![moved]),
            live: live(
                vec![
                    live_role("app_user", scram()),
                    live_role("migrator", StoredPassword::None),
                ],
                vec![live_app("app_user", &["app_user"])],
                &["app_user"],
            ),
            governed: BTreeSet::new(),
            outline: vec![
                "~ postgres.database.app",
                "+ postgres.grant.app_user.app.database (`app_user` holds CONNECT only as the owner of `app`; it loses it when ownership moves)",
            ],
        },
        Case {
            name: "a CONNECT the grants domain governs is left to it",
            desired: desired(vec![role("app_user")], vec![app_database()]),
            live: live(
                vec![live_role("app_user", scram())],
                vec![live_app("postgres", &[])],
                &["app_user"],
            ),
            governed: BTreeSet::from([("app_user".to_string(), "app".to_string())]),
            outline: vec![],
        },
        Case {
            name: "an application role in a BYPASSRLS group escapes row-level security",
            desired: desired(vec![member], vec![app_database()]),
            live: live_member,
            governed: BTreeSet::new(),
            outline: vec!["finding security.rls_membership postgres.membership.app_user.admin_group"],
        },
    ]
}

#[test]
fn the_role_domain_diff_table() {
    for case in cases().into_iter().chain(crossing_cases()) {
        let plan = diff(&case.desired, &case.live, &case.governed)
            .unwrap_or_else(|e| panic!("{}: {e}", case.name));
        assert_eq!(outline(&plan), case.outline, "{}", case.name);
    }
}

#[test]
fn the_bootstrap_superuser_is_never_locked_and_a_missing_group_is_an_error() {
    let mut bootstrap = role("postgres");
    bootstrap.attributes.login = false;
    let mut live_bootstrap = live_role("postgres", StoredPassword::None);
    live_bootstrap.bootstrap = true;
    live_bootstrap.attributes.superuser = true;
    let errors = diff(
        &desired(vec![bootstrap], vec![]),
        &live(vec![live_bootstrap], vec![], &[]),
        &BTreeSet::new(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        errors.contains("`login = false` would lock it out"),
        "{errors}"
    );

    let mut orphan = role("app_user");
    orphan.member_of.insert("nobody".into());
    let errors = diff(
        &desired(vec![orphan], vec![app_database()]),
        &live(vec![], vec![], &[]),
        &BTreeSet::new(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        errors.contains("`nobody`, which neither exists nor is declared"),
        "{errors}"
    );
}

/// A role that must leave: nothing when it is gone; refused before any
/// change when it owns objects without `reassign_to` or has sessions it may
/// not end; else a destroy listing what it leaves behind.
#[test]
fn an_absent_role_is_dropped_with_its_consequences_or_refused() {
    use crate::domains::postgres::absent::{Dependencies, LiveAbsent, Session};
    use crate::domains::postgres::desired::AbsentRole;
    let gone = |reassign_to: Option<&str>, terminate_sessions: bool| {
        let mut d = desired(vec![role("migrator")], vec![]);
        d.absent.insert(
            "old_app".into(),
            AbsentRole {
                name: "old_app".into(),
                reassign_to: reassign_to.map(str::to_string),
                terminate_sessions,
            },
        );
        d
    };
    let mut there = live(
        vec![
            live_role("old_app", StoredPassword::None),
            live_role("migrator", StoredPassword::Scram(STORED.into())),
        ],
        vec![],
        &["migrator"],
    );
    there.absent.insert(
        "old_app".into(),
        LiveAbsent {
            dependencies: vec![
                Dependencies {
                    database: "app".into(),
                    allow_connections: true,
                    owned: 3,
                    default_privileges_received: 1,
                    ..Dependencies::default()
                },
                Dependencies {
                    database: String::new(),
                    allow_connections: true,
                    privileges: 1,
                    ..Dependencies::default()
                },
            ],
            sessions: vec![Session {
                pid: 42,
                database: "app".into(),
                application: "web".into(),
                client: "127.0.0.1".into(),
            }],
        },
    );
    let error = diff(&gone(None, true), &there, &BTreeSet::new())
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("role `old_app` is `absent` but owns objects (3 in database app)")
            && error.contains("hint: add `reassign_to"),
        "{error}"
    );
    let error = diff(&gone(Some("migrator"), false), &there, &BTreeSet::new())
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("has open sessions: pid 42 (app from 127.0.0.1 `web`)")
            && error.contains("`terminate_sessions = true`"),
        "{error}"
    );
    let plan = diff(&gone(Some("migrator"), true), &there, &BTreeSet::new()).unwrap();
    assert_eq!(
        outline(&plan),
        ["- postgres.role.old_app (`absent = true`; what it owns goes to `migrator`)"]
    );
    let attributes: Vec<String> = plan.changes[0]
        .change
        .attributes
        .iter()
        .map(|a| format!("{} = {:?} -> {:?}", a.name, a.before, a.after))
        .collect();
    assert_eq!(
        attributes,
        [
            "database app = Some(Text(\"owns 3, receives 1 default privilege(s)\")) -> Some(Text(\"reassigned to migrator, revoked\"))",
            "cluster = Some(Text(\"holds privileges on 1\")) -> Some(Text(\"revoked\"))",
            "sessions = Some(Text(\"pid 42 (app from 127.0.0.1 `web`)\")) -> Some(Text(\"terminated\"))",
        ]
    );
    let Operation::DropRole { databases, .. } = &plan.changes[0].operation else {
        panic!("not a drop");
    };
    // `app`, and the admin's database for the shared objects.
    assert_eq!(databases, &["app".to_string()]);

    // Gone already: nothing to do.
    let converged = live(
        vec![live_role("migrator", StoredPassword::Scram(STORED.into()))],
        vec![],
        &["migrator"],
    );
    assert!(outline(&diff(&gone(None, false), &converged, &BTreeSet::new()).unwrap()).is_empty());
}

/// Roles dbops marked as managed that leave the file are named, never
/// dropped; a role not yet marked is marked when it is next changed.
#[test]
fn a_managed_role_that_leaves_the_file_is_a_note_and_marks_come_with_changes() {
    let mut there = live(
        vec![live_role("app_user", StoredPassword::None)],
        vec![],
        &[],
    );
    there.managed = BTreeSet::from(["app_user".to_string(), "old".to_string()]);
    let plan = diff(&desired(vec![], vec![]), &there, &BTreeSet::new()).unwrap();
    assert!(plan.changes.is_empty());
    assert_eq!(plan.notes.len(), 2, "{:?}", plan.notes);
    assert!(plan.notes[0]
        .starts_with("role `app_user` was managed by dbops and is no longer in the file"));

    there.managed.clear();
    let plan = diff(
        &desired(vec![role("app_user")], vec![]),
        &there,
        &BTreeSet::new(),
    )
    .unwrap();
    assert!(matches!(
        plan.changes[0].operation,
        Operation::AlterRole { mark: true, .. }
    ));
}
