//! SCRAM-SHA-256 verifiers (RFC 5802, RFC 7677) as PostgreSQL stores them in
//! `pg_authid.rolpassword`: `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`.
//!
//! dbops computes verifiers client-side so `ALTER ROLE ... PASSWORD` never sends
//! a plaintext, and checks a desired password against a stored verifier with the
//! verifier's own salt and iteration count, so an unchanged password is never
//! re-salted (pgBouncer's SCRAM pass-through needs the verifier to stay identical).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// PostgreSQL's default (`scram_iterations` in 16+, fixed in 15).
pub const DEFAULT_ITERATIONS: u32 = 4096;
const SALT_LEN: usize = 16;

type HmacSha256 = Hmac<Sha256>;

/// A parsed stored verifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verifier {
    pub iterations: u32,
    pub salt: Vec<u8>,
    pub stored_key: Vec<u8>,
    pub server_key: Vec<u8>,
}

impl Verifier {
    pub fn parse(text: &str) -> Option<Self> {
        let rest = text.strip_prefix("SCRAM-SHA-256$")?;
        let (params, keys) = rest.split_once('$')?;
        let (iterations, salt) = params.split_once(':')?;
        let (stored_key, server_key) = keys.split_once(':')?;
        Some(Self {
            iterations: iterations.parse().ok().filter(|i| *i > 0)?,
            salt: STANDARD.decode(salt).ok()?,
            stored_key: STANDARD.decode(stored_key).ok()?,
            server_key: STANDARD.decode(server_key).ok()?,
        })
    }

    pub fn compute(password: &str, salt: &[u8], iterations: u32) -> Self {
        let salted = hi(&normalize(password), salt, iterations);
        let client_key = hmac(&salted, b"Client Key");
        let stored_key = Sha256::digest(client_key).to_vec();
        let server_key = hmac(&salted, b"Server Key").to_vec();
        Self {
            iterations,
            salt: salt.to_vec(),
            stored_key,
            server_key,
        }
    }

    /// Whether `password` is the one this verifier was made from.
    pub fn matches(&self, password: &str) -> bool {
        let candidate = Self::compute(password, &self.salt, self.iterations);
        constant_time_eq(&candidate.stored_key, &self.stored_key)
            && constant_time_eq(&candidate.server_key, &self.server_key)
    }
}

impl std::fmt::Display for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SCRAM-SHA-256${}:{}${}:{}",
            self.iterations,
            STANDARD.encode(&self.salt),
            STANDARD.encode(&self.stored_key),
            STANDARD.encode(&self.server_key)
        )
    }
}

/// A fresh verifier with a random salt, as PostgreSQL would make it.
pub fn new_verifier(password: &str) -> String {
    let mut salt = [0u8; SALT_LEN];
    rand::rng().fill_bytes(&mut salt);
    Verifier::compute(password, &salt, DEFAULT_ITERATIONS).to_string()
}

/// SASLprep the password as PostgreSQL and libpq do; fall back to the raw
/// bytes when it cannot be prepared.
fn normalize(password: &str) -> Vec<u8> {
    match stringprep::saslprep(password) {
        Ok(prepared) => prepared.into_owned().into_bytes(),
        Err(_) => password.as_bytes().to_vec(),
    }
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// PBKDF2-HMAC-SHA-256 with one output block: `Hi()` of RFC 5802.
fn hi(password: &[u8], salt: &[u8], iterations: u32) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(password).expect("HMAC takes keys of any length");
    mac.update(salt);
    mac.update(&1u32.to_be_bytes());
    let mut previous: [u8; 32] = mac.finalize().into_bytes().into();
    let mut result = previous;
    for _ in 1..iterations {
        previous = hmac(password, &previous);
        for (r, p) in result.iter_mut().zip(previous.iter()) {
            *r ^= p;
        }
    }
    result
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_postgres_protocol() {
        for password in ["secret", "p@ss:w/rd%'\" x", "ünïcødé", ""] {
            let theirs = postgres_protocol::password::scram_sha_256(password.as_bytes());
            let parsed = Verifier::parse(&theirs).unwrap();
            let ours = Verifier::compute(password, &parsed.salt, parsed.iterations);
            assert_eq!(ours.to_string(), theirs);
            assert!(parsed.matches(password));
            assert!(!parsed.matches("something else"));
        }
    }

    #[test]
    fn new_verifiers_round_trip_and_are_salted() {
        let a = new_verifier("hunter2");
        let b = new_verifier("hunter2");
        assert_ne!(a, b);
        assert!(!a.contains("hunter2"));
        assert!(Verifier::parse(&a).unwrap().matches("hunter2"));
    }

    #[test]
    fn rejects_what_is_not_a_scram_verifier() {
        assert_eq!(Verifier::parse("md5abcdef"), None);
        assert_eq!(Verifier::parse("SCRAM-SHA-256$0:AAAA$AA:AA"), None);
        assert_eq!(Verifier::parse("SCRAM-SHA-256$4096:!!$AA:AA"), None);
    }
}
