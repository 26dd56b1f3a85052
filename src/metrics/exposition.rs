//! The Prometheus text exposition format (version 0.0.4): `# HELP`, `# TYPE`,
//! then one line per series, metrics in catalogue order, series sorted, a
//! repeated series written once. Pure.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::catalogue::ALL;
use super::Sample;

/// The file's text for `command`'s samples, environment by environment:
/// with a name, each series carries `environment` after `command`.
pub(crate) fn render_environments(command: &str, groups: &[(Option<&str>, &[Sample])]) -> String {
    let mut out = String::new();
    for metric in ALL {
        let series: BTreeMap<(Option<&str>, Vec<&str>), f64> = groups
            .iter()
            .flat_map(|(environment, samples)| samples.iter().map(move |s| (*environment, s)))
            .filter(|(_, s)| std::ptr::eq(s.metric, *metric))
            .map(|(environment, s)| {
                (
                    (environment, s.labels.iter().map(String::as_str).collect()),
                    s.value,
                )
            })
            .collect();
        if series.is_empty() {
            continue;
        }
        let _ = writeln!(out, "# HELP {} {}", metric.name, escape_help(metric.help));
        let _ = writeln!(out, "# TYPE {} {}", metric.name, metric.kind.word());
        for ((environment, labels), value) in series {
            debug_assert_eq!(labels.len(), metric.labels.len(), "{}", metric.name);
            out.push_str(metric.name);
            out.push_str("{command=\"");
            out.push_str(&escape_label(command));
            out.push('"');
            if let Some(environment) = environment {
                let _ = write!(out, ",environment=\"{}\"", escape_label(environment));
            }
            for (name, value) in metric.labels.iter().zip(labels) {
                let _ = write!(out, ",{name}=\"{}\"", escape_label(value));
            }
            out.push_str("} ");
            out.push_str(&number(value));
            out.push('\n');
        }
    }
    out
}

/// In a label value: backslash, double quote and line feed are escaped.
fn escape_label(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// In help text: backslash and line feed are escaped.
fn escape_help(value: &str) -> String {
    value.replace('\\', "\\\\").replace('\n', "\\n")
}

/// Whole numbers without a fraction, others as Rust's shortest round trip.
fn number(value: f64) -> String {
    if value.is_nan() {
        "NaN".into()
    } else if value.is_infinite() {
        if value > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::catalogue::{FINDING, RUN_SUCCESS, RUN_TIMESTAMP};

    #[test]
    fn series_are_grouped_sorted_escaped_and_written_once() {
        let samples = vec![
            Sample::new(&FINDING, 1.0)
                .label("security.weak_password")
                .label("security"),
            Sample::new(&RUN_TIMESTAMP, 1_733_133_133.25),
            Sample::new(&FINDING, 2.0)
                .label("backup.health.wal")
                .label("health"),
            Sample::new(&RUN_SUCCESS, 0.0),
            Sample::new(&FINDING, 2.0)
                .label("backup.health.wal")
                .label("health"),
            Sample::new(&FINDING, 1.0)
                .label("odd \"id\"\\\nnext")
                .label("health"),
        ];
        insta::assert_snapshot!(render_environments("drift", &[(None, &samples)]), @r#"
        # HELP dbops_run_success 1 when the run succeeded (exit 0), 0 when it failed or found a problem.
        # TYPE dbops_run_success gauge
        dbops_run_success{command="drift"} 0
        # HELP dbops_run_timestamp_seconds When the run ended, in seconds since the Unix epoch.
        # TYPE dbops_run_timestamp_seconds gauge
        dbops_run_timestamp_seconds{command="drift"} 1733133133.25
        # HELP dbops_finding Findings of the run with this id (present only while the check fails).
        # TYPE dbops_finding gauge
        dbops_finding{command="drift",id="backup.health.wal",class="health"} 2
        dbops_finding{command="drift",id="odd \"id\"\\\nnext",class="health"} 1
        dbops_finding{command="drift",id="security.weak_password",class="security"} 1
        "#);
    }

    #[test]
    fn numbers_are_what_prometheus_parses() {
        assert_eq!(number(0.0), "0");
        assert_eq!(number(-3.0), "-3");
        assert_eq!(number(1.5), "1.5");
        assert_eq!(number(f64::NAN), "NaN");
        assert_eq!(number(f64::INFINITY), "+Inf");
        assert_eq!(number(1e20), "100000000000000000000");
    }

    #[test]
    fn every_name_follows_the_conventions() {
        let mut seen = std::collections::BTreeSet::new();
        for metric in ALL {
            assert!(seen.insert(metric.name), "{} twice", metric.name);
            assert!(metric.name.starts_with("dbops_"), "{}", metric.name);
            assert!(
                metric
                    .name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "{}",
                metric.name
            );
            let counter = metric.kind == crate::metrics::Kind::Counter;
            assert_eq!(counter, metric.name.ends_with("_total"), "{}", metric.name);
            assert!(!metric.labels.contains(&"command"), "{}", metric.name);
        }
    }
}
