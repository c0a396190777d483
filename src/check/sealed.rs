//! Each SealedSecret of an environment (`environments/<env>/secrets/*.yaml`, one per file):
//! a valid object; sealed for the name, namespace and scope it will be applied as (kustomize
//! sets the overlay's namespace; a strict value only unseals under the `namespace/name` it was
//! sealed for); every value well-formed for the env's certificate; sealed with the env's
//! current certificate.
//!
//! Without the controller's private key the ciphertext cannot be opened, but its frame can be
//! checked: base64 of `u16 big-endian RSA block length ‖ RSA block ‖ AES-GCM output`, where the
//! RSA block is exactly as long as the certificate's modulus and the GCM output holds at least
//! its 16-byte tag. A value cut short, pasted wrongly or sealed for a key of another size fails.

use std::path::Path;

use base64::Engine;
use dbos_gitops_seal::{Scope, SealedSecret};

use super::env_check::{EnvCheck, SealedFile};
use super::finding::{relative, Finding};
use crate::error::Error;
use crate::model::EnvInput;

pub use crate::secret_store::FINGERPRINT_ANNOTATION as SEALING_CERT_ANNOTATION;
const GCM_TAG_BYTES: usize = 16;
pub use crate::secret_store::SYNC_WAVE_ANNOTATION;

fn reseal_hint(env: &str) -> String {
    format!("re-seal it with `dbos-gitops seal --env {env}`")
}

/// Reads every file under `secrets/`; files that are not one valid SealedSecret are findings.
pub fn load(
    ws: &crate::workspace::Workspace,
    dir: &str,
    input: &EnvInput,
) -> Result<(Vec<SealedFile>, Vec<Finding>), Error> {
    let mut files = Vec::new();
    let mut findings = Vec::new();
    for file in &input.secret_files {
        let path = relative(dir, &format!("secrets/{file}"));
        let stem = file
            .trim_end_matches(".yaml")
            .trim_end_matches(".yml")
            .to_string();
        // Read once: the load read it for its digests, into the workspace's cache.
        let absolute = ws.root().join(&path);
        let bytes = ws.read(&path)?.ok_or_else(|| {
            let gone = std::io::Error::from(std::io::ErrorKind::NotFound);
            Error::io(&absolute, "read", gone)
        })?;
        let text = crate::repo::fs::utf8(&absolute, bytes)?;
        let invalid = |message: String| {
            Finding::error("invalid-sealed-secret", &path, message).hint(format!(
                "keep exactly one `bitnami.com/v1alpha1` SealedSecret per file; {}",
                reseal_hint(input.name.as_str())
            ))
        };
        let documents = match crate::yaml::parse_documents(Path::new(&path), &text) {
            Ok(documents) => documents,
            Err(error) => {
                findings.push(invalid(format!("not valid YAML: {error}")));
                files.push(SealedFile {
                    path,
                    stem,
                    sealed: None,
                });
                continue;
            }
        };
        let sealed = match documents.as_slice() {
            [document] if super::plaintext::is_secret_like(document) => {
                // A plain Secret: the plaintext check reports it.
                None
            }
            [document] => match SealedSecret::from_value(document) {
                Ok(sealed) => Some(sealed),
                Err(error) => {
                    let mut finding = invalid(error.to_string());
                    if let Some(hint) = error.hint() {
                        finding = finding.hint(hint);
                    }
                    findings.push(finding);
                    None
                }
            },
            [] => {
                findings.push(invalid("the file holds no object".into()));
                None
            }
            several => {
                findings.push(invalid(format!(
                    "the file holds {} objects; one SealedSecret per file",
                    several.len()
                )));
                None
            }
        };
        files.push(SealedFile { path, stem, sealed });
    }
    Ok((files, findings))
}

pub fn check(check: &EnvCheck<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    let env_name = check.name();
    let namespace = check.input.spec.namespace.as_str();
    for file in &check.sealed {
        let Some(sealed) = &file.sealed else {
            continue;
        };
        let path = file.path.as_str();

        if sealed.scope != Scope::ClusterWide {
            let sealed_for = [
                sealed.namespace.as_deref(),
                sealed.template.namespace.as_deref(),
            ];
            if let Some(other) = sealed_for
                .iter()
                .flatten()
                .find(|candidate| **candidate != namespace)
            {
                findings.push(
                    Finding::error(
                        "sealed-namespace-mismatch",
                        path,
                        format!(
                            "sealed for namespace `{other}` but the overlay deploys to `{namespace}`"
                        ),
                    )
                    .hint(reseal_hint(env_name)),
                );
            } else if sealed_for.iter().all(Option::is_none) {
                findings.push(
                    Finding::error(
                        "sealed-namespace-mismatch",
                        path,
                        format!(
                            "names no namespace, so the namespace its {} values were sealed for is unknown; the overlay deploys to `{namespace}`",
                            sealed.scope
                        ),
                    )
                    .hint(reseal_hint(env_name)),
                );
            }
        }

        if sealed.scope == Scope::Strict {
            if let Some(template_name) = &sealed.template.name {
                if template_name != &sealed.name {
                    findings.push(
                        Finding::error(
                            "sealed-name-mismatch",
                            path,
                            format!(
                                "sealed for the name `{template_name}` but named `{}`: strict values only unseal under the name they were sealed for",
                                sealed.name
                            ),
                        )
                        .hint(reseal_hint(env_name)),
                    );
                }
            }
        }
        if file.stem != sealed.name {
            findings.push(
                Finding::warning(
                    "sealed-file-name",
                    path,
                    format!(
                        "holds the SealedSecret `{}`; dbos-gitops keeps it in `secrets/{}.yaml`",
                        sealed.name, sealed.name
                    ),
                )
                .hint(format!(
                    "rename the file to `{}/secrets/{}.yaml` and run `dbos-gitops build`",
                    check.dir, sealed.name
                )),
            );
        }

        let template_scope = Scope::from_annotations(&sealed.template.annotations);
        if template_scope != sealed.scope {
            findings.push(
                Finding::error(
                    "sealed-scope-mismatch",
                    path,
                    format!(
                        "its metadata declares {} scope but its template declares {} scope",
                        sealed.scope, template_scope
                    ),
                )
                .hint(reseal_hint(env_name)),
            );
        }

        let wave = sealed.annotations.get(SYNC_WAVE_ANNOTATION);
        if wave
            .and_then(|wave| wave.trim().parse::<i64>().ok())
            .is_none_or(|wave| wave >= 0)
        {
            let found = match wave {
                Some(wave) => format!("is in sync wave `{wave}`"),
                None => format!("has no `{SYNC_WAVE_ANNOTATION}` annotation (wave 0)"),
            };
            findings.push(
                Finding::warning(
                    "sealed-sync-wave",
                    path,
                    format!(
                        "{found}: Argo CD may run the migrate hook (wave 0) and start pods before its Secret exists"
                    ),
                )
                .hint(format!(
                    "annotate it with `{SYNC_WAVE_ANNOTATION}: \"-1\"`, or {}",
                    reseal_hint(env_name)
                )),
            );
        }

        findings.extend(check_values(check, file, sealed));

        let Some(cert) = &check.cert else {
            continue;
        };
        let cert_path = relative(&check.dir, super::certificates::SEALING_CERT_FILE);
        match sealed.annotations.get(SEALING_CERT_ANNOTATION) {
            Some(fingerprint) if fingerprint.eq_ignore_ascii_case(&cert.fingerprint()) => {}
            Some(fingerprint) => findings.push(
                Finding::warning(
                    "sealed-with-other-cert",
                    path,
                    format!(
                        "sealed with another certificate (sha256 `{}`) than `{cert_path}`: the controller keeps old keys, but a rebuilt cluster cannot unseal it",
                        short(fingerprint)
                    ),
                )
                .hint(reseal_hint(env_name)),
            ),
            None => findings.push(
                Finding::warning(
                    "sealed-with-unknown-cert",
                    path,
                    format!(
                        "has no `{SEALING_CERT_ANNOTATION}` annotation, so which certificate sealed it is unknown"
                    ),
                )
                .hint(reseal_hint(env_name)),
            ),
        }
    }
    findings
}

fn short(fingerprint: &str) -> &str {
    fingerprint.get(..16).unwrap_or(fingerprint)
}

fn check_values(check: &EnvCheck<'_>, file: &SealedFile, sealed: &SealedSecret) -> Vec<Finding> {
    let mut findings = Vec::new();
    let key_bytes = check.cert.as_ref().map(|cert| cert.key_bits().div_ceil(8));
    for (key, value) in &sealed.encrypted_data {
        let cleaned: String = value.chars().filter(|c| *c != '\n' && *c != '\r').collect();
        let problem = match base64::engine::general_purpose::STANDARD.decode(cleaned.as_bytes()) {
            Err(_) => Some("is not valid base64".to_string()),
            Ok(bytes) => match key_bytes {
                None => None,
                Some(key_bytes) => frame_problem(&bytes, key_bytes),
            },
        };
        if let Some(problem) = problem {
            findings.push(
                Finding::error(
                    "invalid-sealed-value",
                    &file.path,
                    format!("`spec.encryptedData.{key}` {problem}"),
                )
                .hint(format!(
                    "the value was truncated, edited or sealed for another key; seal it again with {}",
                    super::secrets::fix_command(check.name(), &sealed.name, key)
                )),
            );
        }
    }
    findings
}

/// What is wrong with a sealed value's frame for a `key_bytes` RSA key, if anything.
pub fn frame_problem(bytes: &[u8], key_bytes: usize) -> Option<String> {
    if bytes.len() < 2 {
        return Some(format!(
            "is {} bytes long, too short for a sealed value",
            bytes.len()
        ));
    }
    let block = usize::from(u16::from_be_bytes([bytes[0], bytes[1]]));
    if block != key_bytes {
        return Some(format!(
            "holds a {block}-byte RSA block, but the env's certificate has a {key_bytes}-byte ({}-bit) key: it was sealed for another certificate, or is corrupt",
            key_bytes * 8
        ));
    }
    let minimum = 2 + key_bytes + GCM_TAG_BYTES;
    if bytes.len() < minimum {
        return Some(format!(
            "is {} bytes long, shorter than the {minimum} bytes of an RSA block and an AES-GCM tag: it was truncated",
            bytes.len()
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::frame_problem;

    #[test]
    fn frames_are_checked_against_the_key_size() {
        let mut value = vec![0x02, 0x00];
        value.extend(vec![0u8; 512 + 16]);
        assert_eq!(frame_problem(&value, 512), None);
        assert!(frame_problem(&value, 256)
            .unwrap()
            .contains("512-byte RSA block"));
        assert!(frame_problem(&value[..100], 512)
            .unwrap()
            .contains("truncated"));
        assert!(frame_problem(&[1], 512).unwrap().contains("too short"));
    }
}
