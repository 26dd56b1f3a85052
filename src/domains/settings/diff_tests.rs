//! The settings diff as a table: values compared after unit normalization,
//! restarts pending rather than repeated, derived settings explained. Pure.

use super::*;
use crate::domains::settings::live::AutoConfEntry;
use crate::pg::setting_value::VarType;
use crate::plan::outline;

fn setting(name: &str, value: &str, unit: Option<&str>, context: Context) -> LiveSetting {
    LiveSetting {
        name: name.into(),
        setting: value.into(),
        display: value.into(),
        vartype: if unit.is_some() {
            VarType::Integer
        } else {
            VarType::String
        },
        unit: unit.map(str::to_string),
        enumvals: Vec::new(),
        min_val: Some("0".into()),
        max_val: Some("2147483647".into()),
        context,
        source: "default".into(),
        pending_restart: false,
        pending_value: None,
    }
}

fn live(settings: Vec<LiveSetting>, auto_conf: &[(&str, &str, bool)]) -> LiveSettings {
    LiveSettings {
        known: settings.iter().map(|s| s.name.clone()).collect(),
        settings: settings.into_iter().map(|s| (s.name.clone(), s)).collect(),
        auto_conf: auto_conf
            .iter()
            .map(|(name, value, applied)| {
                let entry = AutoConfEntry {
                    value: value.to_string(),
                    applied: *applied,
                };
                (name.to_string(), entry)
            })
            .collect(),
        statements: 1,
        hba: None,
    }
}

fn desired(settings: &[(&str, &str, Origin)], prune: bool) -> DesiredSettings {
    DesiredSettings {
        settings: settings
            .iter()
            .map(|(name, value, origin)| {
                let setting = DesiredSetting {
                    name: name.to_string(),
                    value: value.to_string(),
                    origin: *origin,
                    sensitive: crate::util::credential::carries_credential(value),
                };
                (name.to_string(), setting)
            })
            .collect(),
        prune,
        restart_command: None,
        hba: None,
        admin_certificate: false,
    }
}

#[test]
fn the_settings_diff_table() {
    use Origin::{Derived, File};
    let timeout = || setting("statement_timeout", "60000", Some("ms"), Context::User);
    let connections = || setting("max_connections", "100", None, Context::Postmaster);
    let cases: Vec<(&str, DesiredSettings, LiveSettings, Vec<&str>)> = vec![
        (
            "a value that differs",
            desired(&[("statement_timeout", "30s", File)], false),
            live(vec![timeout()], &[]),
            vec!["~ postgres.setting.statement_timeout"],
        ),
        (
            "the same value in another unit is no change",
            desired(&[("statement_timeout", "1min", File)], false),
            live(vec![timeout()], &[("statement_timeout", "60s", true)]),
            vec![],
        ),
        (
            "a derived setting says where it comes from",
            desired(&[("statement_timeout", "30s", Derived("[backup]"))], false),
            live(vec![timeout()], &[]),
            vec!["~ postgres.setting.statement_timeout (derived from `[backup]`)"],
        ),
        (
            "written and waiting for a restart is pending, not a change",
            desired(&[("max_connections", "200", File)], false),
            live(vec![connections()], &[("max_connections", "200", false)]),
            vec!["pending postgres.setting.max_connections"],
        ),
        (
            "written and never loaded is set again, with a reload",
            desired(&[("statement_timeout", "30s", File)], false),
            live(vec![timeout()], &[("statement_timeout", "30s", false)]),
            vec!["~ postgres.setting.statement_timeout (written to postgresql.auto.conf but not loaded; apply reloads the configuration)"],
        ),
        (
            "an entry the file does not name is a note, or reset with prune",
            desired(&[], false),
            live(vec![timeout()], &[("statement_timeout", "30s", true)]),
            vec!["note `statement_timeout` is set in postgresql.auto.conf but not in the file; left alone (`[server] prune = true` resets it)"],
        ),
        (
            "prune resets it",
            desired(&[], true),
            live(vec![timeout()], &[("statement_timeout", "30s", true)]),
            vec!["- postgres.setting.statement_timeout (not in the file, and `[server] prune = true`)"],
        ),
    ];
    for (name, desired, live, expected) in cases {
        let plan = diff(&desired, &live).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(outline(&plan), expected, "{name}");
    }
}

/// A value that carries a credential, in the file or on the server, is
/// shown as changed and never printed: in the change, the pending restart
/// and a reset by prune.
#[test]
fn a_credential_in_a_setting_is_never_printed() {
    use crate::plan::{AttributeChange, Value};
    let conninfo = "host=primary user=replicator password=s3cret";
    let primary = || {
        setting(
            "primary_conninfo",
            "host=old password=0ld",
            None,
            Context::Sighup,
        )
    };
    let plan = diff(
        &desired(&[("primary_conninfo", conninfo, Origin::File)], false),
        &live(vec![primary()], &[]),
    )
    .unwrap();
    assert_eq!(
        plan.changes[0].change.attributes,
        [AttributeChange::sensitive("value")]
    );
    let printed = format!("{:?}", plan);
    assert!(
        !printed.contains("s3cret") && !printed.contains("0ld"),
        "{printed}"
    );

    let restart = || setting("primary_conninfo", "", None, Context::Postmaster);
    let plan = diff(
        &desired(&[("primary_conninfo", conninfo, Origin::File)], false),
        &live(vec![restart()], &[("primary_conninfo", conninfo, false)]),
    )
    .unwrap();
    assert_eq!(plan.pending[0].pending, Value::text("(sensitive)"));

    let plan = diff(
        &desired(&[], true),
        &live(vec![primary()], &[("primary_conninfo", conninfo, true)]),
    )
    .unwrap();
    assert!(plan.changes[0].change.attributes[0].sensitive);

    // Without a credential, the value shows.
    let plan = diff(
        &desired(&[("primary_conninfo", "host=primary", Origin::File)], false),
        &live(
            vec![setting(
                "primary_conninfo",
                "host=old",
                None,
                Context::Sighup,
            )],
            &[],
        ),
    )
    .unwrap();
    assert!(!plan.changes[0].change.attributes[0].sensitive);
}

#[test]
fn settings_the_server_cannot_take_are_errors() {
    let errors = diff(
        &desired(&[("statment_timeout", "1s", Origin::File)], false),
        &live(
            vec![setting("statement_timeout", "0", Some("ms"), Context::User)],
            &[],
        ),
    )
    .unwrap_err()
    .to_string();
    assert!(
        errors.contains("unknown setting `statment_timeout`"),
        "{errors}"
    );
    assert!(
        errors.contains("statement_timeout"),
        "a suggestion: {errors}"
    );
    let errors = diff(
        &desired(&[("block_size", "16384", Origin::File)], false),
        &live(
            vec![setting("block_size", "8192", None, Context::Internal)],
            &[],
        ),
    )
    .unwrap_err()
    .to_string();
    assert!(
        errors.contains("cannot be changed with `ALTER SYSTEM`"),
        "{errors}"
    );
}
