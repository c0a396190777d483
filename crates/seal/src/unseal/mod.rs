//! The result of unsealing: the Secret the controller would create from a SealedSecret.
//!
//! Upstream `Unseal` copies the template's metadata, `type` and `immutable`, then forces the
//! Secret's name and namespace to the SealedSecret's own and adds an owner reference back to it
//! (we have no UID, so we leave that out). Plaintext stays in [`Zeroizing`] buffers until
//! [`UnsealedSecret::to_value`] renders it as base64.

pub mod keys;

use std::collections::BTreeMap;

use base64::Engine;
use serde_json::{Map, Value};
use zeroize::Zeroizing;

/// A decrypted Secret.
#[derive(Clone)]
pub struct UnsealedSecret {
    pub name: String,
    pub namespace: Option<String>,
    pub type_: Option<String>,
    pub immutable: Option<bool>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub data: BTreeMap<String, Zeroizing<Vec<u8>>>,
}

impl std::fmt::Debug for UnsealedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UnsealedSecret")
            .field("name", &self.name)
            .field("namespace", &self.namespace)
            .field("type_", &self.type_)
            .field("keys", &self.data.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl UnsealedSecret {
    /// A `v1` `Secret` document with base64 `data` (the returned value holds plaintext; do not
    /// log it).
    pub fn to_value(&self) -> Value {
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
        out.insert(
            "data".into(),
            Value::Object(
                self.data
                    .iter()
                    .map(|(k, v)| {
                        (
                            k.clone(),
                            Value::String(base64::engine::general_purpose::STANDARD.encode(v)),
                        )
                    })
                    .collect(),
            ),
        );
        Value::Object(out)
    }
}
