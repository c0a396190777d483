//! Reading a plain Kubernetes `Secret` document into what sealing needs, and the error type for
//! everything that can be wrong with input documents.
//!
//! `kubeseal` decodes its input into a `v1.Secret`, whose `data` values are standard padded
//! base64 (Go's JSON decoding of `[]byte`, which tolerates line breaks) and whose `stringData`
//! values are plain strings; it seals `data` first and `stringData` after, so a key present in
//! both ends up with the `stringData` value. We do the same, but check more than Go's lenient
//! decoder: the document must be `apiVersion: v1`, `kind: Secret`, and every value must be a
//! string. Plaintext is held in [`Zeroizing`] buffers and never printed: [`SecretDocument`]
//! deserializes a manifest straight from the parser's events, putting each `data` and
//! `stringData` value into its own zeroizing buffer, so no plaintext passes through a
//! `serde_json::Value` (which would free its strings without clearing them).

use std::collections::BTreeMap;

use base64::Engine;
use serde_json::{Map, Value};
use zeroize::Zeroizing;

/// Something is wrong with an input document, or with what was asked of it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// The document is not a mapping.
    #[error("the document is not a mapping")]
    NotAnObject,
    /// `apiVersion`/`kind` are not what was expected.
    #[error("expected `{expected}` but the document is `{found}`")]
    WrongKind { expected: String, found: String },
    /// A field has the wrong JSON type.
    #[error("`{field}` must be {expected}")]
    WrongType {
        field: String,
        expected: &'static str,
    },
    /// `metadata.name` is missing or empty.
    #[error("`metadata.name` is missing")]
    MissingName,
    /// A `data` value is not base64.
    #[error("`data.{key}` is not valid base64")]
    InvalidBase64 { key: String },
    /// Neither `data` nor `stringData` holds anything.
    #[error("the secret `{name}` has no `data` or `stringData`")]
    EmptyData { name: String },
    /// The explicit namespace contradicts the input's.
    #[error("namespace mismatch: the secret is in namespace `{input}` but `{explicit}` was given")]
    NamespaceMismatch { input: String, explicit: String },
    /// No namespace, and the scope needs one.
    #[error("the secret `{name}` has no namespace, which {scope} scope needs")]
    MissingNamespace {
        name: String,
        scope: crate::scope::Scope,
    },
    /// A raw value was sealed without the name the scope needs.
    #[error("sealing a raw value with strict scope needs a name")]
    MissingRawName,
    /// A raw value was sealed without the namespace the scope needs.
    #[error("sealing a raw value with {scope} scope needs a namespace")]
    MissingRawNamespace { scope: crate::scope::Scope },
    /// Merging SealedSecrets that do not describe the same secret.
    #[error("cannot merge: the {what} differs (`{existing}` vs `{newer}`)")]
    MergeMismatch {
        what: &'static str,
        existing: String,
        newer: String,
    },
    /// The SealedSecret has no `spec.encryptedData`.
    #[error("`spec.encryptedData` is missing")]
    MissingEncryptedData,
}

impl InputError {
    /// How to fix the input.
    pub fn hint(&self) -> Option<String> {
        match self {
            InputError::WrongKind { expected, .. } => Some(format!(
                "pass a `{expected}` document; generate one with `kubectl create secret generic \
                 NAME --from-literal=KEY=VALUE --dry-run=client -o yaml`"
            )),
            InputError::InvalidBase64 { .. } => Some(
                "`data` values must be standard base64; put plain text under `stringData` instead"
                    .into(),
            ),
            InputError::EmptyData { .. } => {
                Some("add keys to `data` or `stringData`, or allow empty data explicitly".into())
            }
            InputError::NamespaceMismatch { .. } => Some(
                "drop the explicit namespace, or change `metadata.namespace` of the input".into(),
            ),
            InputError::MissingNamespace { .. } => {
                Some("set `metadata.namespace`, pass a namespace, or use cluster-wide scope".into())
            }
            InputError::MissingRawName => Some("pass the secret's name".into()),
            InputError::MissingRawNamespace { .. } => {
                Some("pass the namespace, or use cluster-wide scope".into())
            }
            InputError::MergeMismatch { .. } => {
                Some("merge only into a SealedSecret for the same name, namespace and scope".into())
            }
            InputError::MissingName => Some("set `metadata.name`".into()),
            _ => None,
        }
    }
}

/// A plain `Secret` to be sealed.
#[derive(Clone, Default)]
pub struct SecretInput {
    pub name: String,
    pub namespace: Option<String>,
    pub type_: Option<String>,
    pub immutable: Option<bool>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub data: BTreeMap<String, Zeroizing<Vec<u8>>>,
}

impl std::fmt::Debug for SecretInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let data: BTreeMap<&str, String> = self
            .data
            .iter()
            .map(|(k, v)| (k.as_str(), format!("<redacted, {} bytes>", v.len())))
            .collect();
        f.debug_struct("SecretInput")
            .field("name", &self.name)
            .field("namespace", &self.namespace)
            .field("type_", &self.type_)
            .field("immutable", &self.immutable)
            .field("labels", &self.labels)
            .field("annotations", &self.annotations)
            .field("data", &data)
            .finish()
    }
}

/// The part of `metadata` both Secrets and SealedSecrets are read for.
pub(crate) struct ObjectMeta {
    pub name: String,
    pub namespace: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
}

impl ObjectMeta {
    /// Reads `metadata` of an object: a non-empty name is required, an empty namespace is none.
    pub(crate) fn read(obj: &Map<String, Value>) -> Result<ObjectMeta, InputError> {
        let empty = Map::new();
        let meta = match obj.get("metadata") {
            None | Some(Value::Null) => &empty,
            Some(m) => as_object(m, "metadata")?,
        };
        Ok(ObjectMeta {
            name: opt_str(meta, "name", "metadata.")?
                .filter(|n| !n.is_empty())
                .ok_or(InputError::MissingName)?,
            namespace: opt_str(meta, "namespace", "metadata.")?.filter(|n| !n.is_empty()),
            labels: string_map(meta, "labels", "metadata.")?,
            annotations: string_map(meta, "annotations", "metadata.")?,
        })
    }
}

pub(crate) fn as_object<'a>(
    v: &'a Value,
    field: &str,
) -> Result<&'a Map<String, Value>, InputError> {
    v.as_object().ok_or_else(|| InputError::WrongType {
        field: field.to_string(),
        expected: "a mapping",
    })
}

/// An optional string field; `null` counts as absent.
pub(crate) fn opt_str(
    obj: &Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<String>, InputError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(InputError::WrongType {
            field: format!("{path}{key}"),
            expected: "a string",
        }),
    }
}

/// An optional `string -> string` map; `null` counts as empty.
pub(crate) fn string_map(
    obj: &Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<BTreeMap<String, String>, InputError> {
    let mut out = BTreeMap::new();
    match obj.get(key) {
        None | Some(Value::Null) => {}
        Some(Value::Object(m)) => {
            for (k, v) in m {
                let s = v.as_str().ok_or_else(|| InputError::WrongType {
                    field: format!("{path}{key}.{k}"),
                    expected: "a string",
                })?;
                out.insert(k.clone(), s.to_string());
            }
        }
        Some(_) => {
            return Err(InputError::WrongType {
                field: format!("{path}{key}"),
                expected: "a mapping",
            })
        }
    }
    Ok(out)
}

pub(crate) fn check_kind(v: &Value, api_version: &str, kind: &str) -> Result<(), InputError> {
    let obj = v.as_object().ok_or(InputError::NotAnObject)?;
    let found_api = obj.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let found_kind = obj.get("kind").and_then(Value::as_str).unwrap_or("");
    if found_api != api_version || found_kind != kind {
        let show = |s: &str| {
            if s.is_empty() {
                "<missing>".to_string()
            } else {
                s.to_string()
            }
        };
        return Err(InputError::WrongKind {
            expected: format!("{api_version} {kind}"),
            found: format!("{} {}", show(found_api), show(found_kind)),
        });
    }
    Ok(())
}

/// Decodes base64 the way Go's `encoding/json` decodes `[]byte`: standard alphabet with
/// padding; line breaks are ignored.
pub(crate) fn decode_std_base64(s: &str) -> Option<Zeroizing<Vec<u8>>> {
    let cleaned: Zeroizing<String> =
        Zeroizing::new(s.chars().filter(|c| *c != '\n' && *c != '\r').collect());
    base64::engine::general_purpose::STANDARD
        .decode(cleaned.as_bytes())
        .ok()
        .map(Zeroizing::new)
}

impl SecretInput {
    /// A `v1` `Secret` document with base64 `data` (the returned value holds plaintext; do not
    /// log it).
    pub fn to_value(&self) -> Value {
        use base64::Engine as _;
        let mut meta = Map::new();
        meta.insert("name".into(), Value::String(self.name.clone()));
        if let Some(ns) = &self.namespace {
            meta.insert("namespace".into(), Value::String(ns.clone()));
        }
        for (key, m) in [("annotations", &self.annotations), ("labels", &self.labels)] {
            if !m.is_empty() {
                meta.insert(
                    key.into(),
                    Value::Object(
                        m.iter()
                            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                            .collect(),
                    ),
                );
            }
        }
        let mut out = Map::new();
        out.insert("apiVersion".into(), "v1".into());
        out.insert("kind".into(), "Secret".into());
        out.insert("metadata".into(), Value::Object(meta));
        if let Some(t) = &self.type_ {
            out.insert("type".into(), Value::String(t.clone()));
        }
        if let Some(i) = self.immutable {
            out.insert("immutable".into(), Value::Bool(i));
        }
        let data = self
            .data
            .iter()
            .map(|(k, v)| {
                let encoded = base64::engine::general_purpose::STANDARD.encode(v.as_slice());
                (k.clone(), Value::String(encoded))
            })
            .collect();
        out.insert("data".into(), Value::Object(data));
        Value::Object(out)
    }

    /// Reads one parsed `Secret` document. For untrusted text prefer deserializing a
    /// [`SecretDocument`]: a `Value` already holds the plaintext in unzeroized strings.
    pub fn from_value(v: &Value) -> Result<SecretInput, InputError> {
        let document: SecretDocument =
            serde::Deserialize::deserialize(v).map_err(|_| InputError::NotAnObject)?;
        SecretInput::from_document(&document)
    }

    /// Reads one `Secret` document whose values are in zeroizing buffers.
    pub fn from_document(document: &SecretDocument) -> Result<SecretInput, InputError> {
        let SecretDocument::Object {
            fields,
            data: data_field,
            string_data,
            ..
        } = document
        else {
            return Err(InputError::NotAnObject);
        };
        let v = &Value::Object(fields.clone());
        check_kind(v, "v1", "Secret")?;
        let obj = fields;
        let ObjectMeta {
            name,
            namespace,
            labels,
            annotations,
        } = ObjectMeta::read(obj)?;
        let type_ = opt_str(obj, "type", "")?.filter(|t| !t.is_empty());
        let immutable = match obj.get("immutable") {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => {
                return Err(InputError::WrongType {
                    field: "immutable".into(),
                    expected: "a boolean",
                })
            }
        };

        let mut data = BTreeMap::new();
        match data_field {
            PlainField::Absent => {}
            PlainField::Map(entries) => {
                for (k, v) in entries {
                    let PlainValue::Text(s) = v else {
                        return Err(InputError::WrongType {
                            field: format!("data.{k}"),
                            expected: "a base64 string",
                        });
                    };
                    let bytes = decode_std_base64(s)
                        .ok_or_else(|| InputError::InvalidBase64 { key: k.clone() })?;
                    data.insert(k.clone(), bytes);
                }
            }
            PlainField::NotAMap => {
                return Err(InputError::WrongType {
                    field: "data".into(),
                    expected: "a mapping",
                })
            }
        }
        match string_data {
            PlainField::Absent => {}
            PlainField::Map(entries) => {
                for (k, v) in entries {
                    let PlainValue::Text(s) = v else {
                        return Err(InputError::WrongType {
                            field: format!("stringData.{k}"),
                            expected: "a string",
                        });
                    };
                    data.insert(k.clone(), Zeroizing::new(s.as_bytes().to_vec()));
                }
            }
            PlainField::NotAMap => {
                return Err(InputError::WrongType {
                    field: "stringData".into(),
                    expected: "a mapping",
                })
            }
        }

        Ok(SecretInput {
            name,
            namespace,
            type_,
            immutable,
            labels,
            annotations,
            data,
        })
    }
}

/// One input document read for sealing: a mapping whose `data` and `stringData` values are each
/// in a [`Zeroizing`] buffer and whose other fields (not secret) are JSON values; or anything
/// else, which is not a Secret. A `kind: List` keeps its `items` as documents of the same kind.
///
/// Deserialize it from the parser (`serde_yaml::Deserializer`), not from a `Value`, to keep
/// plaintext out of unzeroized strings.
pub enum SecretDocument {
    /// A YAML `null` or empty document (skipped in a stream).
    Null,
    /// Not a mapping.
    Other,
    Object {
        /// Every field but `data`, `stringData` and (when a sequence) `items`.
        fields: Map<String, Value>,
        data: PlainField,
        string_data: PlainField,
        items: Option<Vec<SecretDocument>>,
    },
}

impl SecretDocument {
    /// The documents this one stands for: the items of a `kind: List`, else itself.
    pub fn unpack_list(self) -> Vec<SecretDocument> {
        match self {
            SecretDocument::Object {
                fields,
                items: Some(items),
                ..
            } if fields.get("kind").and_then(Value::as_str) == Some("List") => items,
            other => vec![other],
        }
    }
}

/// `data` or `stringData`.
pub enum PlainField {
    Absent,
    Map(Vec<(String, PlainValue)>),
    NotAMap,
}

/// One value of `data` or `stringData`.
pub enum PlainValue {
    Text(Zeroizing<String>),
    /// Not a string (a number, a mapping, ...): an error when read.
    NotText,
}

impl<'de> serde::Deserialize<'de> for SecretDocument {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(DocumentVisitor)
    }
}

struct DocumentVisitor;

/// Accepts any other shape as "not this kind", consuming nested collections.
macro_rules! other_shapes {
    ($other:expr) => {
        fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok($other)
        }
        fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok($other)
        }
        fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok($other)
        }
        fn visit_i128<E: serde::de::Error>(self, _: i128) -> Result<Self::Value, E> {
            Ok($other)
        }
        fn visit_u128<E: serde::de::Error>(self, _: u128) -> Result<Self::Value, E> {
            Ok($other)
        }
        fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok($other)
        }
        fn visit_bytes<E: serde::de::Error>(self, _: &[u8]) -> Result<Self::Value, E> {
            Ok($other)
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> Result<Self::Value, A::Error> {
            while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
            Ok($other)
        }
        fn visit_enum<A: serde::de::EnumAccess<'de>>(
            self,
            data: A,
        ) -> Result<Self::Value, A::Error> {
            use serde::de::VariantAccess as _;
            let (serde::de::IgnoredAny, variant) = data.variant()?;
            variant.newtype_variant::<serde::de::IgnoredAny>()?;
            Ok($other)
        }
    };
}

impl<'de> serde::de::Visitor<'de> for DocumentVisitor {
    type Value = SecretDocument;

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("a Secret manifest")
    }

    other_shapes!(SecretDocument::Other);

    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(SecretDocument::Other)
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(SecretDocument::Null)
    }
    fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(SecretDocument::Null)
    }
    fn visit_some<D: serde::Deserializer<'de>>(self, inner: D) -> Result<Self::Value, D::Error> {
        inner.deserialize_any(self)
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut fields = Map::new();
        let mut data = PlainField::Absent;
        let mut string_data = PlainField::Absent;
        let mut items = None;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "data" => data = map.next_value::<PlainField>()?,
                "stringData" => string_data = map.next_value::<PlainField>()?,
                "items" => match map.next_value::<Items>()? {
                    Items::Documents(documents) => items = Some(documents),
                    Items::Other(value) => {
                        fields.insert(key, value);
                    }
                },
                _ => {
                    let value = map.next_value::<Value>()?;
                    fields.insert(key, value);
                }
            }
        }
        Ok(SecretDocument::Object {
            fields,
            data,
            string_data,
            items,
        })
    }
}

/// A List's `items`: documents when a sequence, else kept as a (non-secret) value.
enum Items {
    Documents(Vec<SecretDocument>),
    Other(Value),
}

impl<'de> serde::Deserialize<'de> for Items {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ItemsVisitor;
        impl<'de> serde::de::Visitor<'de> for ItemsVisitor {
            type Value = Items;
            fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
                formatter.write_str("a list of manifests")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Items, A::Error> {
                let mut documents = Vec::new();
                while let Some(document) = seq.next_element::<SecretDocument>()? {
                    documents.push(document);
                }
                Ok(Items::Documents(documents))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Items, A::Error> {
                while map
                    .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                    .is_some()
                {}
                Ok(Items::Other(Value::Object(Map::new())))
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Items, E> {
                Ok(Items::Other(Value::String(text.to_owned())))
            }
            fn visit_bool<E: serde::de::Error>(self, flag: bool) -> Result<Items, E> {
                Ok(Items::Other(Value::Bool(flag)))
            }
            fn visit_i64<E: serde::de::Error>(self, number: i64) -> Result<Items, E> {
                Ok(Items::Other(number.into()))
            }
            fn visit_u64<E: serde::de::Error>(self, number: u64) -> Result<Items, E> {
                Ok(Items::Other(number.into()))
            }
            fn visit_f64<E: serde::de::Error>(self, number: f64) -> Result<Items, E> {
                Ok(Items::Other(number.into()))
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<Items, E> {
                Ok(Items::Other(Value::Null))
            }
            fn visit_none<E: serde::de::Error>(self) -> Result<Items, E> {
                Ok(Items::Other(Value::Null))
            }
            fn visit_some<D: serde::Deserializer<'de>>(self, inner: D) -> Result<Items, D::Error> {
                inner.deserialize_any(self)
            }
        }
        deserializer.deserialize_any(ItemsVisitor)
    }
}

impl<'de> serde::Deserialize<'de> for PlainField {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FieldVisitor;
        impl<'de> serde::de::Visitor<'de> for FieldVisitor {
            type Value = PlainField;
            fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
                formatter.write_str("a mapping of secret values")
            }
            other_shapes!(PlainField::NotAMap);
            fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<PlainField, E> {
                Ok(PlainField::NotAMap)
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<PlainField, E> {
                Ok(PlainField::Absent)
            }
            fn visit_none<E: serde::de::Error>(self) -> Result<PlainField, E> {
                Ok(PlainField::Absent)
            }
            fn visit_some<D: serde::Deserializer<'de>>(
                self,
                inner: D,
            ) -> Result<PlainField, D::Error> {
                inner.deserialize_any(self)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<PlainField, A::Error> {
                let mut entries: Vec<(String, PlainValue)> = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    let value = map.next_value::<PlainValue>()?;
                    // Like serde_json's map: a repeated key keeps the last value (the YAML
                    // reader refuses repeated keys before this).
                    entries.retain(|(existing, _)| existing != &key);
                    entries.push((key, value));
                }
                Ok(PlainField::Map(entries))
            }
        }
        deserializer.deserialize_any(FieldVisitor)
    }
}

impl<'de> serde::Deserialize<'de> for PlainValue {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ValueVisitor;
        impl<'de> serde::de::Visitor<'de> for ValueVisitor {
            type Value = PlainValue;
            fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
                formatter.write_str("a secret value")
            }
            other_shapes!(PlainValue::NotText);
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<PlainValue, A::Error> {
                while map
                    .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                    .is_some()
                {}
                Ok(PlainValue::NotText)
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<PlainValue, E> {
                Ok(PlainValue::NotText)
            }
            fn visit_none<E: serde::de::Error>(self) -> Result<PlainValue, E> {
                Ok(PlainValue::NotText)
            }
            fn visit_some<D: serde::Deserializer<'de>>(
                self,
                inner: D,
            ) -> Result<PlainValue, D::Error> {
                inner.deserialize_any(self)
            }
            // The parser lends the scalar: copied once, into the zeroizing buffer.
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<PlainValue, E> {
                let mut buffer = Zeroizing::new(String::with_capacity(text.len()));
                buffer.push_str(text);
                Ok(PlainValue::Text(buffer))
            }
            // An owned string is moved, not copied.
            fn visit_string<E: serde::de::Error>(self, text: String) -> Result<PlainValue, E> {
                Ok(PlainValue::Text(Zeroizing::new(text)))
            }
        }
        deserializer.deserialize_any(ValueVisitor)
    }
}
