//! The backup bucket against a real S3-compatible server (moto, and s3s-fs for
//! an endpoint that lacks bucket-configuration APIs): convergence from empty,
//! drift repaired, undeclared rules kept unless pruned, unsupported APIs, and
//! bad input.

use std::time::{Duration, Instant};

use aws_sdk_s3::types::BucketVersioningStatus;

use crate::support::s3::{assert_no_keys, dbops, S3Server};
use crate::support::{squash, PgServer};

fn config(extra: &str) -> String {
    format!(
        r#"[postgres]
admin = {{ env = "DATABASE_ROOT_URL" }}

[bucket.db-backups]
endpoint = {{ env = "BACKUP_S3_ENDPOINT" }}
access_key_id = {{ env = "BACKUP_AWS_ACCESS_KEY_ID" }}
secret_access_key = {{ env = "BACKUP_AWS_SECRET_ACCESS_KEY" }}
create = true
versioning = true
encryption = "AES256"
block_public_access = true
{extra}
[[bucket.db-backups.lifecycle]]
id = "expire-wal"
prefix = "prod/wal_005/"
expire_after_days = 30
noncurrent_expire_after_days = 7

[[bucket.db-backups.lifecycle]]
id = "base-backups-to-glacier"
prefix = "prod/basebackups_005/"
transition_after_days = 30
transition_storage_class = "GLACIER"

[[bucket.db-backups.lifecycle]]
id = "abort-multipart"
abort_incomplete_multipart_after_days = 3
"#
    )
}

#[test]
fn from_empty_apply_creates_the_bucket_with_every_property_and_then_plans_nothing() {
    let (pg, s3) = (PgServer::start(), S3Server::moto());
    let dbops = dbops(&pg, &s3, &config(""));
    let plan = dbops.run(&["plan", "--detailed-exitcode"]);
    plan.expect_code(2);
    assert_no_keys(&plan.all());
    for address in [
        "+ bucket.db-backups\n",
        "+ bucket.db-backups.versioning",
        "+ bucket.db-backups.public_access_block",
        "+ bucket.db-backups.lifecycle",
    ] {
        assert!(
            plan.stdout.contains(address),
            "{address} missing from\n{}",
            plan.stdout
        );
    }
    assert!(
        plan.stdout
            .contains("+expire-wal: prefix \"prod/wal_005/\", expire 30d, noncurrent expire 7d"),
        "{}",
        plan.stdout
    );
    let apply = dbops.run(&["apply", "--auto-approve"]);
    apply.expect_code(0);
    assert_no_keys(&apply.all());

    // Read back independently.
    let client = s3.client();
    let versioning = client.versioning_status("db-backups");
    assert_eq!(versioning, Some(BucketVersioningStatus::Enabled));
    let encryption = client
        .block(
            client
                .s3
                .get_bucket_encryption()
                .bucket("db-backups")
                .send(),
        )
        .unwrap();
    let algorithm = encryption
        .server_side_encryption_configuration()
        .unwrap()
        .rules()[0]
        .apply_server_side_encryption_by_default()
        .unwrap()
        .sse_algorithm()
        .as_str()
        .to_string();
    assert_eq!(algorithm, "AES256");
    let block = client
        .block(
            client
                .s3
                .get_public_access_block()
                .bucket("db-backups")
                .send(),
        )
        .unwrap();
    assert_eq!(
        block
            .public_access_block_configuration()
            .unwrap()
            .block_public_acls(),
        Some(true)
    );
    let lifecycle = client
        .block(
            client
                .s3
                .get_bucket_lifecycle_configuration()
                .bucket("db-backups")
                .send(),
        )
        .unwrap();
    let mut ids: Vec<&str> = lifecycle.rules().iter().filter_map(|r| r.id()).collect();
    ids.sort();
    assert_eq!(
        ids,
        ["abort-multipart", "base-backups-to-glacier", "expire-wal"]
    );

    dbops.run(&["plan", "--detailed-exitcode"]).expect_code(0);
}

#[test]
fn out_of_band_changes_are_drift_and_apply_repairs_them() {
    let (pg, s3) = (PgServer::start(), S3Server::moto());
    let dbops = dbops(&pg, &s3, &config(""));
    dbops.run(&["apply", "--auto-approve"]).expect_code(0);
    dbops.run(&["drift"]).expect_code(0);

    let client = s3.client();
    client
        .block(
            client
                .s3
                .put_bucket_versioning()
                .bucket("db-backups")
                .versioning_configuration(
                    aws_sdk_s3::types::VersioningConfiguration::builder()
                        .status(BucketVersioningStatus::Suspended)
                        .build(),
                )
                .send(),
        )
        .unwrap();
    client
        .block(
            client
                .s3
                .delete_public_access_block()
                .bucket("db-backups")
                .send(),
        )
        .unwrap();
    // One rule changed (30 -> 3 days), one deleted: S3 replaces the whole configuration.
    let current = client
        .block(
            client
                .s3
                .get_bucket_lifecycle_configuration()
                .bucket("db-backups")
                .send(),
        )
        .unwrap();
    let rules: Vec<_> = current
        .rules()
        .iter()
        .filter(|r| r.id() != Some("abort-multipart"))
        .map(|r| {
            if r.id() == Some("expire-wal") {
                let mut builder = r.clone().to_owned();
                builder.expiration = Some(
                    aws_sdk_s3::types::LifecycleExpiration::builder()
                        .days(3)
                        .build(),
                );
                builder
            } else {
                r.clone()
            }
        })
        .collect();
    client.put_lifecycle_rules("db-backups", rules);

    let drift = dbops.run(&["drift"]);
    drift.expect_code(2);
    let shown = squash(&drift.stdout);
    for expected in [
        "# bucket.db-backups.versioning has drifted",
        "~ status = \"Suspended\" -> \"Enabled\"",
        "# bucket.db-backups.public_access_block is missing",
        "# bucket.db-backups.lifecycle has drifted",
        "~ rule \"expire-wal\" = \"prefix \\\"prod/wal_005/\\\", expire 3d, noncurrent expire 7d\" -> \"prefix \\\"prod/wal_005/\\\", expire 30d, noncurrent expire 7d\"",
        "+ rule \"abort-multipart\" = \"whole bucket, abort multipart after 3d\"",
    ] {
        assert!(shown.contains(expected), "`{expected}` missing from\n{}", drift.stdout);
    }
    dbops.run(&["apply", "--auto-approve"]).expect_code(0);
    dbops.run(&["drift"]).expect_code(0);
}

#[test]
fn undeclared_lifecycle_rules_are_kept_unless_pruning() {
    let (pg, s3) = (PgServer::start(), S3Server::moto());
    let dbops = dbops(&pg, &s3, &config(""));
    dbops.run(&["apply", "--auto-approve"]).expect_code(0);
    let client = s3.client();
    let mut rules = client.lifecycle_rules("db-backups");
    rules.push(
        aws_sdk_s3::types::LifecycleRule::builder()
            .id("added-by-hand")
            .filter(
                aws_sdk_s3::types::LifecycleRuleFilter::builder()
                    .prefix("tmp/")
                    .build(),
            )
            .status(aws_sdk_s3::types::ExpirationStatus::Enabled)
            .expiration(
                aws_sdk_s3::types::LifecycleExpiration::builder()
                    .days(1)
                    .build(),
            )
            .build()
            .unwrap(),
    );
    client.put_lifecycle_rules("db-backups", rules);
    let plan = dbops.run(&["plan", "--detailed-exitcode"]);
    plan.expect_code(0);
    assert!(
        plan.stdout
            .contains("has lifecycle rules the file does not declare: `added-by-hand`; kept"),
        "{}",
        plan.stdout
    );

    dbops.write_config(&config("prune_lifecycle = true\n"));
    let plan = dbops.run(&["plan", "--detailed-exitcode"]);
    plan.expect_code(2);
    assert!(
        squash(&plan.stdout).contains("- rule \"added-by-hand\""),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("`added-by-hand` will be removed (`prune_lifecycle = true`)"),
        "{}",
        plan.stdout
    );
    dbops.run(&["apply", "--auto-approve"]).expect_code(0);
    let ids: Vec<String> = client
        .block(
            client
                .s3
                .get_bucket_lifecycle_configuration()
                .bucket("db-backups")
                .send(),
        )
        .unwrap()
        .rules()
        .iter()
        .filter_map(|r| r.id().map(str::to_string))
        .collect();
    assert!(!ids.contains(&"added-by-hand".to_string()), "{ids:?}");
    dbops.run(&["plan", "--detailed-exitcode"]).expect_code(0);
}

#[test]
fn a_declared_property_the_endpoint_lacks_is_a_clear_error_an_undeclared_one_is_not() {
    let (pg, s3) = (PgServer::start(), S3Server::s3s_fs());
    let minimal = "[postgres]\nadmin = { env = \"DATABASE_ROOT_URL\" }\n\n[bucket.db-backups]\n\
                   endpoint = { env = \"BACKUP_S3_ENDPOINT\" }\naccess_key_id = { env = \"BACKUP_AWS_ACCESS_KEY_ID\" }\n\
                   secret_access_key = { env = \"BACKUP_AWS_SECRET_ACCESS_KEY\" }\ncreate = true\n";
    let plain = dbops(&pg, &s3, minimal);
    plain.run(&["apply", "--auto-approve"]).expect_code(0);
    plain.run(&["plan", "--detailed-exitcode"]).expect_code(0);

    let declared = dbops(&pg, &s3, &format!("{minimal}versioning = true\n"));
    let out = declared.run(&["plan"]);
    out.expect_code(1);
    assert!(
        out.stderr.contains(&format!(
            "the endpoint {} does not implement `GetBucketVersioning`, which `bucket.db-backups.versioning` needs",
            s3.endpoint()
        )),
        "{}",
        out.stderr
    );
    assert_no_keys(&out.all());
}

#[test]
fn bad_bucket_input_fails_clearly_and_changes_nothing() {
    let (pg, s3) = (PgServer::start(), S3Server::moto());
    for (from, to, expected) in [
        (
            "\"GLACIER\"",
            "\"FROZEN\"",
            "unknown variant `FROZEN`, expected one of `STANDARD_IA`",
        ),
        (
            "expire_after_days = 30",
            "expire_after_days = -30",
            "key `bucket.db-backups.lifecycle[0].expire_after_days`: -30 is not a number of days",
        ),
        (
            "id = \"abort-multipart\"",
            "id = \"expire-wal\"",
            "lifecycle rule id `expire-wal` is used twice",
        ),
    ] {
        let out = dbops(&pg, &s3, &config("").replace(from, to)).run(&["apply", "--auto-approve"]);
        out.expect_code(1);
        assert!(
            out.stderr.contains(expected),
            "`{expected}` missing from\n{}",
            out.stderr
        );
    }
    let client = s3.client();
    let buckets = client.block(client.s3.list_buckets().send()).unwrap();
    assert!(buckets.buckets().is_empty(), "nothing was created");

    // Unreachable endpoint: a closed port, bounded.
    let started = Instant::now();
    let closed = format!("http://127.0.0.1:{}", crate::support::free_port());
    let out = dbops(&pg, &s3, &config(""))
        .env("BACKUP_S3_ENDPOINT", &closed)
        .run(&["plan", "--connect-timeout", "2s"]);
    out.expect_code(1);
    assert!(
        out.stderr
            .contains("`HeadBucket` on bucket `db-backups`: cannot reach http://127.0.0.1:"),
        "{}",
        out.stderr
    );
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_no_keys(&out.all());

    // Denied credentials: a server that checks them.
    let denying = S3Server::moto_denying();
    let out = dbops(&pg, &denying, &config("")).run(&["apply", "--auto-approve"]);
    out.expect_code(1);
    assert!(out.stderr.contains("was denied"), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("hint: check `access_key_id` and `secret_access_key`"),
        "{}",
        out.stderr
    );
    assert_no_keys(&out.all());
}

#[test]
fn suspending_versioning_and_lifting_the_public_access_block_converge_too() {
    let (pg, s3) = (PgServer::start(), S3Server::moto());
    let dbops = dbops(&pg, &s3, &config(""));
    dbops.run(&["apply", "--auto-approve"]).expect_code(0);
    dbops.write_config(
        &config("")
            .replace("versioning = true", "versioning = false")
            .replace("block_public_access = true", "block_public_access = false")
            .replace(
                "encryption = \"AES256\"",
                "encryption = \"alias/backup-key\"",
            ),
    );
    let plan = dbops.run(&["plan", "--detailed-exitcode"]);
    plan.expect_code(2);
    let shown = squash(&plan.stdout);
    assert!(
        shown.contains("~ status = \"Enabled\" -> \"Suspended\""),
        "{}",
        plan.stdout
    );
    assert!(
        shown.contains("- bucket.db-backups.public_access_block"),
        "{}",
        plan.stdout
    );
    assert!(
        shown.contains("~ default = \"AES256\" -> \"alias/backup-key\""),
        "{}",
        plan.stdout
    );
    dbops.run(&["apply", "--auto-approve"]).expect_code(0);
    dbops.run(&["plan", "--detailed-exitcode"]).expect_code(0);
    let client = s3.client();
    let versioning = client.versioning_status("db-backups");
    assert_eq!(versioning, Some(BucketVersioningStatus::Suspended));
}

/// An `https` endpoint with a private CA: dbops trusts exactly `ca_file`,
/// converges the bucket through the TLS proxy, and refuses the same endpoint
/// without it (the platform's roots do not know this CA).
#[test]
fn an_https_endpoint_with_a_private_ca_is_managed_with_ca_file() {
    let (pg, s3) = (PgServer::start(), S3Server::moto());
    let proxy = crate::support::tls_proxy::TlsProxy::start(s3.port);
    let with_ca = format!("ca_file = \"{}\"\n", proxy.cert.display());
    let dbops = |extra: &str| {
        dbops(&pg, &s3, &config(extra)).env(
            "BACKUP_S3_ENDPOINT",
            &format!("https://localhost:{}", proxy.port),
        )
    };
    let without = dbops("").run(&["plan"]);
    without.expect_code(1);
    assert!(
        without.stderr.contains("cannot reach https://localhost:"),
        "{}",
        without.stderr
    );
    assert!(
        without.stderr.contains("set `ca_file`"),
        "{}",
        without.stderr
    );
    assert_no_keys(&without.all());

    let managed = dbops(&with_ca);
    managed.run(&["apply", "--auto-approve"]).expect_code(0);
    managed.run(&["plan", "--detailed-exitcode"]).expect_code(0);
    // Read back through moto directly, not through dbops.
    assert_eq!(
        s3.client().versioning_status("db-backups"),
        Some(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
    );

    // ca_file is checked by validate.
    let out = dbops("ca_file = \"/no/such/ca.pem\"\n").run(&["validate"]);
    out.expect_code(1);
    assert!(out.stderr.contains("cannot be read"), "{}", out.stderr);
}
