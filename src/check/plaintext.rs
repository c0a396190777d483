//! No plaintext secret in the repository. Under `base/`, `environments/` and `argocd/` (what
//! Argo CD reads) no plain `kind: Secret`, no Secret-like object with `data`/`stringData`, no
//! kustomize `secretGenerator`; and nowhere in the tree (tracked or not, `.git` aside; under
//! `target/` the key-shaped file names) a PEM private key, which one `git add -A` would publish.
//! SealedSecrets there are also checked for plain text in their template and for sizes
//! Kubernetes refuses (`sealed_objects.rs`).
//!
//! Test fixtures that are private keys by design (they protect nothing) are listed with their
//! SHA-256 in `.dbos-gitops.test-keys.sha256` (`sha256sum` format); a listed file that changes
//! is reported again.

use std::path::Path;

use base64::Engine;
use serde_json::Value;

use super::finding::Finding;
use crate::error::Error;
use crate::repo::ownership;
use crate::workspace::Tree;

use crate::layout::GITOPS_DIRS;
/// Private keys that are known test fixtures: `<sha256>  <path>` per line.
pub use crate::layout::TEST_KEYS_FILE;
/// Larger files are not read for private keys (a key is a few kilobytes).
const MAX_SCANNED_BYTES: u64 = 16 * 1024 * 1024;

/// A plain Secret, or an object shaped like one: `kind: Secret` in any spelling, or top-level
/// `stringData`, or top-level `data` beside a `type`.
pub fn is_secret_like(document: &Value) -> bool {
    let Some(object) = document.as_object() else {
        return false;
    };
    let kind_is_secret = object
        .get("kind")
        .and_then(Value::as_str)
        .is_some_and(|kind| kind.eq_ignore_ascii_case("secret"));
    let has = |key: &str| object.get(key).is_some_and(|value| !value.is_null());
    kind_is_secret
        || has("stringData")
        || (has("data") && object.get("type").is_some_and(Value::is_string))
}

/// The findings, and what was read on the way (the render cache keys on it, `cache::KnownFiles`).
///
/// A generated file whose bytes are exactly what dbos-gitops wrote (its SHA-256 is the one in
/// the ownership record `record`) is not parsed for plain Secrets: the renderer writes none
/// (`tests/cli/check.rs` holds that for every rendered variant). It is still read, hashed for
/// the render cache and scanned for a private key like every other file.
pub fn check(
    tree: &Tree,
    only_env: Option<&str>,
    record: &crate::repo::ownership::Record,
) -> Result<(Vec<Finding>, super::inputs::KnownFiles), Error> {
    let mut known = super::inputs::KnownFiles::default();
    let mut files = (Vec::new(), Vec::new());
    collect_files(tree, "", &mut files)?;
    let test_keys = match tree.read_listed(TEST_KEYS_FILE)? {
        Some(bytes) => {
            ownership::parse(Path::new(TEST_KEYS_FILE), &String::from_utf8_lossy(&bytes))?
        }
        None => Default::default(),
    };
    let mut findings = Vec::new();
    let (files, large) = files;
    for (relative, bytes) in large {
        let manifest = [".yaml", ".yml", ".json"]
            .iter()
            .any(|extension| relative.ends_with(extension));
        let in_gitops_dir = GITOPS_DIRS
            .iter()
            .any(|dir| relative.starts_with(&format!("{dir}/")));
        if manifest && in_gitops_dir && crate::layout::in_env_scope(&relative, only_env) {
            findings.extend(super::sealed_objects::unread(&relative, bytes));
        }
    }
    for relative in files {
        let path = tree.path(&relative);
        let Some(bytes) = tree.read_listed(&relative)? else {
            continue;
        };
        let summary = super::inputs::summary(&bytes);
        let generated_as_written = record
            .get(&relative)
            .is_some_and(|written| hex_is(written, &summary.1));
        known.insert(path.clone(), summary);
        if contains_private_key(&bytes)
            && test_keys.get(&relative) != Some(&ownership::digest(&bytes))
        {
            findings.push(
                Finding::error(
                    "private-key",
                    &relative,
                    "holds a PEM private key: anyone with the repository can decrypt what it protects",
                )
                .hint(
                    "move it out of the repository (and rotate it if it was ever committed); only certificates belong here",
                ),
            );
        }
        let in_gitops_dir = GITOPS_DIRS
            .iter()
            .any(|dir| relative.starts_with(&format!("{dir}/")));
        let in_scope = crate::layout::in_env_scope(&relative, only_env);
        let manifest = [".yaml", ".yml", ".json"]
            .iter()
            .any(|extension| relative.ends_with(extension));
        if in_gitops_dir && in_scope && manifest && !generated_as_written {
            findings.extend(plain_secrets(&path, &relative, &bytes));
        }
    }
    Ok((findings, known))
}

/// Whether the lowercase hex text `hex` spells `digest`.
fn hex_is(hex: &str, digest: &[u8; 32]) -> bool {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    hex.len() == 64
        && hex.as_bytes().chunks(2).zip(digest).all(|(pair, byte)| {
            pair[0] == DIGITS[usize::from(byte >> 4)] && pair[1] == DIGITS[usize::from(byte & 15)]
        })
}

fn plain_secret_hint(relative: &str) -> String {
    let env = crate::layout::env_of(relative).unwrap_or("ENV");
    format!(
        "seal it with `dbos-gitops seal --env {env} -f {relative}`, delete this file, and rotate the values: they are in git history"
    )
}

fn plain_secrets(path: &Path, relative: &str, bytes: &[u8]) -> Vec<Finding> {
    let text = String::from_utf8_lossy(bytes);
    let lowered = text.to_ascii_lowercase();
    if !lowered.contains("secret") && !lowered.contains("stringdata") {
        return Vec::new();
    }
    let mut findings = Vec::new();
    match crate::yaml::parse_objects(path, &text) {
        Ok(documents) => {
            for document in documents {
                findings.extend(super::sealed_objects::check(relative, &document));
                if is_secret_like(&document) {
                    let name = document["metadata"]["name"].as_str().unwrap_or("");
                    findings.push(
                        Finding::error(
                            "plain-secret",
                            relative,
                            format!(
                                "holds a plain Secret `{name}`: its values are readable by anyone with the repository"
                            ),
                        )
                        .hint(plain_secret_hint(relative)),
                    );
                } else if document
                    .get("secretGenerator")
                    .is_some_and(|value| !value.is_null())
                {
                    findings.push(
                        Finding::error(
                            "plain-secret",
                            relative,
                            "has a `secretGenerator`: kustomize makes plain Secrets from values kept in the repository",
                        )
                        .hint("remove the generator and seal each secret with `dbos-gitops seal --env ENV`"),
                    );
                }
            }
        }
        // Not YAML (the render check reports that): look for the tell-tale line.
        Err(_) => {
            if text.lines().any(|line| {
                let line = line.trim();
                line.strip_prefix("kind:").is_some_and(|kind| {
                    kind.trim()
                        .trim_matches(['"', '\''])
                        .eq_ignore_ascii_case("secret")
                })
            }) {
                findings.push(
                    Finding::error(
                        "plain-secret",
                        relative,
                        "holds a `kind: Secret`: its values are readable by anyone with the repository",
                    )
                    .hint(plain_secret_hint(relative)),
                );
            }
        }
    }
    findings
}

/// Files to read (repository-relative), and those too large to read with their size.
type Files = (Vec<String>, Vec<(String, u64)>);

/// Every regular file under `dir`, skipping `.git`. Under the root `target/` (a build
/// directory, never tracked in a Rust checkout but one `git add -f` away) only key-shaped files
/// are read ([`key_shaped`]), which keeps a large build tree cheap.
fn collect_files(tree: &Tree, dir: &str, files: &mut Files) -> Result<(), Error> {
    let listed = |source| Error::io(tree.path(dir), "list", source);
    let mut entries: Vec<_> = tree
        .entries(dir)
        .map_err(listed)?
        .collect::<Result<_, _>>()
        .map_err(listed)?;
    entries.sort_by_key(|entry| entry.file_name());
    for entry in entries {
        let name = entry.file_name();
        let file_type = entry
            .file_type()
            .map_err(|source| Error::io(entry.path(), "inspect", source))?;
        if name == ".git" {
            continue;
        }
        let relative = if dir.is_empty() {
            name.to_string_lossy().into_owned()
        } else {
            format!("{dir}/{}", name.to_string_lossy())
        };
        if file_type.is_dir() {
            collect_files(tree, &relative, files)?;
        } else if file_type.is_file() {
            if relative.starts_with("target/") && !key_shaped(&relative) {
                continue;
            }
            let size = entry
                .metadata()
                .map(|metadata| metadata.len())
                .unwrap_or(u64::MAX);
            if size <= MAX_SCANNED_BYTES {
                files.0.push(relative);
            } else {
                files.1.push((relative, size));
            }
        }
    }
    Ok(())
}

/// A file name a private key is commonly kept under.
fn key_shaped(relative: &str) -> bool {
    let name = relative
        .rsplit('/')
        .next()
        .unwrap_or(relative)
        .to_ascii_lowercase();
    [".pem", ".key", ".p8", ".der", ".p12", ".pfx"]
        .iter()
        .any(|extension| name.ends_with(extension))
        || name.contains("key")
        || name.starts_with("id_")
}

/// A PEM private key block: a `-----BEGIN ... PRIVATE KEY-----` line followed (after optional
/// `Name: value` headers) by a base64 line; also inside JSON strings (`\n` escapes) and
/// base64-encoded once (a Secret's `data`). A mention of the header in prose or code is not one.
pub fn contains_private_key(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    if text.contains("PRIVATE KEY-----") {
        let unescaped = text.replace("\\n", "\n");
        if pem_key_block(&text) || pem_key_block(&unescaped) {
            return true;
        }
    }
    // "-----BEGIN " in base64, at each of the three alignments.
    for marker in ["LS0tLS1CRUdJTi", "tLS0tLUJFR0lO", "0tLS0tQkVHSU4g"] {
        let mut rest = text.as_ref();
        while let Some(index) = rest.find(marker) {
            let run: String = rest[index..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '='))
                .collect();
            for skip in 0..4 {
                let Some(candidate) = run.get(skip..) else {
                    continue;
                };
                let usable = candidate.len() / 4 * 4;
                if let Ok(decoded) = base64::engine::general_purpose::STANDARD_NO_PAD
                    .decode(candidate[..usable].trim_end_matches('='))
                {
                    if pem_key_block(&String::from_utf8_lossy(&decoded)) {
                        return true;
                    }
                }
            }
            rest = &rest[index + marker.len()..];
        }
    }
    false
}

fn pem_key_block(text: &str) -> bool {
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let Some(start) = line.find("-BEGIN ") else {
            continue;
        };
        if !line[start..].contains("PRIVATE KEY-----") {
            continue;
        }
        for next in lines.by_ref() {
            let next = next.trim();
            if next.contains(':') && !next.starts_with("-----") {
                continue; // Proc-Type:, DEK-Info: headers of encrypted keys
            }
            let body: &str = next.trim_end_matches(['"', ',', '\\']);
            let base64_line = body.len() >= 16
                && body
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '='));
            if base64_line {
                return true;
            }
            break;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Built at run time, so that this source file holds no key block itself.
    fn key() -> String {
        let kind = "RSA PRIVATE KEY";
        format!(
            "-----BEGIN {kind}-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\nVTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n-----END {kind}-----\n"
        )
    }

    #[test]
    fn finds_keys_as_pem_json_yaml_and_base64() {
        let key = key();
        assert!(contains_private_key(key.as_bytes()));
        let indented = format!(
            "stringData:\n  tls.key: |\n{}",
            key.lines()
                .map(|line| format!("    {line}\n"))
                .collect::<String>()
        );
        assert!(contains_private_key(indented.as_bytes()));
        let json = serde_json::to_string(&serde_json::json!({ "key": key })).unwrap();
        assert!(contains_private_key(json.as_bytes()));
        for prefix in ["", "x", "xy"] {
            let encoded =
                base64::engine::general_purpose::STANDARD.encode(format!("{prefix}{key}"));
            assert!(
                contains_private_key(format!("data:\n  tls.key: {encoded}\n").as_bytes()),
                "{prefix:?}"
            );
        }
    }

    #[test]
    fn mentions_of_the_header_are_not_keys() {
        for text in [
            "/// The private key is PKCS#8 (`-----BEGIN PRIVATE KEY-----`), wiped",
            ".starts_with(\"-----BEGIN PRIVATE KEY-----\\n\"));",
            "KeyKind::Rsa2048 => \"-----BEGIN RSA PRIVATE KEY-----\",\n    other => x,",
            "-----BEGIN CERTIFICATE-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n",
        ] {
            assert!(!contains_private_key(text.as_bytes()), "{text}");
        }
    }

    #[test]
    fn secret_like_objects() {
        let secret = |text: &str| {
            is_secret_like(&crate::yaml::parse_documents(Path::new("x"), text).unwrap()[0])
        };
        assert!(secret(
            "apiVersion: v1\nkind: Secret\nmetadata: {name: a}\n"
        ));
        assert!(secret("kind: secret\n"));
        assert!(secret("kind: Whatever\nstringData: {a: b}\n"));
        assert!(secret("kind: Whatever\ntype: Opaque\ndata: {a: Yg==}\n"));
        assert!(!secret("kind: ConfigMap\ndata: {a: b}\n"));
        assert!(!secret(
            "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nspec: {encryptedData: {a: b}}\n"
        ));
    }
}
