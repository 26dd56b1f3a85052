//! The ownership diff as a table. Pure: no server.

use std::collections::BTreeMap;

use super::*;
use crate::domains::ownership::desired::DatabaseOwnership;
use crate::domains::ownership::live::{LiveDatabaseOwnership, OwnedObject, RlsTable};
use crate::plan::outline;

fn desired(reassign: &[&str], owner: Option<&str>) -> DesiredOwnership {
    DesiredOwnership {
        databases: BTreeMap::from([(
            "app".to_string(),
            DatabaseOwnership {
                reassign_from: reassign.iter().map(|r| r.to_string()).collect(),
                owner: owner.map(str::to_string),
            },
        )]),
        dsn_roles: BTreeMap::from([
            ("app_user".to_string(), false),
            ("app_service".to_string(), true),
        ]),
    }
}

fn object(kind: ObjectKind, name: &str, owner: &str) -> OwnedObject {
    OwnedObject {
        keyword: kind,
        target: format!("public.{name}"),
        display: format!("public.{name}"),
        owner: owner.into(),
    }
}

fn rls(name: &str, owner: &str, forced: bool) -> RlsTable {
    RlsTable {
        target: format!("public.{name}"),
        display: format!("public.{name}"),
        owner: owner.into(),
        forced,
    }
}

fn live(objects: Vec<OwnedObject>, rls_tables: Vec<RlsTable>) -> LiveOwnership {
    LiveOwnership {
        databases: BTreeMap::from([(
            "app".to_string(),
            LiveDatabaseOwnership {
                objects,
                rls_tables,
            },
        )]),
    }
}

#[test]
fn the_ownership_diff_table() {
    let cases: Vec<(&str, DesiredOwnership, LiveOwnership, Vec<&str>)> = vec![
        (
            "nothing owned by the application",
            desired(&[], None),
            live(vec![object(ObjectKind::Table, "orders", "migrator")], vec![]),
            vec![],
        ),
        (
            "objects of a listed role move to the owner, each its own change",
            desired(&["app_user"], Some("migrator")),
            live(
                vec![
                    object(ObjectKind::Table, "orders", "app_user"),
                    object(ObjectKind::MaterializedView, "totals", "app_user"),
                ],
                vec![],
            ),
            vec![
                "~ postgres.owner.app.table.\"public.orders\" (`databases.app.reassign_owned_from` lists `app_user`)",
                "~ postgres.owner.app.materialized_view.\"public.totals\" (`databases.app.reassign_owned_from` lists `app_user`)",
            ],
        ),
        (
            "an application role that owns objects is a finding",
            desired(&[], None),
            live(vec![object(ObjectKind::Table, "orders", "app_user")], vec![]),
            vec!["finding security.application_owner postgres.owner.app.role.app_user"],
        ),
        (
            "row-level security not forced on a table the application owns",
            desired(&[], None),
            live(
                vec![object(ObjectKind::Table, "accounts", "app_user")],
                vec![rls("accounts", "app_user", false)],
            ),
            // One finding, one id: the table's row-level security inside it.
            vec!["finding security.application_owner postgres.owner.app.role.app_user"],
        ),
        (
            "forced row-level security, or a table moving away, is no finding",
            desired(&["app_user"], Some("migrator")),
            live(
                vec![],
                vec![
                    rls("accounts", "app_user", false),
                    rls("ledger", "app_service", true),
                ],
            ),
            vec![],
        ),
        (
            "the service role bypasses row-level security on purpose",
            desired(&[], None),
            live(vec![], vec![rls("audit", "app_service", false)]),
            vec![],
        ),
    ];
    for (name, desired, live, expected) in cases {
        assert_eq!(outline(&diff(&desired, &live)), expected, "{name}");
    }
}
