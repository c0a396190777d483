//! The `SealedSecret` object: building it from a plain Secret, reading and writing it, merging.
//!
//! Shape, as `NewSealedSecret` in upstream `sealedsecret_expansion.go` makes it and `kubeseal`
//! prints it: top-level `metadata` holds only `name`, `namespace` and the scope annotation (none
//! for strict); `spec.encryptedData` maps each key to its base64 sealed value; `spec.template`
//! carries a copy of the input Secret's metadata (`name`, `namespace`, labels and annotations,
//! including the scope annotation that `kubeseal` adds to the input before copying, minus the
//! two last-applied-configuration annotations and owner references) plus `type` and `immutable`
//! when set. We drop the `creationTimestamp: null` lines that Go's encoder adds. Upstream decrypts
//! with the label derived from the SealedSecret's *own* metadata annotations (`labelFor` applied
//! to the object's metadata in `Unseal`), so that is where [`SealedSecret::scope`] is read from.
//!
//! Scope selection follows `kubeseal`'s `Seal`: with no explicit scope, the input's annotations
//! decide; an explicit scope rewrites the input's scope annotations. (Upstream only rewrites when
//! the flag is not `strict`, its default; our `None` plays that role, and an explicit
//! `Some(Strict)` really does force strict.) Namespace rules: an explicit namespace that differs
//! from the input's is an error; a missing namespace is taken from the explicit one and is an
//! error if there is none and the scope is not cluster-wide. (For cluster-wide secrets upstream
//! never consults the namespace flag at all; we still apply an explicit namespace and still
//! refuse a contradiction, since the label is empty either way and the output then says where
//! the Secret will be created.)
//!
//! Merging follows `SealMergingInto`: the newer object's encrypted keys, template labels,
//! template annotations and template data are laid over the existing ones; everything else
//! (including untouched ciphertexts, byte for byte) is kept.

use std::collections::BTreeMap;

use base64::Engine;
use rand::{CryptoRng, RngCore};
use serde_json::{Map, Value};
use zeroize::Zeroizing;

use crate::cert::SealingCert;
use crate::crypto::{hybrid_decrypt_any, hybrid_encrypt, DecryptError};
use crate::input::SecretInput;
use crate::input::{
    as_object, check_kind, decode_std_base64, opt_str, string_map, InputError, ObjectMeta,
};
use crate::scope::{Scope, LAST_APPLIED_ANNOTATIONS};
use crate::unseal::keys::PrivateKeys;
use crate::unseal::UnsealedSecret;

/// `apiVersion` of every SealedSecret this crate writes (group `bitnami.com`, version `v1alpha1`).
pub const SEALED_SECRET_API_VERSION: &str = "bitnami.com/v1alpha1";
/// `kind` of a SealedSecret.
pub const SEALED_SECRET_KIND: &str = "SealedSecret";

/// Metadata fields that the API server fills in; never worth keeping in a Git repository.
const SERVER_METADATA: [&str; 8] = [
    "creationTimestamp",
    "resourceVersion",
    "uid",
    "generation",
    "managedFields",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
];

/// How to seal a [`SecretInput`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SealOptions {
    /// `None`: take the scope from the input's annotations (strict if none).
    pub scope: Option<Scope>,
    /// An explicit namespace (`--namespace`).
    pub namespace: Option<String>,
    /// Seal a Secret without any data instead of refusing.
    pub allow_empty_data: bool,
}

/// `spec.template` of a SealedSecret: what the controller puts on the Secret it creates.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SecretTemplate {
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub type_: Option<String>,
    pub immutable: Option<bool>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    /// `spec.template.data`: keys rendered by the controller (Go templates over the decrypted
    /// values). Kept as found; never produced by sealing.
    pub data: BTreeMap<String, String>,
    extra_metadata: Map<String, Value>,
    extra: Map<String, Value>,
}

/// A SealedSecret object.
#[derive(Debug, Clone, PartialEq)]
pub struct SealedSecret {
    pub name: String,
    pub namespace: Option<String>,
    /// The scope; [`SealedSecret::to_value`] writes the matching annotation on the metadata and
    /// on the template, whatever `annotations` says.
    pub scope: Scope,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub encrypted_data: BTreeMap<String, String>,
    pub template: SecretTemplate,
    extra_metadata: Map<String, Value>,
    extra_spec: Map<String, Value>,
    extra: Map<String, Value>,
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Seals every value of `input` for `cert`'s controller.
pub fn seal_secret<R: RngCore + CryptoRng>(
    rng: &mut R,
    cert: &SealingCert,
    input: &SecretInput,
    opts: &SealOptions,
) -> Result<SealedSecret, InputError> {
    let mut sealed = prepare(input, opts)?;
    let label = sealed.label();
    for (key, value) in &input.data {
        sealed
            .encrypted_data
            .insert(key.clone(), seal_value(rng, cert, value, &label));
    }
    Ok(sealed)
}

/// One value's `spec.encryptedData` text: base64 of the hybrid encryption under `label`.
pub(crate) fn seal_value<R: RngCore + CryptoRng>(
    rng: &mut R,
    cert: &SealingCert,
    value: &[u8],
    label: &[u8],
) -> String {
    b64(&hybrid_encrypt(rng, cert.sealing_key(), value, label))
}

/// The SealedSecret for `input` with every field but `encryptedData` (left empty): scope,
/// namespace and template decided as `kubeseal` decides them (see the module doc). Sealing
/// fills the ciphertexts in; stable re-seal first decides which values need one.
pub(crate) fn prepare(input: &SecretInput, opts: &SealOptions) -> Result<SealedSecret, InputError> {
    if input.name.is_empty() {
        return Err(InputError::MissingName);
    }
    if input.data.is_empty() && !opts.allow_empty_data {
        return Err(InputError::EmptyData {
            name: input.name.clone(),
        });
    }
    let mut annotations = input.annotations.clone();
    if let Some(scope) = opts.scope {
        scope.apply_to_annotations(&mut annotations);
    }
    let scope = Scope::from_annotations(&annotations);
    for key in LAST_APPLIED_ANNOTATIONS {
        annotations.remove(key);
    }
    let namespace = namespace_for(input, opts, scope)?;
    let mut meta_annotations = BTreeMap::new();
    scope.apply_to_annotations(&mut meta_annotations);
    Ok(SealedSecret {
        name: input.name.clone(),
        namespace: namespace.clone(),
        scope,
        labels: BTreeMap::new(),
        annotations: meta_annotations,
        encrypted_data: BTreeMap::new(),
        template: SecretTemplate {
            name: Some(input.name.clone()),
            namespace,
            type_: input.type_.clone(),
            immutable: input.immutable,
            labels: input.labels.clone(),
            annotations,
            ..SecretTemplate::default()
        },
        extra_metadata: Map::new(),
        extra_spec: Map::new(),
        extra: Map::new(),
    })
}

/// The namespace to seal for: the input's or the explicit one (they must agree); none only
/// for a cluster-wide secret.
fn namespace_for(
    input: &SecretInput,
    opts: &SealOptions,
    scope: Scope,
) -> Result<Option<String>, InputError> {
    let input_ns = input.namespace.clone().filter(|n| !n.is_empty());
    let explicit_ns = opts.namespace.clone().filter(|n| !n.is_empty());
    let namespace = match (input_ns, explicit_ns) {
        (Some(i), Some(e)) if i != e => {
            return Err(InputError::NamespaceMismatch {
                input: i,
                explicit: e,
            })
        }
        (Some(i), _) => Some(i),
        (None, e) => e,
    };
    if namespace.is_none() && scope != Scope::ClusterWide {
        return Err(InputError::MissingNamespace {
            name: input.name.clone(),
            scope,
        });
    }
    Ok(namespace)
}

/// Seals one value, as `kubeseal --raw`: returns the base64 text for `spec.encryptedData`.
/// Strict scope needs `namespace` and `name`, namespace-wide needs `namespace`, cluster-wide
/// ignores both.
pub fn seal_raw<R: RngCore + CryptoRng>(
    rng: &mut R,
    cert: &SealingCert,
    value: &[u8],
    scope: Scope,
    namespace: Option<&str>,
    name: Option<&str>,
) -> Result<String, InputError> {
    let namespace = namespace.filter(|n| !n.is_empty());
    let name = name.filter(|n| !n.is_empty());
    let label = match scope {
        Scope::ClusterWide => Vec::new(),
        _ => {
            let ns = namespace.ok_or(InputError::MissingRawNamespace { scope })?;
            if scope == Scope::Strict && name.is_none() {
                return Err(InputError::MissingRawName);
            }
            scope.label(ns, name.unwrap_or(""))
        }
    };
    Ok(b64(&hybrid_encrypt(rng, cert.sealing_key(), value, &label)))
}

/// The framing of one `spec.encryptedData` value, read without any key: the length of its RSA
/// block and of the plaintext it seals (the wire format is `u16 length || RSA block || AES-GCM
/// ciphertext || 16-byte tag`, and GCM adds nothing else). `None` if it is not padded base64 of
/// that format. Only the first four base64 characters are decoded.
pub fn sealed_value_lengths(text: &str) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    if bytes.len() < 4 || !bytes.len().is_multiple_of(4) {
        return None;
    }
    let padding = bytes
        .iter()
        .rev()
        .take(2)
        .filter(|byte| **byte == b'=')
        .count();
    let decoded = bytes.len() / 4 * 3 - padding;
    let head = base64::engine::general_purpose::STANDARD
        .decode(&bytes[..4])
        .ok()?;
    let block = usize::from(u16::from_be_bytes([head[0], head[1]]));
    let plaintext = decoded.checked_sub(2 + block + crate::crypto::GCM_TAG_BYTES)?;
    Some((block, plaintext))
}

fn rest_of(obj: &Map<String, Value>, known: &[&str]) -> Map<String, Value> {
    obj.iter()
        .filter(|(k, _)| !known.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn put_map(out: &mut Map<String, Value>, key: &str, m: &BTreeMap<String, String>) {
    if !m.is_empty() {
        out.insert(
            key.into(),
            Value::Object(
                m.iter()
                    .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                    .collect(),
            ),
        );
    }
}

fn metadata_value(
    name: Option<&str>,
    namespace: Option<&str>,
    annotations: &BTreeMap<String, String>,
    labels: &BTreeMap<String, String>,
    extra: &Map<String, Value>,
) -> Map<String, Value> {
    let mut m = Map::new();
    if let Some(n) = name {
        m.insert("name".into(), Value::String(n.into()));
    }
    if let Some(ns) = namespace {
        m.insert("namespace".into(), Value::String(ns.into()));
    }
    put_map(&mut m, "annotations", annotations);
    put_map(&mut m, "labels", labels);
    for (k, v) in extra {
        m.insert(k.clone(), v.clone());
    }
    m
}

impl SecretTemplate {
    fn from_value(v: &Value) -> Result<SecretTemplate, InputError> {
        let obj = as_object(v, "spec.template")?;
        let empty = Map::new();
        let meta = match obj.get("metadata") {
            None | Some(Value::Null) => &empty,
            Some(m) => as_object(m, "spec.template.metadata")?,
        };
        let p = "spec.template.metadata.";
        let mut known_meta = vec!["name", "namespace", "labels", "annotations"];
        known_meta.extend(SERVER_METADATA);
        Ok(SecretTemplate {
            name: opt_str(meta, "name", p)?.filter(|s| !s.is_empty()),
            namespace: opt_str(meta, "namespace", p)?.filter(|s| !s.is_empty()),
            labels: string_map(meta, "labels", p)?,
            annotations: string_map(meta, "annotations", p)?,
            type_: opt_str(obj, "type", "spec.template.")?.filter(|s| !s.is_empty()),
            immutable: match obj.get("immutable") {
                None | Some(Value::Null) => None,
                Some(Value::Bool(b)) => Some(*b),
                Some(_) => {
                    return Err(InputError::WrongType {
                        field: "spec.template.immutable".into(),
                        expected: "a boolean",
                    })
                }
            },
            data: string_map(obj, "data", "spec.template.")?,
            extra_metadata: rest_of(meta, &known_meta),
            extra: rest_of(obj, &["metadata", "type", "immutable", "data"]),
        })
    }

    fn to_value(&self, scope: Scope) -> Map<String, Value> {
        let mut annotations = self.annotations.clone();
        scope.apply_to_annotations(&mut annotations);
        let meta = metadata_value(
            self.name.as_deref(),
            self.namespace.as_deref(),
            &annotations,
            &self.labels,
            &self.extra_metadata,
        );
        let mut t = Map::new();
        if !meta.is_empty() {
            t.insert("metadata".into(), Value::Object(meta));
        }
        if let Some(ty) = &self.type_ {
            t.insert("type".into(), Value::String(ty.clone()));
        }
        if let Some(i) = self.immutable {
            t.insert("immutable".into(), Value::Bool(i));
        }
        put_map(&mut t, "data", &self.data);
        for (k, v) in &self.extra {
            t.insert(k.clone(), v.clone());
        }
        t
    }
}

impl SealedSecret {
    /// Reads an existing SealedSecret document. Unknown fields in `metadata`, `spec`,
    /// `spec.template` and at the top level are kept (server-filled metadata and `status` are
    /// dropped); the scope comes from the top-level metadata annotations.
    pub fn from_value(v: &Value) -> Result<SealedSecret, InputError> {
        check_kind(v, SEALED_SECRET_API_VERSION, SEALED_SECRET_KIND)?;
        let obj = as_object(v, "")?;
        let ObjectMeta {
            name,
            namespace,
            labels,
            annotations,
        } = ObjectMeta::read(obj)?;
        let empty = Map::new();
        let meta = obj
            .get("metadata")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let spec = match obj.get("spec") {
            Some(s @ Value::Object(_)) => as_object(s, "spec")?,
            _ => return Err(InputError::MissingEncryptedData),
        };
        let encrypted_data = match spec.get("encryptedData") {
            None | Some(Value::Null) => {
                if spec.get("data").is_some_and(|d| !d.is_null()) {
                    BTreeMap::new()
                } else {
                    return Err(InputError::MissingEncryptedData);
                }
            }
            Some(_) => string_map(spec, "encryptedData", "spec.")?,
        };
        let template = match spec.get("template") {
            None | Some(Value::Null) => SecretTemplate::default(),
            Some(t) => SecretTemplate::from_value(t)?,
        };
        let mut known_meta = vec!["name", "namespace", "labels", "annotations"];
        known_meta.extend(SERVER_METADATA);
        Ok(SealedSecret {
            scope: Scope::from_annotations(&annotations),
            name,
            namespace,
            labels,
            annotations,
            encrypted_data,
            template,
            extra_metadata: rest_of(meta, &known_meta),
            extra_spec: rest_of(spec, &["encryptedData", "template"]),
            extra: rest_of(obj, &["apiVersion", "kind", "metadata", "spec", "status"]),
        })
    }

    /// The document, in a fixed field order: `apiVersion`, `kind`, `metadata` (`name`,
    /// `namespace`, `annotations`, `labels`), `spec` (`encryptedData` sorted by key, `template`).
    pub fn to_value(&self) -> Value {
        let mut annotations = self.annotations.clone();
        self.scope.apply_to_annotations(&mut annotations);
        let meta = metadata_value(
            Some(&self.name),
            self.namespace.as_deref(),
            &annotations,
            &self.labels,
            &self.extra_metadata,
        );
        let mut spec = Map::new();
        spec.insert(
            "encryptedData".into(),
            Value::Object(
                self.encrypted_data
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                    .collect(),
            ),
        );
        let template = self.template.to_value(self.scope);
        if !template.is_empty() {
            spec.insert("template".into(), Value::Object(template));
        }
        for (k, v) in &self.extra_spec {
            spec.insert(k.clone(), v.clone());
        }
        let mut out = Map::new();
        out.insert("apiVersion".into(), SEALED_SECRET_API_VERSION.into());
        out.insert("kind".into(), SEALED_SECRET_KIND.into());
        out.insert("metadata".into(), Value::Object(meta));
        out.insert("spec".into(), Value::Object(spec));
        for (k, v) in &self.extra {
            out.insert(k.clone(), v.clone());
        }
        Value::Object(out)
    }

    /// How many bytes of `data` the Secret made from this object holds: every sealed value's
    /// plaintext length (from its framing, [`sealed_value_lengths`]; a value that is not in the
    /// format counts its base64 length) plus the template's `data` values as written.
    pub fn secret_data_bytes(&self) -> usize {
        let sealed: usize = self
            .encrypted_data
            .values()
            .map(|value| sealed_value_lengths(value).map_or(value.len(), |(_, plain)| plain))
            .sum();
        sealed + self.template.data.values().map(String::len).sum::<usize>()
    }

    /// The RSA-OAEP label the controller uses for this object's values.
    pub fn label(&self) -> Vec<u8> {
        self.scope
            .label(self.namespace.as_deref().unwrap_or(""), &self.name)
    }

    /// Lays `newer` over `self` (`kubeseal --merge-into`): its encrypted keys replace or join
    /// ours, its template labels, annotations and data are laid over ours; every other key keeps
    /// its ciphertext byte for byte. Refused if name, namespace or scope differ.
    pub fn merge(&mut self, newer: SealedSecret) -> Result<(), InputError> {
        let mismatch = |what, a: String, b: String| InputError::MergeMismatch {
            what,
            existing: a,
            newer: b,
        };
        if self.name != newer.name {
            return Err(mismatch("name", self.name.clone(), newer.name));
        }
        if self.namespace != newer.namespace {
            let show = |n: &Option<String>| n.clone().unwrap_or_else(|| "<none>".into());
            return Err(mismatch(
                "namespace",
                show(&self.namespace),
                show(&newer.namespace),
            ));
        }
        if self.scope != newer.scope {
            return Err(mismatch(
                "scope",
                self.scope.to_string(),
                newer.scope.to_string(),
            ));
        }
        self.encrypted_data.extend(newer.encrypted_data);
        self.template.labels.extend(newer.template.labels);
        self.template.annotations.extend(newer.template.annotations);
        self.template.data.extend(newer.template.data);
        Ok(())
    }

    /// Decrypts every value with the first key that works, as the controller does, and builds
    /// the Secret it would create (owner references aside).
    pub fn unseal(&self, keys: &PrivateKeys) -> Result<UnsealedSecret, DecryptError> {
        if self.extra_spec.get("data").is_some_and(|d| !d.is_null()) {
            return Err(DecryptError::DeprecatedDataField);
        }
        if keys.is_empty() {
            return Err(DecryptError::NoKeys);
        }
        let label = self.label();
        let mut data = BTreeMap::new();
        for (key, value) in &self.encrypted_data {
            let raw = decode_std_base64(value)
                .ok_or_else(|| DecryptError::NotBase64 { key: key.clone() })?;
            let plain =
                hybrid_decrypt_any(keys.keys(), &raw, &label).map_err(|e| DecryptError::Value {
                    key: key.clone(),
                    label: String::from_utf8_lossy(&label).into_owned(),
                    source: Box::new(e),
                })?;
            data.insert(key.clone(), plain);
        }
        for (key, tpl) in &self.template.data {
            if tpl.contains("{{") {
                return Err(DecryptError::TemplatedData { key: key.clone() });
            }
            data.insert(key.clone(), Zeroizing::new(tpl.as_bytes().to_vec()));
        }
        Ok(UnsealedSecret {
            name: self.name.clone(),
            namespace: self.namespace.clone(),
            type_: self.template.type_.clone(),
            immutable: self.template.immutable,
            labels: self.template.labels.clone(),
            annotations: self.template.annotations.clone(),
            data,
        })
    }
}
