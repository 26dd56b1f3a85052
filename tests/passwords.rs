//! Password verification against a real PostgreSQL 15: verifiers of any
//! iteration count, made by an independent implementation and accepted by the
//! server, verify as unchanged; apply derives each new verifier exactly once
//! and never again to check convergence; a converged apply sends no password.

use std::process::Command;

use crate::support::{Dbops, PgServer};

/// A SCRAM-SHA-256 verifier computed by Python's hashlib, not by dbops.
fn python_verifier(password: &str, salt_hex: &str, iterations: u32) -> String {
    let script = r#"
import base64, hashlib, hmac, sys
password, salt, iterations = sys.argv[1].encode(), bytes.fromhex(sys.argv[2]), int(sys.argv[3])
salted = hashlib.pbkdf2_hmac("sha256", password, salt, iterations)
client = hmac.new(salted, b"Client Key", "sha256").digest()
server = hmac.new(salted, b"Server Key", "sha256").digest()
b64 = lambda b: base64.b64encode(b).decode()
print(f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(hashlib.sha256(client).digest())}:{b64(server)}")
"#;
    let out = Command::new("python3")
        .args(["-c", script, password, salt_hex, &iterations.to_string()])
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn verifiers_of_any_iteration_count_from_the_server_verify_unchanged() {
    let server = PgServer::start();
    let mut config = String::from("[postgres]\nadmin = { env = \"DATABASE_ROOT_URL\" }\n");
    let mut dbops = Dbops::new("");
    let mut stored = Vec::new();
    for (i, iterations) in [1u32, 4096, 8192, 15_000].into_iter().enumerate() {
        let role = format!("iter_role_{i}");
        let password = format!("password number {i}");
        let verifier = python_verifier(
            &password,
            &format!("{:032x}", 0xfeed_u128 + i as u128),
            iterations,
        );
        server.sql_ok(&format!("CREATE ROLE {role} LOGIN PASSWORD '{verifier}'"));
        // The server accepts the verifier: the password logs in.
        assert!(server.can_login(&role, &password, "postgres"), "{role}");
        stored.push((
            role.clone(),
            server.sql_ok(&format!(
                "SELECT rolpassword FROM pg_authid WHERE rolname = '{role}'"
            )),
        ));
        assert_eq!(stored[i].1, verifier);
        config.push_str(&format!(
            "\n[roles.{role}]\npassword = {{ env = \"PW_{i}\" }}\n"
        ));
        dbops.set_env(&format!("PW_{i}"), &password);
    }
    dbops.write_config(&config);
    dbops.set_env("DATABASE_ROOT_URL", &server.admin_url());
    let plan = dbops.run(&["plan", "--detailed-exitcode"]);
    plan.expect_code(0);
    dbops.run(&["apply", "--auto-approve"]).expect_code(0);
    for (role, verifier) in &stored {
        assert_eq!(
            &server.sql_ok(&format!(
                "SELECT rolpassword FROM pg_authid WHERE rolname = '{role}'"
            )),
            verifier,
            "never re-salted"
        );
    }
    // A wrong password, at a non-default iteration count, is a change.
    dbops.set_env("PW_2", "not the password");
    let plan = dbops.run(&["plan", "--detailed-exitcode"]);
    plan.expect_code(2);
    assert!(
        plan.stdout.contains("~ postgres.role.iter_role_2"),
        "{}",
        plan.stdout
    );
}

fn derivations(stderr: &str) -> serde_json::Value {
    stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|e| e["event"] == "passwords.derivations")
        .map(|e| e["details"].clone())
        .unwrap_or_else(|| panic!("no passwords.derivations event in\n{stderr}"))
}

#[test]
fn apply_derives_each_new_verifier_once_and_a_converged_apply_sends_no_password() {
    const ROLES: usize = 200;
    let server = PgServer::start();
    let mut config = String::from("[postgres]\nadmin = { env = \"DATABASE_ROOT_URL\" }\n");
    for i in 0..ROLES {
        config.push_str(&format!(
            "\n[roles.many_{i}]\npassword = {{ env = \"MANY_PASSWORD\" }}\n"
        ));
    }
    let mut dbops = Dbops::new(&config)
        .env("DATABASE_ROOT_URL", &server.admin_url())
        .env("MANY_PASSWORD", "the same password @:/%' \"");
    dbops.timeout = std::time::Duration::from_secs(300);

    let apply = dbops.run(&["apply", "--auto-approve", "--log-format", "json"]);
    apply.expect_code(0);
    let counts = derivations(&apply.stderr);
    assert_eq!(
        counts["verify_plan"], 0,
        "nothing to verify before the roles exist"
    );
    assert_eq!(
        counts["new_verifiers"], ROLES,
        "one derivation per new password"
    );
    assert_eq!(
        counts["verify_convergence"], 0,
        "convergence compares what was sent"
    );
    assert_eq!(
        server.sql_ok("SELECT count(*) FROM pg_authid WHERE rolname LIKE 'many_%' AND rolpassword LIKE 'SCRAM-SHA-256$4096:%'"),
        ROLES.to_string()
    );

    let before = server.log_text().len();
    let converged = dbops.run(&["apply", "--auto-approve", "--log-format", "json"]);
    converged.expect_code(0);
    let counts = derivations(&converged.stderr);
    assert_eq!(counts["verify_plan"], ROLES, "every password verified");
    assert_eq!(counts["new_verifiers"], 0);
    std::thread::sleep(std::time::Duration::from_millis(300));
    let log = server.log_text();
    let password_statements = log[before..]
        .lines()
        .filter(|l| l.contains("app=dbops") && l.to_ascii_uppercase().contains("PASSWORD"))
        .count();
    assert_eq!(
        password_statements, 0,
        "a converged apply sends no password"
    );
}

/// A login role sets its own verifier with 30 million iterations (a
/// statement any role may run for itself): plan does not compute it (it
/// would take seconds), shows the password as a change with the reason, and
/// apply stores it again with 4096 iterations; the next plan is empty.
#[test]
fn a_verifier_with_too_many_iterations_is_not_computed_but_set_again() {
    let server = PgServer::start();
    let password = "the costly one: @:/%' \"";
    let costly = format!(
        "SCRAM-SHA-256$30000000:{}${}:{}",
        "AAECAwQFBgcICQoLDA0ODw==",
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
    );
    server.sql_ok(&format!("CREATE ROLE costly LOGIN PASSWORD '{costly}'"));
    let dbops = Dbops::new(
        "[postgres]\nadmin = { env = \"DATABASE_ROOT_URL\" }\n\n[roles.costly]\npassword = { env = \"PW\" }\n",
    )
    .env("DATABASE_ROOT_URL", &server.admin_url())
    .env("PW", password);
    let started = std::time::Instant::now();
    let plan = dbops.run(&["plan", "--detailed-exitcode"]);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "plan computed the verifier: {:?}",
        started.elapsed()
    );
    plan.expect_code(2);
    assert!(
        plan.stdout.contains("the stored SCRAM verifier uses 30000000 iterations, more than dbops checks (100000); it will be stored again with 4096"),
        "{}",
        plan.stdout
    );
    dbops.run(&["apply", "--auto-approve"]).expect_code(0);
    assert!(server
        .sql_ok("SELECT rolpassword FROM pg_authid WHERE rolname = 'costly'")
        .starts_with("SCRAM-SHA-256$4096:"));
    assert!(server.can_login("costly", password, "postgres"));
    dbops.run(&["plan", "--detailed-exitcode"]).expect_code(0);
}
