//! What the per-environment checks share: the environment's declarations, its resolved model,
//! its sealing certificate and its SealedSecret files, read once by the runner (`mod.rs`).

use dbos_gitops_seal::SealingCert;

use crate::model::{EnvInput, Environment};

/// Certificates close to expiry are a warning this long before.
pub const EXPIRY_WARNING_SECONDS: i64 = 30 * 86_400;

/// One SealedSecret file of an environment, read and parsed.
pub(crate) struct SealedFile {
    /// Repository-relative path.
    pub path: String,
    /// The file name without `.yaml`/`.yml`.
    pub stem: String,
    /// `None` when the file does not hold exactly one valid SealedSecret (already reported).
    pub sealed: Option<dbos_gitops_seal::SealedSecret>,
}

/// What the per-environment checks share.
pub(crate) struct EnvCheck<'a> {
    pub input: &'a EnvInput,
    /// `None` when the declarations do not resolve (already reported).
    pub env: Option<Environment>,
    /// `environments/<env>`.
    pub dir: String,
    /// The env's sealing certificate, also when expired (its key size still checks values).
    pub cert: Option<SealingCert>,
    pub sealed: Vec<SealedFile>,
}

impl EnvCheck<'_> {
    pub fn name(&self) -> &str {
        self.input.name.as_str()
    }
}
