//! The result of unsealing: the Secret the controller would create from a SealedSecret.
//!
//! Upstream `Unseal` copies the template's metadata, `type` and `immutable`, then forces the
//! Secret's name and namespace to the SealedSecret's own and adds an owner reference back to it
//! (we have no UID, so we leave that out). Plaintext stays in [`Zeroizing`] buffers until
//! `SecretInput::to_value` renders it as base64.

pub mod keys;

/// A decrypted Secret: the same shape as a Secret to be sealed (plaintext in `Zeroizing`,
/// `Debug` redacted, `to_value` renders it as a `v1` Secret with base64 `data`).
pub type UnsealedSecret = crate::input::SecretInput;
