//! The raw RSA public-key operation `m^e mod n`, done by AWS-LC through its C interface.
//!
//! Sealing pads the session key itself (RFC 8017 EME-OAEP, [`crate::oaep`], with a seed from
//! the operating system) and hands AWS-LC only the exponentiation. aws-lc-rs offers RSA public
//! keys with OAEP or PKCS#1 v1.5 padding only, and both draw the padding's random bytes from
//! AWS-LC's own generator. That generator is seeded, at its first use in a process, from CPU-
//! jitter entropy unless aws-lc-sys was built with `AWS_LC_SYS_NO_JITTER_ENTROPY`, which only its
//! build environment can set (not a Cargo feature, so `cargo install --git` cannot carry it), and
//! that seeding costs ~20 ms: more than the rest of a `seal`. With `RSA_NO_PADDING`, AWS-LC's
//! `RSA_encrypt` (crypto/rsa_extra/rsa_crypt.c) copies the block in, refuses a value not below
//! the modulus, and runs `BN_mod_exp_mont` under the key's lazily made, lock-guarded Montgomery
//! context: no random byte, so every build seals at the same speed.
//!
//! This is the one place in the crate with `unsafe`: four calls into aws-lc-sys, the same
//! library (and version) aws-lc-rs links.

use std::ffi::c_int;
use std::ptr::NonNull;

use aws_lc_sys::{BN_bin2bn, BN_free, RSA_free, RSA_new_public_key, RSA_public_encrypt, RSA_size};
use aws_lc_sys::{BIGNUM, RSA, RSA_NO_PADDING};

/// An RSA public key held by AWS-LC.
pub(crate) struct RsaPublic {
    rsa: NonNull<RSA>,
    block_bytes: usize,
}

// SAFETY: AWS-LC's `rsa.h` documents `RSA` objects as safe to use from several threads at once
// for public-key operations: the only state such an operation writes is the Montgomery context,
// which `BN_MONT_CTX_set_locked` creates once under the key's own lock. Nothing here mutates
// the key after `new`, and `Drop` runs once, with no other reference left.
unsafe impl Send for RsaPublic {}
// SAFETY: as above: `encrypt` takes `&self` and AWS-LC synchronises what it caches.
unsafe impl Sync for RsaPublic {}

/// Frees a `BIGNUM` when it goes out of scope.
struct Bignum(NonNull<BIGNUM>);

impl Bignum {
    /// The unsigned big-endian integer in `bytes`, or `None` when AWS-LC cannot allocate it.
    fn from_be(bytes: &[u8]) -> Option<Bignum> {
        // SAFETY: `bytes` is a valid slice for its length; a null `ret` asks for a new BIGNUM,
        // owned by the returned value.
        NonNull::new(unsafe { BN_bin2bn(bytes.as_ptr(), bytes.len(), std::ptr::null_mut()) })
            .map(Bignum)
    }
}

impl Drop for Bignum {
    fn drop(&mut self) {
        // SAFETY: made by BN_bin2bn and owned only here.
        unsafe { BN_free(self.0.as_ptr()) }
    }
}

impl RsaPublic {
    /// The key with big-endian modulus `n` and public exponent `e`. `None` when AWS-LC refuses
    /// it (`RSA_new_public_key` checks it as `RSA_check_key` does: an odd modulus of at most
    /// 16384 bits, an odd exponent above 1 and below the modulus, at most 33 bits).
    pub(crate) fn new(n: &[u8], e: &[u8]) -> Option<RsaPublic> {
        let n = Bignum::from_be(n)?;
        let e = Bignum::from_be(e)?;
        // SAFETY: both BIGNUMs are valid; RSA_new_public_key copies them and does not keep the
        // pointers, so they are freed when this function returns.
        let rsa = NonNull::new(unsafe { RSA_new_public_key(n.0.as_ptr(), e.0.as_ptr()) })?;
        // SAFETY: `rsa` is a valid key.
        let block_bytes = usize::try_from(unsafe { RSA_size(rsa.as_ptr()) }).ok()?;
        Some(RsaPublic { rsa, block_bytes })
    }

    /// The modulus length in bytes: the length of every block in and out.
    pub(crate) fn block_bytes(&self) -> usize {
        self.block_bytes
    }

    /// `out = block^e mod n`, both exactly [`RsaPublic::block_bytes`] long, `block` below the
    /// modulus (an EME-OAEP block starts with a zero byte, so it always is).
    ///
    /// # Panics
    /// If a length is wrong or AWS-LC refuses the block: both are bugs of the caller.
    pub(crate) fn encrypt(&self, block: &[u8], out: &mut [u8]) {
        assert_eq!(block.len(), self.block_bytes, "rsa input block size");
        assert_eq!(out.len(), self.block_bytes, "rsa output block size");
        // SAFETY: `block` and `out` are valid for `block_bytes` bytes each, which is what
        // RSA_size said the output needs; the key is valid for the life of `self`, and
        // concurrent public operations on it are safe (see the `Sync` impl).
        let written = unsafe {
            RSA_public_encrypt(
                block.len(),
                block.as_ptr(),
                out.as_mut_ptr(),
                self.rsa.as_ptr(),
                RSA_NO_PADDING as c_int,
            )
        };
        assert_eq!(
            usize::try_from(written).ok(),
            Some(self.block_bytes),
            "AWS-LC refused the raw rsa operation (the block must be below the modulus)"
        );
    }
}

impl Drop for RsaPublic {
    fn drop(&mut self) {
        // SAFETY: made by RSA_new_public_key, owned only by this value.
        unsafe { RSA_free(self.rsa.as_ptr()) }
    }
}

#[cfg(test)]
mod tests {
    use super::RsaPublic;

    /// The textbook key n = 61 * 53 = 3233, e = 17: 65^17 mod 3233 = 2790 (RSA's own worked
    /// example), so the exponentiation, not only its plumbing, is checked.
    #[test]
    fn computes_m_to_the_e_mod_n() {
        let key = RsaPublic::new(&3233u16.to_be_bytes(), &[17]).expect("a valid tiny key");
        assert_eq!(key.block_bytes(), 2);
        let mut out = [0u8; 2];
        key.encrypt(&65u16.to_be_bytes(), &mut out);
        assert_eq!(u16::from_be_bytes(out), 2790);
    }

    #[test]
    fn refuses_what_aws_lc_refuses() {
        assert!(
            RsaPublic::new(&3234u16.to_be_bytes(), &[17]).is_none(),
            "an even modulus"
        );
        assert!(
            RsaPublic::new(&3233u16.to_be_bytes(), &[16]).is_none(),
            "an even exponent"
        );
        assert!(
            RsaPublic::new(&3233u16.to_be_bytes(), &[1]).is_none(),
            "e = 1"
        );
    }

    #[test]
    #[should_panic(expected = "the block must be below the modulus")]
    fn a_block_not_below_the_modulus_is_a_bug() {
        let key = RsaPublic::new(&3233u16.to_be_bytes(), &[17]).expect("a valid tiny key");
        key.encrypt(&4000u16.to_be_bytes(), &mut [0u8; 2]);
    }
}
