//! SCRAM-SHA-256 verifiers (RFC 5802, RFC 7677) as PostgreSQL stores them in
//! `pg_authid.rolpassword`: `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`.
//!
//! dbops computes verifiers client-side so `ALTER ROLE ... PASSWORD` never sends
//! a plaintext, and checks a desired password against a stored verifier with the
//! verifier's own salt and iteration count, so an unchanged password is never
//! re-salted (pgBouncer's SCRAM pass-through needs the verifier to stay identical).
//!
//! The cost of a check is PBKDF2-HMAC-SHA-256 (`Hi()`), thousands of SHA-256
//! compressions; it is computed at the floor (`pbkdf2`): the HMAC key is
//! absorbed once, each iteration is exactly two compressions of one block, and
//! two independent chains run interleaved so the CPU's SHA instructions are
//! kept busy. Many checks run on every core (`verify_all`, `derive_all`). The
//! work per check is the same as PostgreSQL's own: nothing derived from a
//! password is cached or written anywhere (docs/security.md).

use std::sync::atomic::{AtomicU64, Ordering};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};

mod pbkdf2;

/// PostgreSQL's default (`scram_iterations` in 16+, fixed in 15).
pub(crate) const DEFAULT_ITERATIONS: u32 = 4096;
const SALT_LEN: usize = 16;

/// The most iterations dbops computes to check a stored verifier. A role may
/// set its own verifier with millions (PostgreSQL allows 2^31 - 1), which
/// would make every plan take seconds or minutes; above this, the verifier
/// is not checked and the password is set again with the default.
pub(crate) const MAX_ITERATIONS: u32 = 100_000;

type HmacSha256 = Hmac<Sha256>;

/// PBKDF2 runs since the process started: for tests and the debug event that
/// proves apply never derives a verifier twice.
static DERIVATIONS: AtomicU64 = AtomicU64::new(0);

pub(crate) fn derivations() -> u64 {
    DERIVATIONS.load(Ordering::Relaxed)
}

/// A parsed stored verifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verifier {
    pub(crate) iterations: u32,
    pub salt: Vec<u8>,
    pub(crate) stored_key: Vec<u8>,
    pub(crate) server_key: Vec<u8>,
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

    /// The verifier of `password` with this salt and iteration count.
    pub fn compute(password: &str, salt: &[u8], iterations: u32) -> Self {
        let salted = hi(&normalize(password), salt, iterations);
        Self::from_salted(&salted, salt, iterations)
    }

    fn from_salted(salted: &[u8; 32], salt: &[u8], iterations: u32) -> Self {
        let client_key = hmac(salted, b"Client Key");
        let stored_key = Sha256::digest(client_key).to_vec();
        let server_key = hmac(salted, b"Server Key").to_vec();
        Self {
            iterations,
            salt: salt.to_vec(),
            stored_key,
            server_key,
        }
    }

    /// Whether dbops checks this verifier at all (see [`MAX_ITERATIONS`]).
    pub(crate) fn checkable(&self) -> bool {
        self.iterations <= MAX_ITERATIONS
    }

    /// Whether `password` is the one this verifier was made from; `false`
    /// unchecked for a verifier above [`MAX_ITERATIONS`].
    pub(crate) fn matches(&self, password: &str) -> bool {
        if !self.checkable() {
            return false;
        }
        let candidate = Self::compute(password, &self.salt, self.iterations);
        self.same_keys(&candidate)
    }

    fn same_keys(&self, other: &Verifier) -> bool {
        constant_time_eq(&other.stored_key, &self.stored_key)
            && constant_time_eq(&other.server_key, &self.server_key)
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

fn random_salt() -> [u8; SALT_LEN] {
    let mut salt = [0u8; SALT_LEN];
    rand::rng().fill_bytes(&mut salt);
    salt
}

/// A fresh verifier with a random salt, as PostgreSQL would make it.
pub fn new_verifier(password: &str) -> String {
    Verifier::compute(password, &random_salt(), DEFAULT_ITERATIONS).to_string()
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

/// `Hi()` of RFC 5802: PBKDF2-HMAC-SHA-256 with one output block.
fn hi(password: &[u8], salt: &[u8], iterations: u32) -> [u8; 32] {
    DERIVATIONS.fetch_add(1, Ordering::Relaxed);
    pbkdf2::single(password, salt, iterations)
}

/// Two `Hi()` at once, their chains interleaved.
fn hi_pair(a: (&[u8], &[u8], u32), b: (&[u8], &[u8], u32)) -> ([u8; 32], [u8; 32]) {
    DERIVATIONS.fetch_add(2, Ordering::Relaxed);
    pbkdf2::pair(a, b)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Runs `job` on each item on every core, two items per step (so each core
/// runs two PBKDF2 chains interleaved); results in the items' order.
fn on_every_core<T: Sync, R: Send>(
    items: &[T],
    job: impl Fn(&T, Option<&T>) -> (R, Option<R>) + Sync,
) -> Vec<R> {
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(items.len().div_ceil(2))
        .max(1);
    if workers == 1 {
        // One step or one core: on this thread, without starting another.
        let mut done = Vec::with_capacity(items.len());
        for pair in items.chunks(2) {
            let (first, second) = job(&pair[0], pair.get(1));
            done.push(first);
            done.extend(second);
        }
        return done;
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut done: Vec<(usize, R)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(2, Ordering::Relaxed);
                        if i >= items.len() {
                            return mine;
                        }
                        let (first, second) = job(&items[i], items.get(i + 1));
                        mine.push((i, first));
                        if let Some(second) = second {
                            mine.push((i + 1, second));
                        }
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a verification worker panicked"))
            .collect()
    });
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
}

/// Whether each password matches its stored verifier (`None`: not a SCRAM
/// verifier), checked on every core. Blocking: call it off the async runtime.
pub fn verify_all(pairs: &[(&str, &str)]) -> Vec<Option<bool>> {
    struct Check {
        password: Vec<u8>,
        verifier: Option<Verifier>,
    }
    let checks: Vec<Check> = pairs
        .iter()
        .map(|(password, stored)| Check {
            password: normalize(password),
            verifier: Verifier::parse(stored),
        })
        .collect();
    // Too costly to check: not a match, and never computed.
    let (costly, checks): (Vec<bool>, Vec<Check>) = checks
        .into_iter()
        .map(|mut check| {
            let costly = check.verifier.as_ref().is_some_and(|v| !v.checkable());
            if costly {
                check.verifier = None;
            }
            (costly, check)
        })
        .unzip();
    let outcome = |check: &Check, salted: [u8; 32]| {
        let verifier = check.verifier.as_ref().expect("checked");
        verifier.same_keys(&Verifier::from_salted(
            &salted,
            &verifier.salt,
            verifier.iterations,
        ))
    };
    let results = on_every_core(&checks, |a, b| {
        match (
            a.verifier.as_ref(),
            b.and_then(|b| b.verifier.as_ref().map(|v| (b, v))),
        ) {
            (Some(va), Some((b, vb))) => {
                let (sa, sb) = hi_pair(
                    (&a.password, &va.salt, va.iterations),
                    (&b.password, &vb.salt, vb.iterations),
                );
                (Some(outcome(a, sa)), Some(Some(outcome(b, sb))))
            }
            (va, _) => {
                let first = va.map(|v| outcome(a, hi(&a.password, &v.salt, v.iterations)));
                let second = b.map(|b| {
                    b.verifier
                        .as_ref()
                        .map(|v| outcome(b, hi(&b.password, &v.salt, v.iterations)))
                });
                (first, second)
            }
        }
    });
    results
        .into_iter()
        .zip(costly)
        .map(|(result, costly)| if costly { Some(false) } else { result })
        .collect()
}

/// A fresh verifier for each password, on every core. Blocking.
pub(crate) fn derive_all(passwords: &[&str]) -> Vec<String> {
    let inputs: Vec<(Vec<u8>, [u8; SALT_LEN])> = passwords
        .iter()
        .map(|p| (normalize(p), random_salt()))
        .collect();
    let finish = |input: &(Vec<u8>, [u8; SALT_LEN]), salted: [u8; 32]| {
        Verifier::from_salted(&salted, &input.1, DEFAULT_ITERATIONS).to_string()
    };
    on_every_core(&inputs, |a, b| match b {
        Some(b) => {
            let (sa, sb) = hi_pair(
                (&a.0, &a.1, DEFAULT_ITERATIONS),
                (&b.0, &b.1, DEFAULT_ITERATIONS),
            );
            (finish(a, sa), Some(finish(b, sb)))
        }
        None => (finish(a, hi(&a.0, &a.1, DEFAULT_ITERATIONS)), None),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A verifier with more iterations than dbops checks is never computed:
    /// it does not match, whatever the password.
    #[test]
    fn a_costly_verifier_is_not_computed() {
        let costly = format!(
            "SCRAM-SHA-256${}:{}${}:{}",
            30_000_000,
            STANDARD.encode([1u8; 16]),
            STANDARD.encode([2u8; 32]),
            STANDARD.encode([3u8; 32])
        );
        let started = std::time::Instant::now();
        assert!(!Verifier::parse(&costly).unwrap().matches("pw"));
        assert_eq!(
            verify_all(&[("pw", &costly), ("pw", "md5abc")]),
            [Some(false), None]
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        let fine = Verifier::compute("pw", &[1u8; 16], MAX_ITERATIONS).to_string();
        assert_eq!(verify_all(&[("pw", &fine)]), [Some(true)]);
    }

    /// `Hi()` straight from RFC 5802, re-keying every iteration: the reference.
    fn reference_hi(password: &[u8], salt: &[u8], iterations: u32) -> [u8; 32] {
        let mut mac = HmacSha256::new_from_slice(password).unwrap();
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
    fn the_fast_paths_agree_with_the_reference_at_every_iteration_count() {
        let long_key = vec![b'k'; 100]; // longer than a block: hashed first
        for iterations in [1, 2, 3, 4096, 10_000] {
            for (password, salt) in [
                (b"pw".as_slice(), b"salt".as_slice()),
                (long_key.as_slice(), b"".as_slice()),
                (b"".as_slice(), &[7u8; 70][..]),
            ] {
                let expected = reference_hi(password, salt, iterations);
                assert_eq!(pbkdf2::single(password, salt, iterations), expected);
                let (a, b) = pbkdf2::pair(
                    (password, salt, iterations),
                    (b"other", b"salt2", iterations + 1),
                );
                assert_eq!(a, expected);
                assert_eq!(b, reference_hi(b"other", b"salt2", iterations + 1));
            }
        }
    }

    #[test]
    fn verify_all_and_derive_all_agree_with_one_at_a_time() {
        let passwords = ["a", "b", "c", "d", "e"];
        let verifiers = derive_all(&passwords);
        assert_eq!(verifiers.len(), 5);
        let mut pairs: Vec<(&str, &str)> = passwords
            .iter()
            .zip(&verifiers)
            .map(|(p, v)| (*p, v.as_str()))
            .collect();
        pairs.push(("a", verifiers[1].as_str()));
        pairs.push(("a", "md5not-scram"));
        let outcomes = verify_all(&pairs);
        assert_eq!(
            outcomes,
            vec![
                Some(true),
                Some(true),
                Some(true),
                Some(true),
                Some(true),
                Some(false),
                None
            ]
        );
        for (password, verifier) in passwords.iter().zip(&verifiers) {
            assert!(Verifier::parse(verifier).unwrap().matches(password));
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
