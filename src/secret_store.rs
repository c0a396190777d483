//! An environment's sealed secrets on disk: `environments/<env>/secrets/<name>.yaml`, one
//! SealedSecret per file, sealed with `environments/<env>/sealing-cert.pem` for the env's
//! namespace. `seal --env`, `secrets set`, `tls` and `dex` all store through here, so every
//! sealed file carries the same labels, sync wave and certificate fingerprint, and adding one
//! always rewires the env's kustomization in the same atomic write. Above `workspace` (it
//! recompiles the env through it), below `commands` and `check`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use dbos_gitops_seal::{SealOptions, SealedSecret, SealingCert, SecretInput};

use crate::declare::EnvName;
use crate::error::Error;
use crate::layout;
use crate::repo::fs;
use crate::workspace::Workspace;

pub use crate::layout::SEALING_CERT_FILE;
/// Which controller certificate sealed the file: lowercase hex SHA-256 of its DER.
pub const FINGERPRINT_ANNOTATION: &str = "dbos-gitops.io/sealing-cert-sha256";
pub const SYNC_WAVE_ANNOTATION: &str = "argocd.argoproj.io/sync-wave";

pub fn cert_path(env: &EnvName) -> String {
    layout::sealing_cert_file(env)
}

pub fn secret_path(env: &EnvName, secret: &str) -> String {
    layout::secret_file(env, secret)
}

/// Wraps a seal-crate error (which carries its own hint) with what we were doing.
pub fn seal_error<E>(context: &str, hint: Option<String>, error: E) -> Error
where
    E: std::error::Error + Send + Sync + 'static,
{
    Error::seal(context, hint, error)
}

pub fn load_cert_file(path: &Path, shown: &str) -> Result<SealingCert, Error> {
    load_cert_file_with_pem(path, shown).map(|(cert, _)| cert)
}

/// [`load_cert_file`] and the file's bytes, read once and bounded by
/// `limits::MAX_CERT_BYTES` (for commands that copy the certificate into the repository).
pub fn load_cert_file_with_pem(path: &Path, shown: &str) -> Result<(SealingCert, Vec<u8>), Error> {
    if !path.exists() {
        return Err(Error::input(format!("no certificate at `{shown}`")).hint(
            "fetch the controller's certificate with `kubeseal --fetch-cert --controller-namespace kube-system > pub-cert.pem`",
        ));
    }
    let bytes = crate::limits::read_bounded(path, crate::limits::MAX_CERT_BYTES, "a certificate")?;
    let cert = SealingCert::from_pem_at(&bytes, crate::clock::now_unix()?)
        .map_err(|error| seal_error(&format!("`{shown}`: "), error.hint(), error))?;
    Ok((cert, bytes.to_vec()))
}

/// The env's sealing certificate, as the workspace sees it (a certificate `init env` or
/// `reseal` put is the one in force).
pub fn cert(ws: &Workspace, env: &EnvName) -> Result<SealingCert, Error> {
    let relative = cert_path(env);
    let limit = crate::limits::MAX_CERT_BYTES;
    let Some(bytes) = ws.read_bounded(&relative, limit, "a certificate")? else {
        return Err(no_cert(env, &relative));
    };
    SealingCert::from_pem_at(&bytes, crate::clock::now_unix()?)
        .map_err(|error| seal_error(&format!("`{relative}`: "), error.hint(), error))
}

fn no_cert(env: &EnvName, relative: &str) -> Error {
    Error::input(format!(
        "environment `{env}` has no sealing certificate (`{relative}`)"
    ))
    .hint(format!(
        "copy the controller's certificate there: `kubeseal --fetch-cert > {relative}`"
    ))
}

/// The SealedSecret stored for `secret`, as the workspace sees it.
pub fn sealed(ws: &Workspace, env: &EnvName, secret: &str) -> Result<Option<SealedSecret>, Error> {
    let relative = secret_path(env, secret);
    let limit = crate::limits::MAX_MANIFEST_BYTES;
    match ws.read_bounded(&relative, limit, "a SealedSecret file")? {
        Some(bytes) => parse_sealed(&relative, &bytes).map(Some),
        None => Ok(None),
    }
}

/// The one SealedSecret a stored file holds.
fn parse_sealed(relative: &str, bytes: &[u8]) -> Result<SealedSecret, Error> {
    let text = String::from_utf8_lossy(bytes);
    let documents = crate::yaml::parse_documents(Path::new(relative), &text)?;
    let [document] = documents.as_slice() else {
        return Err(Error::input(format!(
            "`{relative}` should hold exactly one SealedSecret, it holds {}",
            documents.len()
        )));
    };
    SealedSecret::from_value(document)
        .map_err(|error| seal_error(&format!("`{relative}`: "), error.hint(), error))
}

/// Secret manifests from YAML or JSON, for sealing; a `v1 List` is unpacked. Every `data` and
/// `stringData` value goes from the parser straight into a zeroizing buffer
/// (`yaml::parse_secret_documents`), and names and keys are checked before anything is sealed.
pub fn parse_secret_inputs(source: &str, text: &str) -> Result<Vec<SecretInput>, Error> {
    let documents = crate::yaml::parse_secret_documents(Path::new(source), text)?;
    if documents.is_empty() {
        return Err(Error::input(format!("no Secret in {source}")).hint(
            "pipe one in: `kubectl create secret generic NAME --from-literal=KEY=VALUE --dry-run=client -o yaml | dbos-gitops seal ...`",
        ));
    }
    let inputs = documents
        .iter()
        .enumerate()
        .map(|(index, document)| {
            SecretInput::from_document(document).map_err(|error| {
                seal_error(
                    &format!("{source}, document {}: ", index + 1),
                    error.hint(),
                    error,
                )
            })
        })
        .collect::<Result<Vec<SecretInput>, Error>>()?;
    crate::limits::check_secret_inputs(source, inputs)
}

/// Plaintext from a file or stdin into one zeroizing buffer. `read_to_end` would grow a `Vec`
/// by reallocating, freeing each smaller copy without clearing it; here every buffer that ever
/// held input is zeroized when dropped. Refuses more than `limits::MAX_MANIFEST_BYTES`.
pub fn read_plaintext(file: Option<&Path>) -> Result<zeroize::Zeroizing<Vec<u8>>, Error> {
    let (limit, what) = (crate::limits::MAX_MANIFEST_BYTES, "input");
    match file {
        Some(path) => crate::limits::read_bounded(path, limit, what),
        None => crate::limits::read_stdin_bounded(limit, what),
    }
}

/// What `store` did to one secret, for the command's report.
pub struct Stored {
    pub path: String,
    pub added: Vec<String>,
    /// Re-encrypted without knowing whether the value changed (no comparable MAC).
    pub replaced: Vec<String>,
    pub kept: Vec<String>,
    /// Stable re-seal (`crate::seal_mac`): values whose MAC changed, values whose ciphertext
    /// was kept, the number of keys in the file, and why values were re-encrypted blind.
    pub changed: Vec<String>,
    pub unchanged: Vec<String>,
    pub total_keys: usize,
    pub note: Option<String>,
}

/// Seals `inputs` for the env and puts them into the workspace, merging into the SealedSecrets
/// it holds (other keys keep their ciphertexts byte-for-byte). The next `compile` lists the new
/// files in the env's kustomization and rolls the pods that read a changed value, from the
/// files themselves. Nothing is put when anything fails.
pub fn store(
    ws: &mut Workspace,
    env_name: &EnvName,
    inputs: &[SecretInput],
    scope: Option<dbos_gitops_seal::Scope>,
    allow_empty_data: bool,
    mac: &crate::seal_mac::LoadedMacKey,
) -> Result<Vec<Stored>, Error> {
    let namespace = ws
        .env(env_name.as_str())?
        .spec
        .namespace
        .as_str()
        .to_string();
    let cert = cert(ws, env_name)?;
    let target = Target {
        cert: &cert,
        env_name,
        namespace: &namespace,
        scope,
        allow_empty_data,
        mac,
    };
    let sealed_by_name = target.seal_all(inputs, |name| sealed(ws, env_name, name))?;
    let mut reports = Vec::new();
    for (sealed, stored) in sealed_by_name.into_values() {
        let text = crate::yaml::emit(&sealed.to_value());
        ws.put(stored.path.clone(), text.into_bytes());
        reports.push(stored);
    }
    Ok(reports)
}

/// Where sealed values go: one environment's certificate, namespace and options.
struct Target<'a> {
    cert: &'a SealingCert,
    env_name: &'a EnvName,
    namespace: &'a str,
    scope: Option<dbos_gitops_seal::Scope>,
    allow_empty_data: bool,
    mac: &'a crate::seal_mac::LoadedMacKey,
}

impl Target<'_> {
    /// Seals every input, merging into what `existing` finds stored (or an earlier input of
    /// the same secret), checking names, namespaces and sizes first.
    fn seal_all(
        &self,
        inputs: &[SecretInput],
        existing: impl Fn(&str) -> Result<Option<SealedSecret>, Error>,
    ) -> Result<BTreeMap<String, (SealedSecret, Stored)>, Error> {
        let mut rng = rand::rngs::OsRng;
        let mut sealed_by_name: BTreeMap<String, (SealedSecret, Stored)> = BTreeMap::new();
        for input in inputs {
            check_secret_name(&input.name)?;
            self.check_namespace(input)?;
            let options = SealOptions {
                scope: self.scope,
                namespace: Some(self.namespace.to_string()),
                allow_empty_data: self.allow_empty_data,
            };
            let stored = match sealed_by_name.remove(&input.name) {
                Some((stored, _)) => Some(stored),
                None => existing(&input.name)?,
            };
            let path = secret_path(self.env_name, &input.name);
            let sealed = seal_one(&mut rng, self.cert, input, &options, stored, self.mac, path)?;
            crate::limits::check_sealed_size(&sealed.1.path, &sealed.0)?;
            sealed_by_name.insert(input.name.clone(), sealed);
        }
        Ok(sealed_by_name)
    }

    fn check_namespace(&self, input: &SecretInput) -> Result<(), Error> {
        match &input.namespace {
            Some(input_namespace) if input_namespace != self.namespace => Err(Error::input(format!(
                "secret `{}` is for namespace `{input_namespace}`, but environment `{}` deploys to `{}`",
                input.name, self.env_name, self.namespace
            ))
            .hint(format!(
                "create it with `-n {}` (or without a namespace) and pipe it again",
                self.namespace
            ))),
            _ => Ok(()),
        }
    }
}

/// Seals one input into the SealedSecret stored at `path` (if any): stable re-seal encrypts
/// only the values whose MAC changed, the others keep their ciphertexts byte for byte.
fn seal_one(
    rng: &mut rand::rngs::OsRng,
    cert: &SealingCert,
    input: &SecretInput,
    options: &SealOptions,
    existing: Option<SealedSecret>,
    mac: &crate::seal_mac::LoadedMacKey,
    path: String,
) -> Result<(SealedSecret, Stored), Error> {
    let (mut fresh, stabilized) = dbos_gitops_seal::seal_stable(
        rng,
        cert,
        input,
        options,
        existing.as_ref(),
        mac.key.as_ref(),
    )
    .map_err(|error| seal_error(&format!("secret `{}`: ", input.name), error.hint(), error))?;
    decorate(&mut fresh, cert);
    let new_keys: std::collections::BTreeSet<String> =
        fresh.encrypted_data.keys().cloned().collect();
    let old_keys: std::collections::BTreeSet<String> = existing
        .as_ref()
        .map(|existing| existing.encrypted_data.keys().cloned().collect())
        .unwrap_or_default();
    let mut merged = match existing {
        Some(mut existing) => {
            existing.merge(fresh).map_err(|error| {
                seal_error(
                    &format!("cannot merge into `{path}`: "),
                    error.hint(),
                    error,
                )
            })?;
            decorate(&mut existing, cert);
            existing
        }
        None => fresh,
    };
    stabilized.annotate(&mut merged);
    let replaced = stabilized.keys(dbos_gitops_seal::KeyOutcome::Resealed);
    let note = (!replaced.is_empty())
        .then(|| crate::seal_mac::resealed_note(&path, &stabilized.comparison, mac));
    let stored = Stored {
        added: new_keys
            .iter()
            .filter(|key| !old_keys.contains(*key))
            .cloned()
            .collect(),
        kept: old_keys
            .iter()
            .filter(|key| !new_keys.contains(*key))
            .cloned()
            .collect(),
        replaced,
        changed: stabilized.keys(dbos_gitops_seal::KeyOutcome::Changed),
        unchanged: stabilized.keys(dbos_gitops_seal::KeyOutcome::Unchanged),
        total_keys: merged.encrypted_data.len(),
        note,
        path,
    };
    Ok((merged, stored))
}

/// Per key, SHA-256 of the sealed value, as the loader computes it from the file.
pub fn ciphertext_digests(sealed: &SealedSecret) -> BTreeMap<String, String> {
    sealed
        .encrypted_data
        .iter()
        .map(|(key, value)| {
            (
                key.clone(),
                crate::repo::ownership::digest(value.as_bytes()),
            )
        })
        .collect()
}

/// Labels, the earliest sync wave, and the fingerprint of the certificate that sealed it.
fn decorate(sealed: &mut SealedSecret, cert: &SealingCert) {
    sealed
        .labels
        .insert("app.kubernetes.io/name".into(), sealed.name.clone());
    sealed.labels.insert(
        "app.kubernetes.io/part-of".into(),
        crate::render::meta::PART_OF.into(),
    );
    sealed.labels.insert(
        "app.kubernetes.io/managed-by".into(),
        crate::render::meta::MANAGED_BY.into(),
    );
    sealed
        .annotations
        .insert(SYNC_WAVE_ANNOTATION.into(), "-1".into());
    sealed
        .annotations
        .insert(FINGERPRINT_ANNOTATION.into(), cert.fingerprint());
}

pub use crate::declare::names::check_secret_name;

/// Where the development private key of an environment is kept: outside the repository, in
/// the user's config directory. Refused when that directory is inside the repository however
/// it is reached (`HOME` or `XDG_CONFIG_HOME` pointing into it directly, through a symbolic
/// link or with `..`): both are resolved to real paths before they are compared.
pub fn dev_key_path(root: &Path, env: &EnvName) -> Result<PathBuf, Error> {
    let base = fs::private_config_dir().ok_or_else(|| {
        Error::input(
            "no place outside the repository for the development private key: neither `XDG_CONFIG_HOME` nor `HOME` is an absolute path",
        )
        .hint("set `HOME`, or pass the controller's certificate with `--cert pub-cert.pem`")
    })?;
    let canonical = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let repo_id = &layout::digest(canonical.to_string_lossy().as_bytes())[..12];
    let dir = base.join("dev-keys");
    let path = dir.join(format!("{repo_id}-{env}.key.pem"));
    if crate::repo::confine::is_inside(root, &path)? {
        return Err(Error::input(format!(
            "the development private key would be written inside the repository (`{}`)",
            path.display()
        ))
        .hint("point `XDG_CONFIG_HOME` or `HOME` outside the repository, or pass `--cert pub-cert.pem`"));
    }
    let swept = sweep_dev_key_staging(&dir, std::time::SystemTime::now());
    if swept > 0 {
        crate::term::note(&format!(
            "note: removed {swept} private-key staging file(s) a killed `init env` left in `{}`",
            dir.display()
        ));
    }
    Ok(path)
}

/// How old a staging file in `dev-keys/` must be before it is taken for litter. A live writer
/// holds its staging file for the seconds between staging and renaming; one that a journal
/// names waits for the next writing command in its repository, which rolls it forward, so the
/// margin is a day rather than minutes.
pub const STALE_DEV_KEY_STAGING: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// Removes the private-key staging files a killed `init env` left in `dir` (our
/// `dev-keys/`): regular files only (a symbolic link is never followed or removed), named as
/// our staging files are (`.dbos-gitops-XXXXXX`), owned by this user, last modified more than
/// [`STALE_DEV_KEY_STAGING`] before `now`. Keys, other files and anything younger stay. Best
/// effort: what cannot be examined or removed is left. Returns how many were removed.
pub fn sweep_dev_key_staging(dir: &Path, now: std::time::SystemTime) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let ours = name
            .to_str()
            .is_some_and(|name| name.starts_with(crate::repo::journal::STAGING_PREFIX));
        // `DirEntry::metadata` does not follow a symbolic link.
        let Ok(metadata) = entry.metadata() else {
            continue;
        };
        if !ours || !metadata.file_type().is_file() || !owned_by_us(&metadata) {
            continue;
        }
        let stale = metadata
            .modified()
            .ok()
            .and_then(|modified| now.duration_since(modified).ok())
            .is_some_and(|age| age > STALE_DEV_KEY_STAGING);
        if stale && std::fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

#[cfg(unix)]
fn owned_by_us(metadata: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    // SAFETY: geteuid has no preconditions and cannot fail.
    metadata.uid() == unsafe { libc::geteuid() }
}

#[cfg(not(unix))]
fn owned_by_us(_: &std::fs::Metadata) -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_manifests_keep_values_out_of_json_values() {
        let text = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Secret\n  metadata: {name: a}\n  data: {k: c2VrcmV0LWE=}\n  stringData: {s: sekret-b}\n---\n{\"apiVersion\": \"v1\", \"kind\": \"Secret\", \"metadata\": {\"name\": \"b\"}, \"stringData\": {\"j\": \"sekret-c\"}}\n";
        let documents = crate::yaml::parse_secret_documents(Path::new("stdin"), text).unwrap();
        assert_eq!(documents.len(), 2);
        for document in &documents {
            let dbos_gitops_seal::SecretDocument::Object { fields, .. } = document else {
                panic!("not an object");
            };
            let shown = serde_json::to_string(fields).unwrap();
            assert!(
                !shown.contains("sekret") && !shown.contains("c2Vr"),
                "{shown}"
            );
        }
        let inputs = parse_secret_inputs("stdin", text).unwrap();
        let value = |index: usize, key: &str| inputs[index].data[key].to_vec();
        assert_eq!(value(0, "k"), b"sekret-a");
        assert_eq!(value(0, "s"), b"sekret-b");
        assert_eq!(value(1, "j"), b"sekret-c");
    }

    #[test]
    fn secret_manifest_errors_are_kept() {
        let cases = [
            (
                "apiVersion: v1\nkind: Secret\nmetadata: {name: a}\nstringData: {k: 1}\n",
                "`stringData.k` must be a string",
            ),
            (
                "apiVersion: v1\nkind: Secret\nmetadata: {name: a}\ndata: {k: \"%%\"}\n",
                "`data.k` is not valid base64",
            ),
            (
                "apiVersion: v1\nkind: Secret\nmetadata: {name: a}\ndata: [x]\n",
                "`data` must be a mapping",
            ),
            (
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
                "expected `v1 Secret`",
            ),
            ("- a\n", "not a mapping"),
            (
                "apiVersion: v1\nkind: Secret\nmetadata: {name: a}\nstringData:\n  k: v\n  k: w\n",
                "duplicate entry with key \"k\"",
            ),
            ("", "no Secret in stdin"),
        ];
        for (text, expected) in cases {
            let error = parse_secret_inputs("stdin", text).unwrap_err().report();
            assert!(error.contains(expected), "{text:?}: {error}");
        }
    }
}
