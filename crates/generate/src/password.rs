//! bcrypt password hashes for Dex static passwords, made and checked in-process.
//!
//! Dex keeps static passwords as bcrypt hashes. Users used to make them with
//! `htpasswd -bnBC 10 "" password | tr -d ':'`, which needs apache2-utils, puts the
//! password on the command line (visible in `ps` and shell history) and, like every bcrypt
//! implementation, silently ignores everything after the 72nd byte of the password. This
//! module produces the same `$2y$` hashes without those pitfalls and refuses input that
//! would be truncated.
//!
//! # Why `$2y$` is safe for Dex
//!
//! `htpasswd -B` writes `$2y$`; Go's `golang.org/x/crypto/bcrypt` (which Dex uses to check
//! static passwords) writes `$2a$`. That difference does not matter when checking. In
//! `golang/crypto`'s `bcrypt/bcrypt.go` (read at commit
//! `82adefa711cb8d9a1f12c7ea91b491007d21819f`), `CompareHashAndPassword` parses the stored
//! hash with `newFromHash`, whose `decodeVersion` only demands that the hash starts with
//! `$` and that the major version character is not above `'2'`; the character after it (the
//! minor version, `a`, `b` or `y`) is merely remembered and written back unchanged when
//! the candidate hash is rebuilt for the constant-time comparison. There is one algorithm
//! for all three prefixes, so `$2a$`, `$2b$` and `$2y$` hashes all verify. (The prefixes only
//! differ in which historical implementation bugs they disclaim, none of which affect
//! passwords of at most 72 bytes hashed by a correct implementation.) The same file's
//! `GenerateFromPassword` refuses passwords longer than 72 bytes (`ErrPasswordTooLong`), and
//! its `checkCost` accepts costs 4 to 31; we require at least [`MIN_COST`].

/// The cost `htpasswd -B` uses by default and that the old instructions passed with `-C 10`.
pub const DEFAULT_COST: u32 = 10;
/// The lowest cost we produce. Dex's API refuses hashes below `bcrypt.DefaultCost` (10).
pub const MIN_COST: u32 = 10;
/// The highest cost bcrypt can encode.
pub const MAX_COST: u32 = 31;
/// bcrypt only reads this many bytes of a password.
pub const MAX_PASSWORD_BYTES: usize = 72;

/// Errors from hashing or verifying. Messages never contain the password or the hash.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum PasswordError {
    #[error("the password is empty")]
    Empty,
    #[error(
        "the password is `{len}` bytes long; bcrypt only uses the first `72` bytes and would \
         silently ignore the rest"
    )]
    TooLong { len: usize },
    #[error("bcrypt cost `{cost}` is out of range; expected `{MIN_COST}` to `{MAX_COST}`")]
    CostOutOfRange { cost: u32 },
    #[error("not a bcrypt hash: {reason}")]
    MalformedHash { reason: String },
    #[error("bcrypt failed: {message}")]
    Bcrypt { message: String },
}

impl PasswordError {
    /// A suggestion for the user on how to fix the problem, when there is one.
    pub fn hint(&self) -> Option<String> {
        match self {
            PasswordError::Empty => Some("choose a non-empty password".into()),
            PasswordError::TooLong { .. } => Some(format!(
                "use a password of at most `{MAX_PASSWORD_BYTES}` bytes (note that non-ASCII \
                 characters take several bytes); 20 random characters are plenty"
            )),
            PasswordError::CostOutOfRange { .. } => Some(format!(
                "use cost `{DEFAULT_COST}` (what `htpasswd -B` uses) or a little more, e.g. `12`; \
                 every step doubles the time Dex spends per login"
            )),
            PasswordError::MalformedHash { .. } => Some(
                "a bcrypt hash is 60 characters and starts with `$2a$`, `$2b$` or `$2y$`, \
                 e.g. `$2y$10$...`"
                    .into(),
            ),
            PasswordError::Bcrypt { .. } => None,
        }
    }
}

fn check_password(password: &[u8]) -> Result<(), PasswordError> {
    if password.is_empty() {
        return Err(PasswordError::Empty);
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(PasswordError::TooLong {
            len: password.len(),
        });
    }
    Ok(())
}

/// Hashes `password` with bcrypt at `cost`, with a fresh random salt, in the `$2y$` format
/// of `htpasswd -B` (for example `$2y$10$` followed by 53 characters).
///
/// Refuses an empty password, one longer than [`MAX_PASSWORD_BYTES`] (bcrypt would
/// silently ignore the excess) and a cost outside [`MIN_COST`]`..=`[`MAX_COST`].
pub fn hash(password: &[u8], cost: u32) -> Result<String, PasswordError> {
    check_password(password)?;
    if !(MIN_COST..=MAX_COST).contains(&cost) {
        return Err(PasswordError::CostOutOfRange { cost });
    }
    // `check_password` already refused anything bcrypt would cut. The crate's
    // `non_truncating_*` functions are not used because they also refuse passwords of
    // exactly 72 bytes (they count the NUL terminator, which bcrypt drops at that length
    // without losing any password byte; Go and htpasswd accept such passwords).
    let parts = bcrypt::hash_with_result(password, cost).map_err(|e| PasswordError::Bcrypt {
        message: e.to_string(),
    })?;
    Ok(parts.format_for_version(bcrypt::Version::TwoY))
}

/// Whether `password` matches the bcrypt `hash` (`$2a$`, `$2b$` or `$2y$`, any cost bcrypt
/// allows). Refuses the same passwords as [`hash`]: a password longer than 72 bytes could
/// only "match" by truncation.
pub fn verify(password: &[u8], hash: &str) -> Result<bool, PasswordError> {
    check_password(password)?;
    hash_info(hash)?;
    bcrypt::verify(password, hash).map_err(|e| match e {
        bcrypt::BcryptError::CostNotAllowed(_)
        | bcrypt::BcryptError::InvalidCost(_)
        | bcrypt::BcryptError::InvalidPrefix(_)
        | bcrypt::BcryptError::InvalidHash(_)
        | bcrypt::BcryptError::InvalidSaltLen(_)
        | bcrypt::BcryptError::InvalidBase64(_) => PasswordError::MalformedHash {
            reason: "its cost, salt or digest is not valid".into(),
        },
        other => PasswordError::Bcrypt {
            message: other.to_string(),
        },
    })
}

/// Checks the outline of a modular-crypt bcrypt hash: `$2?$NN$` + 53 characters.
fn check_hash_shape(hash: &str) -> Result<(), PasswordError> {
    let malformed = |reason: String| PasswordError::MalformedHash { reason };
    let prefix = hash.get(..4).unwrap_or_default();
    if !matches!(prefix, "$2a$" | "$2b$" | "$2y$") {
        return Err(malformed(
            "it does not start with `$2a$`, `$2b$` or `$2y$`".into(),
        ));
    }
    if hash.len() != 60 {
        return Err(malformed(format!(
            "it is `{}` characters long instead of `60`",
            hash.len()
        )));
    }
    Ok(())
}

/// The visible parameters of a bcrypt hash, for display and policy checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashInfo {
    /// `2a`, `2b` or `2y`.
    pub version: String,
    pub cost: u32,
}

/// Reads the version and cost of a bcrypt hash without checking any password.
pub fn hash_info(hash: &str) -> Result<HashInfo, PasswordError> {
    check_hash_shape(hash)?;
    let cost = hash
        .get(4..6)
        .filter(|c| c.bytes().all(|b| b.is_ascii_digit()) && hash.as_bytes()[6] == b'$')
        .and_then(|c| c.parse::<u32>().ok())
        .filter(|c| (4..=MAX_COST).contains(c))
        .ok_or_else(|| PasswordError::MalformedHash {
            reason: "its cost is not two digits from `04` to `31`".into(),
        })?;
    Ok(HashInfo {
        version: hash[1..3].to_string(),
        cost,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_has_htpasswd_shape() {
        let h = hash(b"correct horse", DEFAULT_COST).unwrap();
        assert!(h.starts_with("$2y$10$"), "{h}");
        assert_eq!(h.len(), 60);
        assert!(verify(b"correct horse", &h).unwrap());
        assert!(!verify(b"correct horsE", &h).unwrap());
        let info = hash_info(&h).unwrap();
        assert_eq!(info.version, "2y");
        assert_eq!(info.cost, 10);
    }

    #[test]
    fn salts_differ() {
        assert_ne!(hash(b"pw", 10).unwrap(), hash(b"pw", 10).unwrap());
    }

    #[test]
    fn refuses_bad_input() {
        assert_eq!(hash(b"", 10), Err(PasswordError::Empty));
        assert_eq!(
            hash(b"pw", 9),
            Err(PasswordError::CostOutOfRange { cost: 9 })
        );
        assert_eq!(
            hash(b"pw", 32),
            Err(PasswordError::CostOutOfRange { cost: 32 })
        );
        let long = [b'x'; 73];
        assert_eq!(hash(&long, 10), Err(PasswordError::TooLong { len: 73 }));
        assert!(hash(&long[..72], 10).is_ok());
        let err = PasswordError::TooLong { len: 73 };
        assert!(err.to_string().contains("`73`"));
        assert!(err.to_string().contains("silently"));
        assert!(err.hint().is_some());
    }

    #[test]
    fn verify_accepts_all_modern_prefixes() {
        let h = hash(b"s3cret", 10).unwrap();
        for prefix in ["$2a$", "$2b$", "$2y$"] {
            let other = format!("{prefix}{}", &h[4..]);
            assert!(verify(b"s3cret", &other).unwrap(), "{prefix}");
            assert!(!verify(b"s3cre", &other).unwrap(), "{prefix}");
        }
    }

    #[test]
    fn verify_refuses_malformed_hashes() {
        let h = hash(b"s3cret", 10).unwrap();
        for bad in [
            String::new(),
            "s3cret".to_string(),
            format!("$2x${}", &h[4..]),
            format!("$1${}", &h[3..]),
            h[..59].to_string(),
            format!("{}xx$", &h[..4]) + &h[7..],
        ] {
            let err = verify(b"s3cret", &bad).unwrap_err();
            assert!(matches!(err, PasswordError::MalformedHash { .. }), "{bad}");
            assert!(!err.to_string().contains("s3cret"));
        }
    }

    #[test]
    fn verify_refuses_long_passwords() {
        let h = hash(&[b'x'; 72], 10).unwrap();
        assert_eq!(
            verify(&[b'x'; 80], &h),
            Err(PasswordError::TooLong { len: 80 })
        );
    }
}
