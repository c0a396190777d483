//! The per-user key that authenticates journals (`journal`): 32 random bytes in
//! `<config>/dbos-gitops/journal.key` (mode 0600, outside every repository), made the first time
//! a writer needs it. A journal carries an HMAC-SHA256 of its content under this key, so a
//! journal that arrives with a clone, a tarball or a commit (whoever wrote it, they do not hold
//! this user's key) is never replayed.
//!
//! HMAC is spelled out here over `sha2` (RFC 2104: the key padded to the block, XORed with the
//! inner and outer pads, two nested hashes) rather than pulling another crate into the build.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use rand::RngCore as _;
use sha2::{Digest, Sha256};

use super::fs;
use crate::error::Error;

const KEY_FILE: &str = "journal.key";
const KEY_LEN: usize = 32;
const BLOCK: usize = 64;

/// Where the key lives: this user's configuration directory, unless there is none or it lies
/// inside the repository `root` (then a key there would be a file of the tree, which anyone
/// could ship: there is no key, and an interrupted write must be finished by hand).
pub fn key_path(root: &Path) -> Result<Option<PathBuf>, Error> {
    let Some(dir) = fs::private_config_dir() else {
        return Ok(None);
    };
    if super::confine::is_inside(root, &dir)? {
        return Ok(None);
    }
    Ok(Some(dir.join(KEY_FILE)))
}

/// Reads the key; `None` when there is none (or no usable configuration directory).
pub fn existing_key(root: &Path) -> Result<Option<[u8; KEY_LEN]>, Error> {
    let Some(path) = key_path(root)? else {
        return Ok(None);
    };
    read_key(&path)
}

fn read_key(path: &Path) -> Result<Option<[u8; KEY_LEN]>, Error> {
    let Some(bytes) = fs::read_optional(path)? else {
        return Ok(None);
    };
    let key: [u8; KEY_LEN] = bytes.as_slice().try_into().map_err(|_| {
        Error::input(format!(
            "`{}` is not a dbos-gitops journal key ({} bytes, expected {KEY_LEN})",
            path.display(),
            bytes.len()
        ))
        .hint("remove it: the next writing command makes a new one")
    })?;
    Ok(Some(key))
}

/// The key, made (0600, in a 0700 directory) when missing; `None` without a usable
/// configuration directory (`key_path`): the journal is then written unauthenticated, and no
/// writer replays it (it says so and what to do). Two processes making the key at once agree:
/// the file appears by a hard link, which never replaces one already there.
pub fn key(root: &Path) -> Result<Option<[u8; KEY_LEN]>, Error> {
    let Some(path) = key_path(root)? else {
        return Ok(None);
    };
    if let Some(key) = read_key(&path)? {
        return Ok(Some(key));
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    // A configuration directory that cannot be made (`HOME` is a file, a read-only home) is no
    // usable one: write unauthenticated, as without a home, rather than refuse the write.
    if fs::private_dir(dir, &mut Vec::new()).is_err() {
        return Ok(None);
    }
    let mut key = [0u8; KEY_LEN];
    rand::rngs::OsRng.fill_bytes(&mut key);
    let mut temporary = tempfile::Builder::new()
        .prefix(".dbos-gitops-")
        .tempfile_in(dir)
        .map_err(|source| Error::io(dir, "create a temporary file in", source))?;
    temporary
        .write_all(&key)
        .and_then(|()| temporary.as_file().sync_all())
        .map_err(|source| Error::io(&path, "write", source))?;
    match std::fs::hard_link(temporary.path(), &path) {
        Ok(()) => Ok(Some(key)),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => read_key(&path)?
            .map(Some)
            .ok_or_else(|| Error::io(&path, "read", std::io::ErrorKind::NotFound.into())),
        Err(source) => Err(Error::io(&path, "create", source)),
    }
}

/// HMAC-SHA256 of `message` under `key`, lowercase hex.
pub fn mac(key: &[u8], message: &[u8]) -> String {
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.map(|value| value ^ byte);
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    let outer = Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize();
    outer.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Compares two MACs without stopping at the first difference.
pub fn same(left: &str, right: &str) -> bool {
    left.len() == right.len()
        && left
            .bytes()
            .zip(right.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_sha256_matches_rfc_4231() {
        // RFC 4231 test case 2 and test case 6 (a key longer than the block).
        assert_eq!(
            mac(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            mac(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            ),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
        assert!(same("ab", "ab") && !same("ab", "ac") && !same("ab", "abc"));
    }
}
