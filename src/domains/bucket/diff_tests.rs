//! The bucket diff as a table: declared properties only, lifecycle rules as
//! a set keyed by id. Pure: no S3.

use super::*;
use crate::plan::outline;
use crate::s3::bucket::Encryption;

fn spec() -> BucketSpec {
    BucketSpec {
        name: "db-backups".into(),
        endpoint: Some("http://127.0.0.1:9000".into()),
        region: "us-east-1".into(),
        path_style: true,
        ca_pem: None,
        credentials: None,
        create: true,
        versioning: Some(true),
        encryption: Some(Encryption::Aes256),
        block_public_access: Some(true),
        lifecycle: Some(vec![rule("expire-wal", 30)]),
        prune_lifecycle: false,
    }
}

fn rule(id: &str, days: i64) -> Rule {
    Rule {
        id: id.into(),
        prefix: "prod/wal_005/".into(),
        enabled: true,
        expire_after_days: Some(days),
        noncurrent_expire_after_days: None,
        transition: None,
        abort_incomplete_multipart_after_days: None,
    }
}

fn converged() -> LiveBucket {
    LiveBucket {
        exists: true,
        versioning: Some("Enabled".into()),
        encryption: Some(Encryption::Aes256),
        block_public_access: Some(true),
        lifecycle: vec![rule("expire-wal", 30)],
    }
}

#[test]
fn the_bucket_diff_table() {
    let mut pruning = spec();
    pruning.prune_lifecycle = true;
    let with_extra = LiveBucket {
        lifecycle: vec![rule("expire-wal", 30), rule("by-hand", 1)],
        ..converged()
    };
    let cases: Vec<(&str, BucketSpec, LiveBucket, Vec<&str>)> = vec![
        (
            "from empty: the bucket, then each property",
            spec(),
            LiveBucket::default(),
            vec![
                "+ bucket.db-backups",
                "+ bucket.db-backups.versioning",
                "+ bucket.db-backups.encryption",
                "+ bucket.db-backups.public_access_block",
                "+ bucket.db-backups.lifecycle",
            ],
        ),
        ("converged", spec(), converged(), vec![]),
        (
            "versioning suspended by hand, a rule changed",
            spec(),
            LiveBucket {
                versioning: Some("Suspended".into()),
                lifecycle: vec![rule("expire-wal", 7)],
                ..converged()
            },
            vec![
                "~ bucket.db-backups.versioning",
                "~ bucket.db-backups.lifecycle",
            ],
        ),
        (
            "an undeclared rule is kept, and said so",
            spec(),
            with_extra.clone(),
            vec!["note bucket `db-backups` has lifecycle rules the file does not declare: `by-hand`; kept (`prune_lifecycle = true` removes them)"],
        ),
        (
            "with prune_lifecycle the undeclared rule goes",
            pruning,
            with_extra,
            vec!["~ bucket.db-backups.lifecycle (S3 replaces the whole lifecycle configuration: `by-hand` will be removed (`prune_lifecycle = true`))"],
        ),
        (
            "the public access block lifted by hand",
            spec(),
            LiveBucket {
                block_public_access: Some(false),
                ..converged()
            },
            vec!["+ bucket.db-backups.public_access_block"],
        ),
    ];
    for (name, desired, live, expected) in cases {
        let plan = diff(&desired, &live).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(outline(&plan), expected, "{name}");
    }
}

#[test]
fn a_missing_bucket_without_create_is_an_error() {
    let mut desired = spec();
    desired.create = false;
    let error = diff(&desired, &LiveBucket::default()).unwrap_err();
    assert!(
        error
            .message()
            .contains("bucket `db-backups` does not exist at http://127.0.0.1:9000"),
        "{error}"
    );
}
