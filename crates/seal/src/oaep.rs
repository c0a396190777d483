//! EME-OAEP encoding (RFC 8017 §7.1.1) with SHA-256 as both the label hash and the MGF1 hash.
//!
//! This is what the controller's decryption expects: upstream `HybridEncrypt` in
//! `pkg/crypto/crypto.go` wraps the session key with Go's `rsa.EncryptOAEP` given `sha256.New()`
//! and the scope label, and Go uses that one hash for MGF1 too. The encoded block is
//! `0x00 || maskedSeed || maskedDB`, where `DB = SHA-256(label) || zeros || 0x01 || message`,
//! `maskedDB = DB xor MGF1(seed)` and `maskedSeed = seed xor MGF1(maskedDB)`. The seed comes from
//! the caller (the operating system's generator when sealing, a fixed one in the known-answer
//! test), so this module draws on no generator of its own.

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// Length of a SHA-256 digest, and so of the OAEP seed.
pub(crate) const SEED_BYTES: usize = 32;

/// The message is longer than `k - 2·32 - 2` bytes, the most a `k`-byte block can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MessageTooLong;

/// The `k`-byte encoded block for `message` under `label` with `seed`.
pub(crate) fn encode(
    k: usize,
    message: &[u8],
    label: &[u8],
    seed: &[u8; SEED_BYTES],
) -> Result<Zeroizing<Vec<u8>>, MessageTooLong> {
    let db_len = k.checked_sub(SEED_BYTES + 1).ok_or(MessageTooLong)?;
    if message.len() + 2 * SEED_BYTES + 2 > k {
        return Err(MessageTooLong);
    }
    let mut block = Zeroizing::new(vec![0u8; k]);
    let (seed_part, db) = block[1..].split_at_mut(SEED_BYTES);
    db[..SEED_BYTES].copy_from_slice(&Sha256::digest(label));
    db[db_len - message.len() - 1] = 0x01;
    db[db_len - message.len()..].copy_from_slice(message);
    seed_part.copy_from_slice(seed);
    mgf1_xor(seed_part, db);
    mgf1_xor(db, seed_part);
    Ok(block)
}

/// `target ^= MGF1-SHA-256(mask_seed, target.len())`.
fn mgf1_xor(mask_seed: &[u8], target: &mut [u8]) {
    for (counter, chunk) in (0u32..).zip(target.chunks_mut(SEED_BYTES)) {
        let mask = Sha256::new()
            .chain_update(mask_seed)
            .chain_update(counter.to_be_bytes())
            .finalize();
        for (byte, m) in chunk.iter_mut().zip(mask.iter()) {
            *byte ^= m;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Known answer: a 256-byte block for the message `00 01 .. 1f` under the label
    /// `dbos/conductor-db`, seed `a0 a1 .. bf`. The expected bytes were computed once with a
    /// separate Python transcription of RFC 8017 §7.1.1 over `hashlib.sha256` (the script is
    /// in the comment below), not with this code.
    ///
    /// ```text
    /// import hashlib
    /// def mgf1(s, n):
    ///     return b"".join(hashlib.sha256(s + c.to_bytes(4, "big")).digest()
    ///                     for c in range((n + 31) // 32))[:n]
    /// k, m, l, seed = 256, bytes(range(32)), b"dbos/conductor-db", bytes(range(0xa0, 0xc0))
    /// db = hashlib.sha256(l).digest() + bytes(k - len(m) - 66) + b"\x01" + m
    /// mdb = bytes(a ^ b for a, b in zip(db, mgf1(seed, k - 33)))
    /// ms = bytes(a ^ b for a, b in zip(seed, mgf1(mdb, 32)))
    /// print((b"\x00" + ms + mdb).hex())
    /// ```
    #[test]
    fn known_answer_with_a_fixed_seed() {
        let message: Vec<u8> = (0u8..32).collect();
        let seed: [u8; 32] = core::array::from_fn(|i| 0xa0 + i as u8);
        let block = encode(256, &message, b"dbos/conductor-db", &seed).expect("fits");
        let hex: String = block.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, KNOWN_BLOCK);
    }

    #[test]
    fn refuses_a_message_one_byte_too_long() {
        let seed = [0u8; 32];
        assert!(
            encode(256, &[7; 190], b"", &seed).is_ok(),
            "k - 66 bytes fit"
        );
        assert_eq!(encode(256, &[7; 191], b"", &seed), Err(MessageTooLong));
        assert_eq!(encode(40, &[], b"", &seed), Err(MessageTooLong));
    }

    const KNOWN_BLOCK: &str = concat!(
        "002f4bf054a59cf8313cca405f73a99b593307e13d716b7474d28891c0e0e4f4",
        "989d4be763b022534b72255d667fffeffdb676f80c488aaf5b302d8e97d19638",
        "09fd93821a26e9f1dd4ea6d6bf5d1bb168ca935e08b2e97d00c6f1afcd1d48f9",
        "2ec8bf2cf85cf376559513815921b98232b52d3687ed06a1af913c647dd74987",
        "69673b08fa875924d1d59ab579cbe621f49a88d0a250e0a51096d29f2138cdb6",
        "ac0e73adcc07f4d66854bbd4770ef56b09b6f0f2398fa42dc427107d430ba7c4",
        "12bef0f508114f5c13a4c1f8a723c075c63034de7be108d5da998fe078b41380",
        "d04c1d3fd3c6a37a82848a02b4c01f7c79dbdc442a1ab2f41904df068b61e72a",
    );
}
