//! `unseal`: recovery and debugging with a controller private key, like
//! `kubeseal --recovery-unseal`. Prints Secrets; writes plaintext to a file only with `-o`.

use std::path::Path;

use dbos_gitops_seal::{PrivateKeys, SealedSecret};

use crate::cli::UnsealArgs;
use crate::error::Error;
use crate::repo::fs;
use crate::secret_store::seal_error;

pub fn unseal(arguments: UnsealArgs) -> Result<i32, Error> {
    let mut keys = PrivateKeys::default();
    for path in &arguments.key {
        keys.extend(read_keys(path)?);
    }
    // Each stream is bounded while it is read (`limits::MAX_MANIFEST_BYTES`), before parsing.
    let limit = crate::limits::MAX_MANIFEST_BYTES;
    let what = "SealedSecret manifests";
    let mut sources: Vec<(String, String)> = Vec::new();
    if arguments.files.is_empty() {
        let bytes = crate::limits::read_stdin_bounded(limit, what)?;
        sources.push((
            "stdin".into(),
            fs::utf8(Path::new("stdin"), bytes.to_vec())?,
        ));
    } else {
        for path in &arguments.files {
            let bytes = crate::limits::read_bounded(path, limit, what)?;
            sources.push((path.display().to_string(), fs::utf8(path, bytes.to_vec())?));
        }
    }
    let mut secrets = Vec::new();
    for (source, text) in &sources {
        for (index, document) in crate::yaml::parse_documents(Path::new(source), text)?
            .iter()
            .enumerate()
        {
            let sealed = SealedSecret::from_value(document).map_err(|error| {
                seal_error(
                    &format!("{source}, document {}: ", index + 1),
                    error.hint(),
                    error,
                )
            })?;
            let secret = sealed.unseal(&keys).map_err(|error| {
                seal_error(
                    &format!("{source}, secret `{}`: ", sealed.name),
                    error.hint(),
                    error,
                )
            })?;
            secrets.push(secret.to_value());
        }
    }
    let text = zeroize::Zeroizing::new(crate::yaml::emit_documents(&secrets));
    match &arguments.output {
        Some(path) => write_plaintext(path, text.as_bytes())?,
        None => print!("{}", text.as_str()),
    }
    Ok(0)
}

/// A PEM file of private keys (PKCS#1 or PKCS#8), or the controller's key backup
/// (`kubectl get secret -n kube-system -l sealedsecrets.bitnami.com/sealed-secrets-key -o yaml`):
/// a `Secret` with `tls.key`, or a `List` of them.
pub(crate) fn read_keys(path: &Path) -> Result<PrivateKeys, Error> {
    let shown = path.display().to_string();
    let bytes = crate::limits::read_bounded(
        path,
        crate::limits::MAX_KEY_FILE_BYTES,
        "a private-key file",
    )?;
    let pem_error = match PrivateKeys::from_pem(&bytes) {
        Ok(keys) => return Ok(keys),
        Err(error) => error,
    };
    let text = zeroize::Zeroizing::new(String::from_utf8_lossy(&bytes).into_owned());
    let documents = match crate::yaml::parse_documents(path, &text) {
        Ok(documents)
            if documents
                .iter()
                .any(|document| document.get("kind").is_some()) =>
        {
            documents
        }
        _ => {
            return Err(seal_error(
                &format!("`{shown}`: "),
                pem_error.hint(),
                pem_error,
            ))
        }
    };
    let mut keys = PrivateKeys::default();
    for document in &documents {
        let more = PrivateKeys::from_secret_value(document)
            .map_err(|error| seal_error(&format!("`{shown}`: "), error.hint(), error))?;
        keys.extend(more);
    }
    Ok(keys)
}

/// Plaintext goes only to the file the user named: written in place (created 0600, or truncated
/// and set to 0600), never through a temporary file, so a killed `unseal -o` leaves at most a
/// partial file at that path and nothing anywhere else. A symlink there is refused.
fn write_plaintext(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    let mut file = options
        .open(path)
        .map_err(|source| Error::io(path, "write", source))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(|source| Error::io(path, "set permissions of", source))?;
    }
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|source| Error::io(path, "write", source))
}
