//! TLS to PostgreSQL with libpq's semantics, against a real server with
//! `ssl = on`, certificates made by the test and a `hostssl`-only pg_hba:
//! `require` encrypts, `verify-full` checks the chain and the name,
//! `verify-ca` only the chain, `allow` falls back to TLS, `disable` is refused
//! by the server, a client certificate logs in with `cert` authentication,
//! and what cannot work is a config error in `validate`. No secret appears in
//! any TLS error.

use crate::support::certs::Certs;
use crate::support::postgres::{give_to_server_user, SUPERUSER_PASSWORD};
use crate::support::{percent, Dbops, PgServer};

const CONFIG: &str = "[postgres]\nadmin = { env = \"DATABASE_ROOT_URL\" }\n";

fn tls_server() -> (PgServer, Certs) {
    let pg = PgServer::start();
    let dir = pg.writable_dir("tls");
    let certs = Certs::new(&dir);
    certs.issue("server", "localhost", Some("localhost"));
    certs.issue("client", "certadmin", None);
    give_to_server_user(&dir);
    let file = |name: &str| dir.join(name).display().to_string();
    pg.sql_ok("CREATE ROLE certadmin SUPERUSER LOGIN");
    for (name, value) in [
        ("ssl_cert_file", file("server.crt")),
        ("ssl_key_file", file("server.key")),
        ("ssl_ca_file", file("ca.crt")),
        ("ssl", "on".to_string()),
    ] {
        pg.sql_ok(&format!("ALTER SYSTEM SET {name} = '{value}'"));
    }
    std::fs::write(
        pg.data_dir().join("pg_hba.conf"),
        "local all all peer\n\
         hostssl all certadmin 127.0.0.1/32 cert\n\
         hostssl all all 127.0.0.1/32 scram-sha-256\n",
    )
    .unwrap();
    pg.sql_ok("SELECT pg_reload_conf()");
    assert_eq!(pg.sql_ok("SHOW ssl"), "on");
    (pg, certs)
}

fn admin(pg: &PgServer, host: &str, query: &str) -> String {
    format!(
        "postgres://postgres:{}@{host}:{}/postgres?hostaddr=127.0.0.1&{query}",
        percent(SUPERUSER_PASSWORD),
        pg.port
    )
}

fn plan(dsn: &str) -> crate::support::Output {
    let out = Dbops::new(CONFIG)
        .env("DATABASE_ROOT_URL", dsn)
        .run(&["plan", "--detailed-exitcode"]);
    assert!(
        !out.all().contains(SUPERUSER_PASSWORD),
        "the password leaked:\n{}",
        out.all()
    );
    out
}

#[test]
fn sslmodes_behave_as_libpq_against_a_hostssl_only_server() {
    let (pg, certs) = tls_server();
    let ca = certs.path("ca.crt").display().to_string();
    let other = certs.path("other-ca.crt").display().to_string();

    // Encrypted, the server unauthenticated.
    plan(&admin(&pg, "127.0.0.1", "sslmode=require")).expect_code(0);
    plan(&admin(&pg, "127.0.0.1", "sslmode=prefer")).expect_code(0);
    // `allow` tries without TLS, is refused by hostssl, and retries with TLS.
    plan(&admin(&pg, "127.0.0.1", "sslmode=allow")).expect_code(0);
    // The chain and the name.
    plan(&admin(
        &pg,
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={ca}"),
    ))
    .expect_code(0);
    // `require` with a root file verifies the chain, as libpq does.
    plan(&admin(
        &pg,
        "localhost",
        &format!("sslmode=require&sslrootcert={ca}"),
    ))
    .expect_code(0);
    let out = plan(&admin(
        &pg,
        "localhost",
        &format!("sslmode=require&sslrootcert={other}"),
    ));
    out.expect_code(1);

    // A name the certificate does not carry: verify-full refuses, verify-ca does not look.
    let out = plan(&admin(
        &pg,
        "wrong.example",
        &format!("sslmode=verify-full&sslrootcert={ca}"),
    ));
    out.expect_code(1);
    assert!(
        out.stderr
            .contains("hint: the server's certificate does not name the DSN's host"),
        "{}",
        out.stderr
    );
    plan(&admin(
        &pg,
        "wrong.example",
        &format!("sslmode=verify-ca&sslrootcert={ca}"),
    ))
    .expect_code(0);

    // An untrusted CA.
    let out = plan(&admin(
        &pg,
        "localhost",
        &format!("sslmode=verify-ca&sslrootcert={other}"),
    ));
    out.expect_code(1);
    assert!(
        out.stderr
            .contains("hint: the server's certificate is not signed by a CA in `sslrootcert`"),
        "{}",
        out.stderr
    );

    // No TLS against hostssl-only: the server's refusal, said plainly, and
    // the hint names TLS, not a certificate or the host.
    let out = plan(&admin(&pg, "127.0.0.1", "sslmode=disable"));
    out.expect_code(1);
    assert!(
        out.stderr.contains("no encryption")
            && out
                .stderr
                .contains("hint: the server admits this user only over TLS"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_client_certificate_logs_in_with_cert_authentication() {
    let (pg, certs) = tls_server();
    let dsn = format!(
        "postgres://certadmin@localhost:{}/postgres?hostaddr=127.0.0.1&sslmode=verify-full&sslrootcert={}&sslcert={}&sslkey={}",
        pg.port,
        certs.path("ca.crt").display(),
        certs.path("client.crt").display(),
        certs.path("client.key").display()
    );
    plan(&dsn).expect_code(0);
    // Without the certificate, `cert` authentication refuses.
    let without = dsn.split("&sslcert=").next().unwrap().to_string();
    let out = plan(&without);
    out.expect_code(1);
}

#[test]
fn tls_parameters_that_cannot_work_fail_validate_with_a_location() {
    let dir = tempfile::tempdir().unwrap();
    let certs = Certs::new(dir.path());
    let (cert, key) = certs.issue("client", "x", None);
    let base = "postgres://postgres:pw@localhost:5432/postgres";
    let cases = [
        (format!("{base}?sslmode=verify_full"), "is not an sslmode"),
        (
            format!("{base}?sslmode=verify-full"),
            "no root certificate is given",
        ),
        (
            format!("{base}?sslmode=verify-ca&sslrootcert=/no/such/ca.crt"),
            "cannot be read",
        ),
        (
            format!("{base}?sslkey={}", key.display()),
            "`sslkey` is given without `sslcert`",
        ),
        (
            format!("{base}?sslcert={}", cert.display()),
            "`sslcert` is given without `sslkey`",
        ),
        (
            format!("{base}?sslmode=require&sslrootcert=system"),
            "needs `sslmode=verify-full`",
        ),
    ];
    for (dsn, expected) in cases {
        let out = Dbops::new(CONFIG)
            .env("DATABASE_ROOT_URL", &dsn)
            .run(&["validate"]);
        out.expect_code(1);
        assert!(out.stderr.contains(expected), "{dsn}: {}", out.stderr);
        assert!(out.stderr.contains("dbops.toml:2:"), "{}", out.stderr);
        assert!(!out.stderr.contains(":pw@"), "{}", out.stderr);
    }
    // A private key others may read is refused, as libpq refuses it.
    std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let out = Dbops::new(CONFIG)
        .env(
            "DATABASE_ROOT_URL",
            &format!("{base}?sslcert={}&sslkey={}", cert.display(), key.display()),
        )
        .run(&["validate"]);
    out.expect_code(1);
    assert!(
        out.stderr.contains("others may read the private key"),
        "{}",
        out.stderr
    );
}
