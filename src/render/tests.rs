//! Snapshots of each rendering of one representative plan.

use super::{render, Format, Kind, Report};
use crate::backup::health::Finding;
use crate::plan::{Action, AttributeChange, Change, Operation, Pending, Plan, Value};
use crate::postgres::Operation as Pg;

fn op() -> Operation {
    Operation::Postgres(Pg::GrantMembership {
        member: "unused".into(),
        group: "unused".into(),
    })
}

fn representative() -> Plan {
    Plan {
        changes: vec![
            Change::new("postgres.database.app".into(), Action::Create, op()).attribute(
                AttributeChange::new("owner", None, Some(Value::Text("migrator".into()))),
            ),
            Change::new("postgres.role.app_user".into(), Action::Create, op())
                .attribute(AttributeChange::new("login", None, Some(Value::Bool(true))))
                .attribute(AttributeChange::new(
                    "bypass_rls",
                    None,
                    Some(Value::Bool(false)),
                ))
                .attribute(AttributeChange::new(
                    "connection_limit",
                    None,
                    Some(Value::Int(50)),
                ))
                .attribute(AttributeChange::sensitive("password")),
            Change::new("postgres.role.app_service".into(), Action::Update, op())
                .attribute(AttributeChange::new(
                    "bypass_rls",
                    Some(Value::Bool(false)),
                    Some(Value::Bool(true)),
                ))
                .attribute(AttributeChange::sensitive("password"))
                .reason(
                    "the password is stored as an MD5 hash; it will be stored as SCRAM-SHA-256",
                ),
            Change::new(
                "postgres.grant.app_user.app.database".into(),
                Action::Create,
                op(),
            )
            .attribute(AttributeChange::new(
                "privileges",
                None,
                Some(Value::List(vec!["CONNECT".into()])),
            )),
            Change::new(
                "postgres.membership.app_user.app_admins".into(),
                Action::Delete,
                op(),
            )
            .attribute(AttributeChange::new(
                "member_of",
                Some(Value::Text("app_admins".into())),
                None,
            ))
            .reason("`app_admins` is managed and `app_user` does not list it in `member_of`"),
            Change::new("postgres.grant.app_user.app.public.tables".into(), Action::Update, op())
                .attribute(AttributeChange::new(
                    "public.orders",
                    Some(Value::List(vec!["SELECT".into(), "TRUNCATE".into()])),
                    Some(Value::List(vec!["SELECT".into(), "INSERT".into()])),
                ))
                .attribute(AttributeChange::new(
                    "default for objects created by migrator",
                    Some(Value::List(vec![])),
                    Some(Value::List(vec!["SELECT".into(), "INSERT".into()])),
                )),
            Change {
                requires_restart: true,
                ..Change::new("postgres.setting.wal_level".into(), Action::Update, op())
                    .attribute(AttributeChange::new(
                        "value",
                        Some(Value::Text("minimal".into())),
                        Some(Value::Text("replica".into())),
                    ))
                    .reason("derived from `[backup]`")
            },
            Change::new("postgres.setting.archive_timeout".into(), Action::Update, op()).attribute(
                AttributeChange::new("value", Some(Value::Text("0".into())), Some(Value::Text("60s".into()))),
            ),
        ],
        pending: vec![],
        health: vec![],
        notes: vec!["`work_mem` is set in postgresql.auto.conf but not in the file; left alone (`[server] prune = true` resets it)".into()],
    }
}

fn pending_only() -> Plan {
    Plan {
        changes: vec![],
        pending: vec![
            Pending {
                address: "postgres.setting.archive_mode".into(),
                current: Value::Text("off".into()),
                pending: Value::Text("on".into()),
            },
            Pending {
                address: "postgres.setting.wal_level".into(),
                current: Value::Text("minimal".into()),
                pending: Value::Text("replica".into()),
            },
        ],
        health: vec![],
        notes: vec![],
    }
}

fn report(kind: Kind, plan: &Plan) -> Report<'_> {
    Report {
        kind,
        plan,
        applied: false,
        color: false,
    }
}

#[test]
fn text_plan() {
    insta::assert_snapshot!(render(Format::Text, &report(Kind::Plan, &representative())));
}

#[test]
fn json_plan() {
    insta::assert_snapshot!(render(Format::Json, &report(Kind::Plan, &representative())));
}

#[test]
fn markdown_plan() {
    insta::assert_snapshot!(render(
        Format::Markdown,
        &report(Kind::Plan, &representative())
    ));
}

#[test]
fn text_drift() {
    insta::assert_snapshot!(render(
        Format::Text,
        &report(Kind::Drift, &representative())
    ));
}

#[test]
fn pending_restart_in_every_format_for_plan_and_drift() {
    let plan = pending_only();
    let mut all = Vec::new();
    for kind in [Kind::Plan, Kind::Drift] {
        for format in [Format::Text, Format::Json, Format::Markdown] {
            all.push(render(format, &report(kind, &plan)));
        }
    }
    insta::assert_snapshot!(all.join("\n---\n"));
}

#[test]
fn drift_with_backup_health_findings_in_every_format() {
    let plan = Plan {
        health: vec![
            Finding {
                address: "backup.health.wal".into(),
                message: "newest archived WAL is 3h old, older than the threshold of 10m".into(),
            },
            Finding {
                address: "backup.health.base_backup".into(),
                message: "no full backup found under `prod/basebackups_005/` (threshold 1d 2h)"
                    .into(),
            },
        ],
        ..Plan::default()
    };
    let all: Vec<String> = [Format::Text, Format::Json, Format::Markdown]
        .into_iter()
        .map(|f| render(f, &report(Kind::Drift, &plan)))
        .collect();
    insta::assert_snapshot!(all.join("\n---\n"));
}

#[test]
fn empty_plan_in_every_format() {
    let empty = Plan::default();
    let all: Vec<String> = [Format::Text, Format::Json, Format::Markdown]
        .into_iter()
        .map(|f| render(f, &report(Kind::Plan, &empty)))
        .collect();
    insta::assert_snapshot!(all.join("\n---\n"));
}

#[test]
fn color_is_only_used_when_asked() {
    let plan = representative();
    let plain = render(Format::Text, &report(Kind::Plan, &plan));
    assert!(!plain.contains('\u{1b}'));
    let colored = render(
        Format::Text,
        &Report {
            color: true,
            ..report(Kind::Plan, &plan)
        },
    );
    assert!(colored.contains('\u{1b}'));
    assert_eq!(console::strip_ansi_codes(&colored), plain);
}
