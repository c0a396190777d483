//! Native implementation of Bitnami Sealed Secrets sealing and unsealing.
//!
//! This crate exists so that `dbos-gitops` can produce `SealedSecret` objects that the real
//! sealed-secrets controller accepts, without shelling out to `kubeseal`. Everything here was
//! written from a reading of the upstream Go sources (bitnami-labs/sealed-secrets, release line
//! v0.36): `pkg/crypto/crypto.go` (the hybrid RSA-OAEP + AES-GCM wire format),
//! `pkg/crypto/keys.go` (how the controller makes its certificate),
//! `pkg/apis/sealedsecrets/v1alpha1/sealedsecret_expansion.go` and `types.go` (scopes, labels,
//! the object shape) and `pkg/kubeseal/kubeseal.go` (the command-line rules). No upstream code
//! was copied; the module docs say which behaviour each part reproduces.
//!
//! Input and output documents are `serde_json::Value`s; parsing and printing YAML is the
//! caller's business, so this crate has no YAML dependency.

mod cert;
mod crypto;
mod devkey;
mod input;
mod oaep;
mod reseal;
mod rsa_public;
mod scope;
mod sealed;
mod stable;
mod unseal;

pub use cert::{CertError, SealingCert};
pub use crypto::{
    hybrid_decrypt, hybrid_encrypt, DecryptError, SealingKey, SealingKeyError, SESSION_KEY_BYTES,
};
pub use devkey::{generate_dev_keypair, DevKeyError, DevKeyPair, DEV_CERT_VALIDITY_DAYS};
pub use input::{InputError, PlainField, PlainValue, SecretDocument, SecretInput};
pub use reseal::{reseal, uncovered_values, UnopenedValue};
pub use scope::{
    Scope, ScopeParseError, CLUSTER_WIDE_ANNOTATION, LAST_APPLIED_ANNOTATIONS,
    NAMESPACE_WIDE_ANNOTATION,
};
pub use sealed::{
    seal_raw, seal_secret, sealed_value_lengths, SealOptions, SealedSecret, SecretTemplate,
    SEALED_SECRET_API_VERSION, SEALED_SECRET_KIND,
};
pub use stable::{
    annotate_macs, seal_stable, stored_macs, Comparison, KeyOutcome, MacKey, MacKeyError,
    Stabilized, MAC_KEY_BYTES, MAC_KEY_ID_ANNOTATION, VALUE_MACS_ANNOTATION,
};
pub use unseal::keys::{KeyError, PrivateKeys};
pub use unseal::UnsealedSecret;
