//! Where the value-MAC key of stable re-seal comes from (see `dbos_gitops_seal::MacKey`).
//!
//! The key must never be in the repository: whoever holds it and the repository can test
//! guesses of a sealed value against its MAC. So it is read from a file outside the repository:
//! `--mac-key-file FILE`, else `DBOS_GITOPS_SEAL_MAC_KEY_FILE`, else the per-user default beside
//! the development keys (`$XDG_CONFIG_HOME` or `~/.config`, `dbos-gitops/seal-mac.key`), made
//! with mode 0600 the first time it is needed. A file named by the flag or the variable must
//! exist (a team or a CI pipeline shares one key; a fresh key there would silently re-encrypt
//! every value). Without any key the tool still seals, re-encrypting every value, and says so.

use std::path::{Path, PathBuf};

use dbos_gitops_seal::{Comparison, MacKey};

use crate::error::Error;
use crate::repo::fs;

/// Names the MAC key file (for CI and teams that share one key).
pub const MAC_KEY_FILE_VARIABLE: &str = crate::env_vars::SEAL_MAC_KEY_FILE.name;
const DEFAULT_FILE: &str = "seal-mac.key";

/// The MAC key to compare values with, and where it came from.
pub struct LoadedMacKey {
    pub key: Option<MacKey>,
    /// Why there is none (printed as a note when a value had to be re-encrypted).
    pub missing_reason: Option<String>,
}

/// The key in a MAC key file's bytes (which are zeroized when dropped).
fn parsed(path: &Path, bytes: zeroize::Zeroizing<Vec<u8>>) -> Result<LoadedMacKey, Error> {
    warn_if_readable_by_others(path);
    let key = MacKey::from_file_text(&bytes).map_err(|error| {
        let hint = error.hint();
        Error::seal(format!("`{}`: ", path.display()), hint, error)
    })?;
    Ok(LoadedMacKey {
        key: Some(key),
        missing_reason: None,
    })
}

/// Loads (or, at the default place, creates) the MAC key. `flag` is `--mac-key-file`.
pub fn load(root: &Path, flag: Option<&Path>) -> Result<LoadedMacKey, Error> {
    let named = flag
        .map(Path::to_path_buf)
        .or_else(|| crate::env_vars::get_os(crate::env_vars::SEAL_MAC_KEY_FILE).map(PathBuf::from))
        .filter(|path| !path.as_os_str().is_empty());
    if let Some(path) = named {
        refuse_inside_repository(root, &path)?;
        let Some(bytes) = read(&path)? else {
            return Err(Error::input(format!(
                "no value-MAC key at `{}` (named by `--mac-key-file` or `{MAC_KEY_FILE_VARIABLE}`)",
                path.display()
            ))
            .hint(format!(
                "copy the team's key there, or make a new one with `head -c 32 /dev/urandom | base64 > {}` (every value is then re-encrypted once)",
                path.display()
            )));
        };
        return parsed(&path, bytes);
    }
    let Some(path) = default_path() else {
        return Ok(LoadedMacKey {
            key: None,
            missing_reason: Some(format!(
                "no value-MAC key (neither `HOME` nor `XDG_CONFIG_HOME` is set, and `{MAC_KEY_FILE_VARIABLE}` names no file)"
            )),
        });
    };
    if refuse_inside_repository(root, &path).is_err() {
        return Ok(LoadedMacKey {
            key: None,
            missing_reason: Some(format!(
                "the default value-MAC key `{}` would be inside the repository",
                path.display()
            )),
        });
    }
    if let Some(bytes) = read(&path)? {
        return parsed(&path, bytes);
    }
    let key = MacKey::generate(&mut rand::rngs::OsRng);
    if let Err(error) = fs::write_private_atomic(&path, key.to_file_text().as_bytes()) {
        // Sealing still works without it (every value re-encrypted), so this is no reason to fail.
        return Ok(LoadedMacKey {
            key: None,
            missing_reason: Some(format!("could not make the value-MAC key: {error}")),
        });
    }
    crate::term::note(&format!(
        "note: made the value-MAC key `{}` (mode 0600) that keeps unchanged values' ciphertexts stable; share it with your team or CI through `{MAC_KEY_FILE_VARIABLE}`",
        path.display()
    ));
    Ok(LoadedMacKey {
        key: Some(key),
        missing_reason: None,
    })
}

/// The key file, bounded while it is read (`limits::MAX_MAC_KEY_FILE_BYTES`).
fn read(path: &Path) -> Result<Option<zeroize::Zeroizing<Vec<u8>>>, Error> {
    let limit = crate::limits::MAX_MAC_KEY_FILE_BYTES;
    crate::limits::read_bounded_optional(path, limit, "a value-MAC key file")
}

/// Warns, and still uses the key, when the key file's mode lets its group or others read it.
/// A warning and not a refusal: the key alone reveals nothing (it lets someone who also has
/// the repository test guesses of sealed values against their MACs), CI runners often write a
/// secret file with the umask's 0644 inside a workspace only the job can reach, and refusing
/// would stop sealing there altogether. The file we make ourselves is 0600.
fn warn_if_readable_by_others(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let Ok(metadata) = std::fs::metadata(path) else {
            return;
        };
        let mode = metadata.permissions().mode() & 0o777;
        if mode & 0o044 != 0 {
            let who = if mode & 0o004 != 0 {
                "every user"
            } else {
                "its group"
            };
            crate::term::warn(&format!(
                "warning: the value-MAC key `{}` is readable by {who} (mode {mode:04o}): with it and the repository, anyone can test guesses of sealed values; run `chmod 600 {}`",
                path.display(),
                path.display()
            ));
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

fn default_path() -> Option<PathBuf> {
    Some(fs::private_config_dir()?.join(DEFAULT_FILE))
}

/// Real paths compared (`repo::confine`): `HOME` through a symbolic link into the repository,
/// or a path with `..`, is inside it too, also when its directories do not exist yet.
fn refuse_inside_repository(root: &Path, path: &Path) -> Result<(), Error> {
    if crate::repo::confine::is_inside(root, path)? {
        return Err(Error::input(format!(
            "the value-MAC key `{}` is inside the repository",
            path.display()
        ))
        .hint("keep it outside (anyone with the repository and the key can test guesses of sealed values); move it and name the new place"));
    }
    Ok(())
}

/// The note printed when values of `path` were re-encrypted without a comparison.
pub fn resealed_note(path: &str, comparison: &Comparison, loaded: &LoadedMacKey) -> String {
    let why = match comparison {
        Comparison::NoMacKey => loaded
            .missing_reason
            .clone()
            .unwrap_or_else(|| "no value-MAC key".into()),
        Comparison::NoStoredMacs => "it holds no value MACs yet".into(),
        Comparison::OtherMacKey { stored, ours } => {
            format!("its MACs were made with another value-MAC key (id `{stored}`, ours `{ours}`)")
        }
        Comparison::Compared => "its keys had no MAC".into(),
    };
    format!(
        "note: {path}: re-encrypted without comparing, {why}; the next seal with this key keeps unchanged values"
    )
}
