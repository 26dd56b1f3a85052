//! Whole-output snapshots of a dbops run: the exit code, stdout and stderr
//! compared in full (insta), with what differs from run to run replaced by
//! placeholders: times, ports, temporary paths, SCRAM verifiers. A wording
//! change is one reviewed snapshot diff.

use super::Output;

/// The run as one text, for a snapshot.
pub(crate) fn text(out: &Output) -> String {
    format!(
        "exit: {}\n--- stdout\n{}--- stderr\n{}",
        out.code, out.stdout, out.stderr
    )
}

/// Snapshots `out` under `tests/snapshots/` as `name`.
pub(crate) fn assert_run(name: &str, out: &Output) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.add_filter(
        r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})",
        "[TIME]",
    );
    settings.add_filter(r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]");
    settings.add_filter(r"/tmp/[A-Za-z0-9._/-]+", "[TMP]");
    settings.add_filter(r"SCRAM-SHA-256\$[^\s`'\x22]+", "[VERIFIER]");
    settings.add_filter(
        r#""(load|connect|observe|diff)_ms":[0-9.]+"#,
        r#""${1}_ms":[MS]"#,
    );
    settings.bind(|| insta::assert_snapshot!(name, text(out)));
}
