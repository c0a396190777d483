//! Where everything lives in a dbos-gitops repository: every repository-relative path the tool
//! reads or writes is built here, so the tree of DESIGN §3 is spelled once. Paths are
//! `/`-separated strings (they are also the keys of the generated `Tree` and of the ownership
//! record). The bottom of the crate: imports nothing of ours.

use std::collections::BTreeMap;
use std::fmt::Display;

use sha2::{Digest, Sha256};

/// Generated files by repository-relative path (always `/`-separated).
pub type Tree = BTreeMap<String, String>;

/// Lowercase hex SHA-256: the ownership record's content hash, certificate and CA digests.
pub fn digest(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let hash = Sha256::digest(bytes);
    let mut hex = String::with_capacity(2 * hash.len());
    for byte in hash {
        hex.push(char::from(DIGITS[usize::from(byte >> 4)]));
        hex.push(char::from(DIGITS[usize::from(byte & 15)]));
    }
    hex
}

/// The repository declaration at the root.
pub const REPO_FILE: &str = "dbos-gitops.yaml";
/// The ownership record: every generated file with the SHA-256 of what was written.
pub const RECORD_FILE: &str = ".dbos-gitops.sha256";
/// Private keys that are test fixtures by design, with their SHA-256.
pub const TEST_KEYS_FILE: &str = ".dbos-gitops.test-keys.sha256";
pub const BASE_DIR: &str = "base";
pub const ENVIRONMENTS_DIR: &str = "environments";
pub const ARGOCD_DIR: &str = "argocd";
/// The directories that hold what Argo CD reads.
pub const GITOPS_DIRS: [&str; 3] = [BASE_DIR, ENVIRONMENTS_DIR, ARGOCD_DIR];

/// File names inside `environments/<env>/`.
pub const ENV_FILE: &str = "env.yaml";
pub const VERSIONS_FILE: &str = "versions.yaml";
/// Tool-owned list of Dex static users (their hashes are sealed in the `dex-users` secret).
pub const DEX_USERS_FILE: &str = "dex-users.yaml";
/// The ingress certificate's public half, written by `dbos-gitops tls`.
pub const TLS_CERT_FILE: &str = "tls.crt";
pub const SEALING_CERT_FILE: &str = "sealing-cert.pem";
pub const KUSTOMIZATION_FILE: &str = "kustomization.yaml";
pub const DEX_CONFIG_FILE: &str = "dex-config.yaml";
pub const DEX_PATCH_FILE: &str = "patches/dex.yaml";

/// `base/<path>`.
pub fn base_file(path: &str) -> String {
    format!("{BASE_DIR}/{path}")
}

/// `environments/<env>`: an environment's overlay directory.
pub fn env_dir(env: impl Display) -> String {
    format!("{ENVIRONMENTS_DIR}/{env}")
}

/// `environments/<env>/<file>`: a file of an environment.
pub fn env_path(env: impl Display, file: &str) -> String {
    format!("{ENVIRONMENTS_DIR}/{env}/{file}")
}

pub fn env_file(env: impl Display) -> String {
    env_path(env, ENV_FILE)
}

pub fn versions_file(env: impl Display) -> String {
    env_path(env, VERSIONS_FILE)
}

pub fn dex_users_file(env: impl Display) -> String {
    env_path(env, DEX_USERS_FILE)
}

pub fn tls_cert_file(env: impl Display) -> String {
    env_path(env, TLS_CERT_FILE)
}

pub fn sealing_cert_file(env: impl Display) -> String {
    env_path(env, SEALING_CERT_FILE)
}

/// `environments/<env>/secrets`: the env's SealedSecrets, one per file.
pub fn secrets_dir(env: impl Display) -> String {
    env_path(env, "secrets")
}

/// `environments/<env>/secrets/<secret>.yaml`.
pub fn secret_file(env: impl Display, secret: &str) -> String {
    format!("{}/{}", secrets_dir(env), secret_file_name(secret))
}

/// `<secret>.yaml`: the one spelling of a secret's file name.
pub fn secret_file_name(secret: &str) -> String {
    format!("{secret}.yaml")
}

/// `environments/<env>/versions/<version>`: a version's overlay.
pub fn version_dir(env: impl Display, version: impl Display) -> String {
    format!("{}/versions/{version}", env_dir(env))
}

/// `argocd/<path>`.
pub fn argocd_file(path: &str) -> String {
    format!("{ARGOCD_DIR}/{path}")
}

/// `applications/<env>.yaml`, relative to `argocd/` (its kustomization lists it so).
pub fn application_file(env: impl Display) -> String {
    format!("applications/{env}.yaml")
}

/// The environment a repository path belongs to, if any.
pub fn env_of(path: &str) -> Option<&str> {
    path.strip_prefix(ENVIRONMENTS_DIR)?
        .strip_prefix('/')?
        .split('/')
        .next()
}

/// Whether `path` is in scope of a command limited to `only_env`: everything outside
/// `environments/`, and that environment's files.
pub fn in_env_scope(path: &str, only_env: Option<&str>) -> bool {
    match only_env {
        None => true,
        Some(env) => match path
            .strip_prefix(ENVIRONMENTS_DIR)
            .and_then(|rest| rest.strip_prefix('/'))
        {
            None => true,
            Some(rest) => rest
                .strip_prefix(env)
                .is_some_and(|rest| rest.starts_with('/')),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_spelled_as_the_tree_says() {
        assert_eq!(
            secret_file("prod", "conductor-db"),
            "environments/prod/secrets/conductor-db.yaml"
        );
        assert_eq!(
            sealing_cert_file("prod"),
            "environments/prod/sealing-cert.pem"
        );
        assert_eq!(version_dir("prod", "v2"), "environments/prod/versions/v2");
        assert_eq!(
            argocd_file(&application_file("prod")),
            "argocd/applications/prod.yaml"
        );
        assert_eq!(env_of("environments/prod/env.yaml"), Some("prod"));
        assert_eq!(env_of("argocd/root.yaml"), None);
    }

    #[test]
    fn env_scope_keeps_shared_files_and_the_one_env() {
        assert!(in_env_scope("base/x.yaml", Some("prod")));
        assert!(in_env_scope("environments/prod/env.yaml", Some("prod")));
        assert!(!in_env_scope("environments/prod-eu/env.yaml", Some("prod")));
        assert!(!in_env_scope("environments/staging/env.yaml", Some("prod")));
        assert!(in_env_scope("environments/staging/env.yaml", None));
    }
}
