//! Input rules the Kubernetes API enforces and we must enforce first (a key the API server
//! would reject is a sync failure found only after a push), and bounds on work a hostile or
//! mistyped input can ask for.

use crate::error::Error;

/// The highest bcrypt cost without `--allow-high-cost`: each step doubles the time (14 is about
/// a second; 31 runs for days).
pub const MAX_BCRYPT_COST: u32 = 14;

pub fn check_bcrypt_cost(cost: u32, allow_high: bool) -> Result<(), Error> {
    if cost > MAX_BCRYPT_COST && !allow_high {
        return Err(Error::input(format!(
            "bcrypt cost `{cost}` is above {MAX_BCRYPT_COST}: each step doubles the time to hash (and for Dex to check every login)"
        ))
        .hint("leave out `--cost` for 10, or pass `--allow-high-cost` if you mean it"));
    }
    Ok(())
}

/// How deeply any YAML or JSON document we parse may nest (mappings, sequences, flow brackets):
/// our own documents need fewer than 12 levels. The YAML parser's time grows with the square of
/// the depth (a 200 KB `[[[...` took 30 s), so deeper input is refused before it is parsed.
pub const MAX_YAML_DEPTH: usize = 64;

/// The largest declaration we read: env.yaml, dbos-gitops.yaml, versions.yaml, dex-users.yaml
/// (the largest real one is a few KB).
pub const MAX_DECLARATION_BYTES: usize = 1 << 20;

/// The largest manifest stream we read: Secret and SealedSecret manifests given to `seal`,
/// `secrets`, `unseal`, the sealed files of the repository and rendered kustomize output.
pub const MAX_MANIFEST_BYTES: usize = 16 << 20;

/// A document with aliases may expand to at most this many times its own size (in nodes plus
/// scalar bytes) or [`MIN_ALIAS_EXPANSION_BUDGET`], whichever is larger: refuses "billion laughs"
/// and a large anchor repeated by many aliases before they fill memory.
pub const MAX_ALIAS_EXPANSION_FACTOR: usize = 4;
pub const MIN_ALIAS_EXPANSION_BUDGET: usize = 64 << 10;

/// A key of a Secret's `data`/`stringData`: `[-._a-zA-Z0-9]+`, not `.` or `..`, at most 253
/// characters (the API server's `IsConfigMapKey`).
pub fn check_secret_key(key: &str) -> Result<(), String> {
    let valid = !key.is_empty()
        && key.len() <= 253
        && key != "."
        && key != ".."
        && key
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_'));
    if valid {
        Ok(())
    } else {
        Err(format!(
            "secret key {key:?} is not a valid Kubernetes key: use letters, digits, `-`, `_` and `.` (not `.` or `..` alone), at most 253 characters"
        ))
    }
}

/// A Secret's name: a DNS-1123 subdomain (at most 253 characters of `[a-z0-9.-]`, starting and
/// ending alphanumeric). Checked before the name becomes part of any path.
pub fn check_secret_name(name: &str) -> Result<(), String> {
    let bytes = name.as_bytes();
    let valid = !name.is_empty()
        && name.len() <= 253
        && bytes.iter().all(|byte| {
            byte.is_ascii_lowercase() || byte.is_ascii_digit() || matches!(byte, b'-' | b'.')
        })
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric();
    if valid {
        Ok(())
    } else {
        Err(format!(
            "secret name {name:?} is not a valid Kubernetes name: lowercase letters, digits, `-` and `.`, starting and ending with a letter or digit, at most 253 characters"
        ))
    }
}

/// Every name and key of parsed Secret inputs, before anything is sealed or written.
pub fn check_secret_inputs(
    source: &str,
    inputs: Vec<dbos_gitops_seal::SecretInput>,
) -> Result<Vec<dbos_gitops_seal::SecretInput>, Error> {
    for (index, input) in inputs.iter().enumerate() {
        let place = format!("{source}, document {} (`{}`)", index + 1, input.name);
        check_secret_name(&input.name)
            .map_err(|message| Error::input(format!("{place}: {message}")))?;
        for key in input.data.keys() {
            check_secret_key(key).map_err(|message| {
                Error::input(format!("{place}: {message}"))
                    .hint("Kubernetes rejects such a key when it applies the Secret: rename it")
            })?;
        }
    }
    Ok(inputs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_keys_follow_the_api_server() {
        for good in ["database-url", "tls.crt", "a_b", ".dotfile", "A9"] {
            assert!(check_secret_key(good).is_ok(), "{good}");
        }
        for bad in ["", ".", "..", "../x", "a b", "a/b", "é", &"k".repeat(254)] {
            assert!(check_secret_key(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn secret_names_are_dns_subdomains() {
        assert!(check_secret_name("conductor-db").is_ok());
        for bad in ["", "../x", "A", "-a", "a-", "a_b", &"a".repeat(254)] {
            assert!(check_secret_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bcrypt_cost_is_bounded_unless_allowed() {
        assert!(check_bcrypt_cost(14, false).is_ok());
        assert!(check_bcrypt_cost(15, false).is_err());
        assert!(check_bcrypt_cost(15, true).is_ok());
    }
}
