//! The backup tool's files as a table: rendered content, mode and owner
//! against disk, never through a link. Pure: no disk.

use super::*;
use crate::domains::backup::render::WALG_REDACTION;
use crate::managed_files::DesiredFile;
use crate::plan::outline;
use crate::util::digest::sha256_hex;

const PATH: &str = "/etc/wal-g/walg.env";
const CONTENT: &str =
    "# managed by dbops\nWALG_S3_PREFIX='s3://b/prod'\nAWS_SECRET_ACCESS_KEY='hunter2'\n";

fn desired() -> DesiredBackup {
    DesiredBackup {
        files: vec![DesiredFile {
            address: super::super::ID
                .address()
                .word("file")
                .file(std::path::Path::new(PATH)),
            path: PATH.into(),
            content: CONTENT.into(),
            mode: 0o600,
            owner: None,
            redaction: WALG_REDACTION,
            carried: Vec::new(),
        }],
        ..DesiredBackup::example()
    }
}

fn on_disk(content: &str, mode: u32) -> BTreeMap<String, LiveFile> {
    BTreeMap::from([(
        PATH.to_string(),
        LiveFile {
            exists: true,
            content: Some(content.into()),
            digest: Some(sha256_hex(content.as_bytes())),
            mode: Some(mode),
            uid: Some(0),
            gid: Some(0),
            not_regular: None,
        },
    )])
}

type Case = (
    &'static str,
    DesiredBackup,
    BTreeMap<String, LiveFile>,
    Vec<&'static str>,
);

#[test]
fn the_backup_files_diff_table() {
    let rotated = CONTENT.replace("hunter2", "correct horse");
    let cases: Vec<Case> = vec![
        (
            "no file declared",
            DesiredBackup::example(),
            BTreeMap::new(),
            vec![],
        ),
        (
            "a missing file is created",
            desired(),
            BTreeMap::new(),
            vec!["+ backup.file.walg.env"],
        ),
        ("converged", desired(), on_disk(CONTENT, 0o600), vec![]),
        (
            "a secret changed on disk",
            desired(),
            on_disk(&rotated, 0o600),
            vec!["~ backup.file.walg.env"],
        ),
        (
            "a loosened mode",
            desired(),
            on_disk(CONTENT, 0o644),
            vec!["~ backup.file.walg.env"],
        ),
    ];
    for (name, desired, live, expected) in cases {
        let plan = Backup::diff(&desired, &live, &()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(outline(&plan), expected, "{name}");
    }
    // The changed secret shows as sensitive, never as text.
    let plan = Backup::diff(&desired(), &on_disk(&rotated, 0o600), &()).unwrap();
    let change = &plan.changes[0].change;
    assert!(change.attributes.iter().any(|a| a.sensitive));
    assert!(!format!("{change:?}").contains("hunter2"));
}

#[test]
fn a_link_at_the_path_is_an_error() {
    let mut live = on_disk(CONTENT, 0o600);
    let file = live.get_mut(PATH).unwrap();
    file.content = None;
    file.not_regular = Some("a symbolic link");
    let error = Backup::diff(&desired(), &live, &())
        .unwrap_err()
        .to_string();
    assert!(error.contains("is a symbolic link"), "{error}");
}
