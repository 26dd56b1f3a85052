//! PBKDF2-HMAC-SHA-256 with one 32-byte output block (SCRAM's `Hi()`), at the
//! hardware floor.
//!
//! HMAC absorbs its key once: the inner and outer SHA-256 states after the
//! padded key are computed a single time, so each iteration is exactly two
//! compressions of one block (a 32-byte message and fixed padding), with no
//! buffering or finalization. With the CPU's SHA extensions, two independent
//! chains are compressed in lockstep: each SHA round instruction waits on the
//! previous one of its own chain, and the other chain fills that wait. Without
//! them, `sha2`'s portable compression runs each chain in turn. The result is
//! bit-identical to RFC 8018 (tests compare it with a reference and with
//! PostgreSQL's verifiers).

use hmac::{Hmac, Mac};
use sha2::digest::generic_array::GenericArray;
use sha2::{Digest, Sha256};

/// SHA-256's initial state (FIPS 180-4, 5.3.3).
const IV: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

/// SHA-256's round constants (FIPS 180-4, 4.2.2).
const K: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

/// The HMAC key absorbed: SHA-256 states after `key ^ ipad` and `key ^ opad`.
struct Keyed {
    inner: [u32; 8],
    outer: [u32; 8],
}

fn keyed(password: &[u8]) -> Keyed {
    let mut key = [0u8; 64];
    if password.len() > 64 {
        key[..32].copy_from_slice(&Sha256::digest(password));
    } else {
        key[..password.len()].copy_from_slice(password);
    }
    let pad = |byte: u8| -> [u8; 64] {
        let mut block = key;
        block.iter_mut().for_each(|b| *b ^= byte);
        block
    };
    let mut inner = IV;
    let mut outer = IV;
    sha2::compress256(&mut inner, &[GenericArray::from(pad(0x36))]);
    sha2::compress256(&mut outer, &[GenericArray::from(pad(0x5c))]);
    Keyed { inner, outer }
}

/// `U1 = HMAC(password, salt || INT(1))`, as big-endian words.
fn first(password: &[u8], salt: &[u8]) -> [u32; 8] {
    let mut mac = Hmac::<Sha256>::new_from_slice(password).expect("HMAC takes keys of any length");
    mac.update(salt);
    mac.update(&1u32.to_be_bytes());
    words(&mac.finalize().into_bytes())
}

fn words(bytes: &[u8]) -> [u32; 8] {
    let mut out = [0u32; 8];
    for (word, chunk) in out.iter_mut().zip(bytes.chunks_exact(4)) {
        *word = u32::from_be_bytes(chunk.try_into().expect("4 bytes"));
    }
    out
}

fn bytes(words: &[u32; 8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (chunk, word) in out.chunks_exact_mut(4).zip(words) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    out
}

/// A one-block message of 32 bytes after a 64-byte key block: the digest,
/// `0x80`, zeros, and the length of 96 bytes in bits.
fn message(digest: &[u32; 8]) -> [u32; 16] {
    let mut m = [0u32; 16];
    m[..8].copy_from_slice(digest);
    m[8] = 0x8000_0000;
    m[15] = (64 + 32) * 8;
    m
}

/// One compression with the portable code.
fn compress_portable(state: &mut [u32; 8], message: &[u32; 16]) {
    let mut block = [0u8; 64];
    for (chunk, word) in block.chunks_exact_mut(4).zip(message) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    sha2::compress256(state, &[GenericArray::from(block)]);
}

/// One HMAC: the digest of `data` (32 bytes) under `key`.
fn hmac_step(
    key: &Keyed,
    data: &[u32; 8],
    compress: impl Fn(&mut [u32; 8], &[u32; 16]),
) -> [u32; 8] {
    let mut inner = key.inner;
    compress(&mut inner, &message(data));
    let mut outer = key.outer;
    compress(&mut outer, &message(&inner));
    outer
}

/// PBKDF2-HMAC-SHA-256, one output block.
pub(crate) fn single(password: &[u8], salt: &[u8], iterations: u32) -> [u8; 32] {
    let key = keyed(password);
    let mut u = first(password, salt);
    let mut result = u;
    for _ in 1..iterations {
        u = hmac_step(&key, &u, compress_portable);
        for (r, x) in result.iter_mut().zip(&u) {
            *r ^= x;
        }
    }
    bytes(&result)
}

/// Two PBKDF2-HMAC-SHA-256 runs at once: interleaved with the SHA extensions,
/// one after the other without them.
pub(crate) fn pair(a: (&[u8], &[u8], u32), b: (&[u8], &[u8], u32)) -> ([u8; 32], [u8; 32]) {
    #[cfg(target_arch = "x86_64")]
    if shani::available() {
        // SAFETY: the CPU has the SHA, SSE2, SSSE3 and SSE4.1 instructions.
        return unsafe { shani::pair(a, b) };
    }
    (single(a.0, a.1, a.2), single(b.0, b.1, b.2))
}

#[cfg(target_arch = "x86_64")]
mod shani {
    use std::arch::x86_64::*;

    use super::{bytes, first, keyed, message, K};

    pub(crate) fn available() -> bool {
        is_x86_feature_detected!("sha")
            && is_x86_feature_detected!("sse2")
            && is_x86_feature_detected!("ssse3")
            && is_x86_feature_detected!("sse4.1")
    }

    /// A state in the packing the SHA instructions use: (ABEF, CDGH).
    #[derive(Clone, Copy)]
    struct Packed(__m128i, __m128i);

    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    unsafe fn pack(state: &[u32; 8]) -> Packed {
        let dcba = _mm_loadu_si128(state.as_ptr() as *const __m128i);
        let hgfe = _mm_loadu_si128(state.as_ptr().add(4) as *const __m128i);
        let cdab = _mm_shuffle_epi32(dcba, 0xB1);
        let efgh = _mm_shuffle_epi32(hgfe, 0x1B);
        Packed(
            _mm_alignr_epi8(cdab, efgh, 8),
            _mm_blend_epi16(efgh, cdab, 0xF0),
        )
    }

    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    unsafe fn unpack(packed: Packed) -> [u32; 8] {
        let feba = _mm_shuffle_epi32(packed.0, 0x1B);
        let dchg = _mm_shuffle_epi32(packed.1, 0xB1);
        let mut out = [0u32; 8];
        _mm_storeu_si128(
            out.as_mut_ptr() as *mut __m128i,
            _mm_blend_epi16(feba, dchg, 0xF0),
        );
        _mm_storeu_si128(
            out.as_mut_ptr().add(4) as *mut __m128i,
            _mm_alignr_epi8(dchg, feba, 8),
        );
        out
    }

    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    unsafe fn constants(group: usize) -> __m128i {
        _mm_set_epi32(
            K[4 * group + 3] as i32,
            K[4 * group + 2] as i32,
            K[4 * group + 1] as i32,
            K[4 * group] as i32,
        )
    }

    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    unsafe fn load(m: &[u32; 16], i: usize) -> __m128i {
        _mm_loadu_si128(m.as_ptr().add(4 * i) as *const __m128i)
    }

    /// W[4g..4g+4] from the previous sixteen words: `w[slot]` is the oldest
    /// four, `w[(slot + 3) % 4]` the newest.
    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    unsafe fn schedule(w: &[__m128i; 4], slot: usize) -> __m128i {
        let t1 = _mm_sha256msg1_epu32(w[slot], w[(slot + 1) % 4]);
        let t2 = _mm_alignr_epi8(w[(slot + 3) % 4], w[(slot + 2) % 4], 4);
        _mm_sha256msg2_epu32(_mm_add_epi32(t1, t2), w[(slot + 3) % 4])
    }

    /// Compresses one message block into each of two states, their rounds
    /// interleaved. Messages are big-endian words, already in lane order.
    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    unsafe fn compress2(
        sa: Packed,
        ma: &[u32; 16],
        sb: Packed,
        mb: &[u32; 16],
    ) -> (Packed, Packed) {
        let (mut abef_a, mut cdgh_a) = (sa.0, sa.1);
        let (mut abef_b, mut cdgh_b) = (sb.0, sb.1);
        let mut wa = [load(ma, 0), load(ma, 1), load(ma, 2), load(ma, 3)];
        let mut wb = [load(mb, 0), load(mb, 1), load(mb, 2), load(mb, 3)];
        for group in 0..16 {
            let slot = group % 4;
            if group >= 4 {
                let na = schedule(&wa, slot);
                let nb = schedule(&wb, slot);
                wa[slot] = na;
                wb[slot] = nb;
            }
            let k = constants(group);
            let ta = _mm_add_epi32(wa[slot], k);
            let tb = _mm_add_epi32(wb[slot], k);
            cdgh_a = _mm_sha256rnds2_epu32(cdgh_a, abef_a, ta);
            cdgh_b = _mm_sha256rnds2_epu32(cdgh_b, abef_b, tb);
            abef_a = _mm_sha256rnds2_epu32(abef_a, cdgh_a, _mm_shuffle_epi32(ta, 0x0E));
            abef_b = _mm_sha256rnds2_epu32(abef_b, cdgh_b, _mm_shuffle_epi32(tb, 0x0E));
        }
        (
            Packed(_mm_add_epi32(abef_a, sa.0), _mm_add_epi32(cdgh_a, sa.1)),
            Packed(_mm_add_epi32(abef_b, sb.0), _mm_add_epi32(cdgh_b, sb.1)),
        )
    }

    /// One HMAC step of each chain, in lockstep.
    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    unsafe fn step(
        keys_a: (Packed, Packed),
        ua: &[u32; 8],
        keys_b: (Packed, Packed),
        ub: &[u32; 8],
    ) -> ([u32; 8], [u32; 8]) {
        let (ia, ib) = compress2(keys_a.0, &message(ua), keys_b.0, &message(ub));
        let (oa, ob) = compress2(
            keys_a.1,
            &message(&unpack(ia)),
            keys_b.1,
            &message(&unpack(ib)),
        );
        (unpack(oa), unpack(ob))
    }

    /// Two PBKDF2 chains in lockstep; when one is longer, its last iterations
    /// run paired with a copy of itself.
    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    pub(crate) unsafe fn pair(
        a: (&[u8], &[u8], u32),
        b: (&[u8], &[u8], u32),
    ) -> ([u8; 32], [u8; 32]) {
        let (ka, kb) = (keyed(a.0), keyed(b.0));
        let keys_a = (pack(&ka.inner), pack(&ka.outer));
        let keys_b = (pack(&kb.inner), pack(&kb.outer));
        let (mut ua, mut ub) = (first(a.0, a.1), first(b.0, b.1));
        let (mut ra, mut rb) = (ua, ub);
        let both = a.2.min(b.2);
        for _ in 1..both {
            (ua, ub) = step(keys_a, &ua, keys_b, &ub);
            for i in 0..8 {
                ra[i] ^= ua[i];
                rb[i] ^= ub[i];
            }
        }
        for _ in both..a.2 {
            ua = step(keys_a, &ua, keys_a, &ua).0;
            for i in 0..8 {
                ra[i] ^= ua[i];
            }
        }
        for _ in both..b.2 {
            ub = step(keys_b, &ub, keys_b, &ub).0;
            for i in 0..8 {
                rb[i] ^= ub[i];
            }
        }
        (bytes(&ra), bytes(&rb))
    }
}
