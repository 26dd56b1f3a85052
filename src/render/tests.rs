//! Snapshots of each rendering of one representative plan.

use super::{render, Format, Kind, Report};
use crate::plan::{
    Action, Address, AttributeChange, Change, Finding, FindingClass, Pending, Plan, Service, Value,
};

type Plan0 = Plan<()>;

const POSTGRES: Service = Service {
    id: "postgresql",
    name: "PostgreSQL",
    restartable_by_dbops: true,
};

const PGBOUNCER: Service = Service {
    id: "pgbouncer",
    name: "pgBouncer",
    restartable_by_dbops: false,
};

/// `postgres.KIND.NAMES...`
fn at(kind: &'static str, names: &[&str]) -> Address {
    names
        .iter()
        .fold(Address::new("postgres").word(kind), |a, n| a.name(*n))
}

fn representative() -> Plan0 {
    let changes: Vec<Change> = vec![
        Change::new(at("database", &["app"]), Action::Create).attribute(AttributeChange::new(
            "owner",
            None,
            Some(Value::Text("migrator".into())),
        )),
        Change::new(at("role", &["app_user"]), Action::Create)
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
        Change::new(at("role", &["app_service"]), Action::Update)
            .attribute(AttributeChange::new(
                "bypass_rls",
                Some(Value::Bool(false)),
                Some(Value::Bool(true)),
            ))
            .attribute(AttributeChange::sensitive("password"))
            .reason("the password is stored as an MD5 hash; it will be stored as SCRAM-SHA-256"),
        Change::new(
            at("grant", &["app_user", "app"]).word("database"),
            Action::Create,
        )
        .attribute(AttributeChange::new(
            "privileges",
            None,
            Some(Value::List(vec!["CONNECT".into()].into())),
        )),
        Change::new(
            at("membership", &["app_user", "app_admins"]),
            Action::Delete,
        )
        .attribute(AttributeChange::new(
            "member_of",
            Some(Value::Text("app_admins".into())),
            None,
        ))
        .reason("`app_admins` is managed and `app_user` does not list it in `member_of`"),
        Change::new(
            at("grant", &["app_user", "app", "public"]).word("tables"),
            Action::Update,
        )
        .attribute(AttributeChange::new(
            "public.orders",
            Some(Value::List(vec!["SELECT".into(), "TRUNCATE".into()].into())),
            Some(Value::List(vec!["SELECT".into(), "INSERT".into()].into())),
        ))
        .attribute(AttributeChange::new(
            "default for objects created by migrator",
            Some(Value::List(vec![].into())),
            Some(Value::List(vec!["SELECT".into(), "INSERT".into()].into())),
        )),
        Change::new(at("setting", &["wal_level"]), Action::Update)
            .attribute(AttributeChange::new(
                "value",
                Some(Value::Text("minimal".into())),
                Some(Value::Text("replica".into())),
            ))
            .reason("derived from `[backup]`")
            .requires_restart_of(POSTGRES),
        Change::new(at("setting", &["archive_timeout"]), Action::Update).attribute(
            AttributeChange::new(
                "value",
                Some(Value::Text("0".into())),
                Some(Value::Text("60s".into())),
            ),
        ),
        Change::new(
            Address::new("pooler")
                .word("file")
                .file(std::path::Path::new("/etc/pgbouncer/pgbouncer.ini")),
            Action::Update,
        )
        .attribute(AttributeChange::new(
            "content",
            Some(Value::Text("(as on disk)".into())),
            Some(Value::Text("(rendered)".into())),
        ))
        .requires_restart_of(PGBOUNCER),
    ];
    Plan {
        changes: changes.into_iter().map(|c| c.with(())).collect(),
        notes: vec!["`work_mem` is set in postgresql.auto.conf but not in the file; left alone (`[server] prune = true` resets it)".into()],
        ..Plan::default()
    }
}

fn pending_only() -> Plan0 {
    Plan {
        pending: vec![
            Pending {
                address: at("setting", &["archive_mode"]),
                current: Value::Text("off".into()),
                pending: Value::Text("on".into()),
                service: POSTGRES,
                declared: true,
            },
            Pending {
                address: at("setting", &["wal_level"]),
                current: Value::Text("minimal".into()),
                pending: Value::Text("replica".into()),
                service: POSTGRES,
                declared: true,
            },
            Pending {
                address: at("setting", &["max_connections"]),
                current: Value::Text("100".into()),
                pending: Value::Text("300".into()),
                service: POSTGRES,
                declared: false,
            },
            Pending {
                address: Address::new("pooler")
                    .word("setting")
                    .name("listen_backlog"),
                current: Value::Text("128".into()),
                pending: Value::Text("256".into()),
                service: PGBOUNCER,
                declared: true,
            },
        ],
        ..Plan::default()
    }
}

fn report(kind: Kind, plan: &Plan0) -> Report<'_> {
    Report::new(kind, plan, false)
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
    let health = |name: &'static str| Address::new("backup").word("health").word(name);
    let plan: Plan0 = Plan {
        findings: vec![
            Finding::new(
                "backup.health.wal",
                FindingClass::Health,
                health("wal"),
                "newest archived WAL is 3h old, older than the threshold of 10m",
            )
            .detail("age_seconds", 10800)
            .detail("threshold_seconds", 600),
            Finding::new(
                "backup.health.base_backup",
                FindingClass::Health,
                health("base_backup"),
                "no full backup found under `prod/basebackups_005/` (threshold 1d 2h)",
            ),
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
    let empty = Plan0::default();
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
    let colored = render(Format::Text, &Report::new(Kind::Plan, &plan, true));
    assert!(colored.contains('\u{1b}'));
    assert_eq!(console::strip_ansi_codes(&colored), plain);
}

/// Drift with both kinds: its closing line counts the differences and the
/// failed checks; warnings about the file show in JSON and, outside the
/// fold, in Markdown, whose diff block starts each line with its marker.
#[test]
fn drift_counts_both_kinds_and_warnings_show_outside_the_fold() {
    use crate::error::{Location, Warning};
    let mut plan = representative();
    plan.findings.push(Finding::new(
        "backup.health.wal",
        FindingClass::Health,
        Address::new("backup").word("health").word("wal"),
        "newest archived WAL is 3h old",
    ));
    let text = render(Format::Text, &report(Kind::Drift, &plan));
    assert!(
        text.contains(
            "Drift: 9 difference(s) (3 to add, 5 to change, 1 to destroy) and 1 check(s) failed."
        ),
        "{text}"
    );
    let warnings = [Warning {
        key: Some("roles.app_user.dsn".into()),
        location: Some(Location {
            file: "dbops.toml".into(),
            line: 5,
            column: 7,
        }),
        message: "the DSN in `$DATABASE_URL` has parameters libpq does not know: `schema`".into(),
    }];
    let json = render(Format::Json, &report(Kind::Plan, &plan).warnings(&warnings));
    let document: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(document["warnings"][0]["key"], "roles.app_user.dsn");
    assert_eq!(document["warnings"][0]["location"]["line"], 5);
    let markdown = render(
        Format::Markdown,
        &report(Kind::Plan, &plan).warnings(&warnings),
    );
    let fold = markdown.find("<details>").unwrap();
    let warning = markdown
        .find("> **Warning:** `roles.app_user.dsn` (dbops.toml:5:7): the DSN")
        .unwrap();
    assert!(warning < fold, "{markdown}");
    let reason = markdown
        .find("the password is stored as an MD5 hash")
        .unwrap();
    assert!(reason < fold, "{markdown}");
    assert!(
        markdown.contains("\n+   postgres.database.app\n"),
        "{markdown}"
    );
    assert!(
        markdown.contains("\n!   postgres.role.app_service\n"),
        "{markdown}"
    );
    assert!(
        markdown.contains("\n-   postgres.membership.app_user.app_admins\n"),
        "{markdown}"
    );
}
