//! The security findings as a table: each on a cluster built to have it,
//! none on a clean one; declared roles, the admin and `pg_*` roles exempt.

use std::collections::BTreeSet;

use super::*;
use crate::domains::security::state::HbaLine;

fn role(name: &str, superuser: bool, password: Stored) -> RolePosture {
    RolePosture {
        name: name.into(),
        bootstrap: false,
        superuser,
        bypass_rls: false,
        createrole: false,
        replication: false,
        login: true,
        password,
    }
}

fn desired() -> DesiredSecurity {
    DesiredSecurity {
        admin: "postgres".into(),
        declared: BTreeSet::from(["app_user".to_string(), "dba".to_string()]),
        managed_passwords: BTreeSet::from(["app_user".to_string()]),
        databases: BTreeSet::from(["app".to_string()]),
    }
}

fn clean() -> LiveSecurity {
    LiveSecurity {
        roles: [
            role("postgres", true, Stored::Scram),
            role("dba", true, Stored::Scram),
            role("app_user", false, Stored::Md5),
            role("pg_monitor", false, Stored::None),
        ]
        .into_iter()
        .map(|r| (r.name.clone(), r))
        .collect(),
        password_encryption: "scram-sha-256".into(),
        hba: Some(vec![HbaLine {
            line: 1,
            kind: "local".into(),
            database: vec!["all".into()],
            user_name: vec!["postgres".into()],
            address: None,
            auth_method: "peer".into(),
        }]),
        ..LiveSecurity::default()
    }
}

fn ids(live: &LiveSecurity) -> Vec<String> {
    diff(&desired(), live)
        .findings
        .iter()
        .map(|f| format!("{} {}", f.id, f.address))
        .collect()
}

#[test]
fn a_clean_cluster_has_no_finding() {
    assert!(ids(&clean()).is_empty(), "{:?}", ids(&clean()));
}

#[test]
fn each_finding_on_a_cluster_built_to_have_it() {
    let mut live = clean();
    let mut hidden = role("hidden", false, Stored::Md5);
    hidden.bypass_rls = true;
    live.roles.insert("hidden".into(), hidden);
    live.roles
        .insert("helper".into(), role("helper", false, Stored::Scram));
    live.memberships.insert(("helper".into(), "dba".into()));
    live.password_encryption = "md5".into();
    live.hba.as_mut().unwrap().push(HbaLine {
        line: 2,
        kind: "host".into(),
        database: vec!["all".into()],
        user_name: vec!["all".into()],
        address: Some("0.0.0.0".into()),
        auth_method: "trust".into(),
    });
    live.public_create.insert("app".into());
    assert_eq!(
        ids(&live),
        [
            "security.undeclared_privileged_role postgres.role.hidden",
            "security.undeclared_privileged_role postgres.role.helper",
            "security.weak_password postgres.role.hidden",
            "security.password_encryption postgres.setting.password_encryption",
            "security.hba_method postgres.hba.line.2",
            "security.public_create postgres.schema.app.public",
        ]
    );
    let found = diff(&desired(), &live);
    assert!(found
        .findings
        .iter()
        .all(|f| f.class == crate::plan::FindingClass::Security));
    assert!(found.findings[0]
        .message
        .contains("`dbops import` writes it"));
}
