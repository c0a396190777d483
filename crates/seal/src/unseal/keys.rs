//! Loading the controller's private keys, for unsealing and for checks in tests.
//!
//! The controller keeps every key it ever generated and tries each in turn (upstream
//! `HybridDecrypt`), and `kubeseal --recovery-unseal` accepts key files that are either PEM or
//! a backed-up key `Secret` / `List` of Secrets whose `tls.key` holds the PEM
//! (`readPrivKeysFromFile` in `pkg/kubeseal/kubeseal.go`). We accept PKCS#1 (`RSA PRIVATE KEY`,
//! what the controller writes) and PKCS#8 (`PRIVATE KEY`) blocks, any number per file, skip
//! `CERTIFICATE` blocks so that a `tls.crt`+`tls.key` bundle works, and read backups in either
//! JSON shape via [`PrivateKeys::from_secret_value`].

use base64::Engine;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::RsaPrivateKey;
use serde_json::Value;

/// A private key file could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The bytes are not PEM.
    #[error("the private key file is not pem: {detail}")]
    NotPem { detail: String },
    /// No private key block in the file.
    #[error("no `RSA PRIVATE KEY` or `PRIVATE KEY` pem block found (found: {found})")]
    NoKeys { found: String },
    /// A key block that is not a valid RSA key.
    #[error("pem block {index} (`{tag}`) is not a valid rsa private key: {detail}")]
    BadKey {
        index: usize,
        tag: String,
        detail: String,
    },
    /// A key of another algorithm.
    #[error("pem block {index} (`{tag}`) is not an rsa key")]
    NotRsa { index: usize, tag: String },
    /// Password-protected PKCS#8.
    #[error("pem block {index} is an encrypted private key, which is not supported")]
    Encrypted { index: usize },
    /// A key backup document that is not a Secret or a List of Secrets with `tls.key`.
    #[error("key backup document: {detail}")]
    BadBackup { detail: String },
}

impl KeyError {
    /// How to get a usable key file.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            KeyError::Encrypted { .. } => {
                "decrypt it first with `openssl pkey -in KEY -out plain.pem`".into()
            }
            _ => "back up the controller's keys with `kubectl get secret -n kube-system -l \
                  sealedsecrets.bitnami.com/sealed-secrets-key -o yaml > keys.yaml`, or pass the \
                  pem `tls.key` of one of them"
                .into(),
        })
    }
}

/// One or more RSA private keys; decryption tries them in order.
#[derive(Clone, Default)]
pub struct PrivateKeys(pub Vec<RsaPrivateKey>);

impl std::fmt::Debug for PrivateKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PrivateKeys({} keys, redacted)", self.0.len())
    }
}

impl PrivateKeys {
    /// Reads every private key block of a PEM file.
    pub fn from_pem(pem: &[u8]) -> Result<PrivateKeys, KeyError> {
        let blocks = pem::parse_many(pem).map_err(|e| KeyError::NotPem {
            detail: e.to_string(),
        })?;
        let mut keys = Vec::new();
        for (index, block) in blocks.iter().enumerate() {
            let tag = block.tag();
            let bad = |detail: String| KeyError::BadKey {
                index,
                tag: tag.to_string(),
                detail,
            };
            match tag {
                "RSA PRIVATE KEY" => keys.push(
                    RsaPrivateKey::from_pkcs1_der(block.contents())
                        .map_err(|e| bad(e.to_string()))?,
                ),
                "PRIVATE KEY" => {
                    let info = rsa::pkcs8::PrivateKeyInfo::try_from(block.contents())
                        .map_err(|e| bad(e.to_string()))?;
                    if info.algorithm.oid != rsa::pkcs1::ALGORITHM_OID {
                        return Err(KeyError::NotRsa {
                            index,
                            tag: format!("{tag}` with algorithm `{}", info.algorithm.oid),
                        });
                    }
                    keys.push(
                        RsaPrivateKey::from_pkcs8_der(block.contents())
                            .map_err(|e| bad(e.to_string()))?,
                    );
                }
                "ENCRYPTED PRIVATE KEY" => return Err(KeyError::Encrypted { index }),
                t if t.ends_with("PRIVATE KEY") => {
                    return Err(KeyError::NotRsa {
                        index,
                        tag: tag.into(),
                    })
                }
                _ => {}
            }
        }
        if keys.is_empty() {
            let found: Vec<String> = blocks.iter().map(|b| format!("`{}`", b.tag())).collect();
            return Err(KeyError::NoKeys {
                found: if found.is_empty() {
                    "nothing".into()
                } else {
                    found.join(", ")
                },
            });
        }
        Ok(PrivateKeys(keys))
    }

    /// Reads a key backup: a v1 `Secret` with `data."tls.key"`, or a `List` of them.
    pub fn from_secret_value(v: &Value) -> Result<PrivateKeys, KeyError> {
        let bad = |detail: &str| KeyError::BadBackup {
            detail: detail.to_string(),
        };
        match v.get("kind").and_then(Value::as_str) {
            Some("List") | Some("SecretList") => {
                let items = v
                    .get("items")
                    .and_then(Value::as_array)
                    .ok_or_else(|| bad("`items` is not a list"))?;
                let mut all = PrivateKeys::default();
                for item in items {
                    all.extend(Self::from_secret_value(item)?);
                }
                if all.is_empty() {
                    return Err(bad("the list holds no secrets"));
                }
                Ok(all)
            }
            Some("Secret") => {
                let b64 = v
                    .get("data")
                    .and_then(|d| d.get("tls.key"))
                    .and_then(Value::as_str)
                    .ok_or_else(|| bad("the secret has no `data.tls.key`"))?;
                let pem = zeroize::Zeroizing::new(
                    base64::engine::general_purpose::STANDARD
                        .decode(b64.trim())
                        .map_err(|_| bad("`data.tls.key` is not valid base64"))?,
                );
                Self::from_pem(&pem)
            }
            _ => Err(bad("expected kind `Secret` or `List`")),
        }
    }

    /// Appends the keys of `other` (tried after ours).
    pub fn extend(&mut self, other: PrivateKeys) {
        self.0.extend(other.0);
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The keys, in the order they are tried.
    pub fn keys(&self) -> &[RsaPrivateKey] {
        &self.0
    }
}
