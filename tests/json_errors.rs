//! With `--format json`, every failure prints one error document on stdout
//! (checked against schemas/error.schema.json) and still exits 1, for each
//! kind a pipeline routes on: a bad file, a refused connection, a refused
//! password, a denied S3 request. No secret appears in it.

use crate::support::s3::{self, S3Server};
use crate::support::{free_port, Dbops, PgServer};

const ADMIN: &str = "[postgres]\nadmin = { env = \"DATABASE_ROOT_URL\" }\n";

/// The one document on stdout, valid against the schema.
#[track_caller]
fn document(out: &crate::support::Output, command: &str) -> serde_json::Value {
    out.expect_code(1);
    let value: serde_json::Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}):\n{}", out.stdout));
    let violations = crate::support::schema::violations("error.schema.json", &value);
    assert!(violations.is_empty(), "{violations:?}\n{}", out.stdout);
    assert_eq!(value["command"], command);
    assert_eq!(value["failed"], true);
    assert!(!out.stderr.is_empty(), "the text stays on stderr");
    value
}

#[test]
fn the_committed_output_schemas_are_up_to_date() {
    use crate::support::schema::assert_committed;
    assert_committed(
        "error.schema.json",
        &dbops::render::error_document::schema_text(),
    );
    assert_committed("report.schema.json", &dbops::render::json::schema_text());
    assert_committed("event.schema.json", &dbops::events::schema_text());
    assert_committed(
        "evidence.schema.json",
        &dbops::drill::evidence::schema_text(),
    );
    assert_committed(
        "dump-manifest.schema.json",
        &dbops::domains::dumps::manifest::schema_text(),
    );
    assert_committed(
        "notification.schema.json",
        &dbops::notify::payload::schema_text(),
    );
}

#[test]
fn a_config_error_carries_its_location_and_hint() {
    let out = Dbops::new(&format!("{ADMIN}\n[roles.x]\nconection_limit = 3\n"))
        .env(
            "DATABASE_ROOT_URL",
            "postgres://postgres:pw@127.0.0.1:1/postgres",
        )
        .run(&["validate", "--format", "json"]);
    let value = document(&out, "validate");
    let error = &value["errors"][0];
    assert_eq!(error["kind"], "config");
    assert_eq!(error["location"]["line"], 5);
    assert_eq!(error["location"]["column"], 1);
    assert_eq!(error["location"]["key"], "roles.x.conection_limit");
    assert!(error["hint"].as_str().unwrap().contains("spelling"));
}

#[test]
fn a_refused_connection_and_a_refused_password_are_told_apart() {
    let secret = "sec ret:@/%'\"pw";
    let closed = free_port();
    let out = Dbops::new(ADMIN)
        .env(
            "DATABASE_ROOT_URL",
            &format!(
                "postgres://postgres:{}@127.0.0.1:{closed}/postgres",
                crate::support::percent(secret)
            ),
        )
        .run(&["plan", "--format", "json"]);
    let value = document(&out, "plan");
    assert_eq!(value["errors"][0]["kind"], "connection", "{}", out.stdout);
    assert!(!out.all().contains(secret));

    let server = PgServer::start();
    let out = Dbops::new(ADMIN)
        .env(
            "DATABASE_ROOT_URL",
            &server.url("postgres", secret, "postgres"),
        )
        .run(&["apply", "--auto-approve", "--format", "json"]);
    let value = document(&out, "apply");
    assert_eq!(
        value["errors"][0]["kind"], "authentication",
        "{}",
        out.stdout
    );
    assert!(!out.all().contains(secret));
}

#[test]
fn a_denied_s3_request_is_a_permission_error_naming_the_bucket() {
    let (pg, denying) = (PgServer::start(), S3Server::moto_denying());
    let config = format!(
        "{ADMIN}\n[bucket.db-backups]\nendpoint = {{ env = \"BACKUP_S3_ENDPOINT\" }}\naccess_key_id = {{ env = \"BACKUP_AWS_ACCESS_KEY_ID\" }}\nsecret_access_key = {{ env = \"BACKUP_AWS_SECRET_ACCESS_KEY\" }}\ncreate = true\n"
    );
    let out = s3::dbops(&pg, &denying, &config).run(&["plan", "--format", "json"]);
    let value = document(&out, "plan");
    // Denied is `permission` (the request was understood and refused), as
    // for PostgreSQL; an unreachable endpoint would be `connection`.
    let error = &value["errors"][0];
    assert_eq!(error["kind"], "permission", "{}", out.stdout);
    assert!(error["message"].as_str().unwrap().contains("`db-backups`"));
    assert!(error["hint"].as_str().unwrap().contains("access_key_id"));
    s3::assert_no_keys(&out.all());
}
