//! Refusing a repeated mapping key, which `serde_yaml` would resolve silently to the last.

use std::path::Path;

use crate::error::Error;

use super::errors::declaration_error;
use super::guard::{guard, Kind};

/// Refuses a mapping that repeats a key (`stringData: {k: a, k: b}` would silently keep the
/// last), naming the document. Walks the documents without keeping any scalar but mapping keys,
/// so secret values are not copied into unzeroized strings.
pub fn refuse_duplicate_keys(path: &Path, text: &str) -> Result<(), Error> {
    guard(path, text, Kind::Manifests)?;
    for document in serde_yaml::Deserializer::from_str(text) {
        if let Err(source) = serde::de::DeserializeSeed::deserialize(UniqueKeys, document) {
            if source.to_string().contains("duplicate entry") {
                return Err(declaration_error(path, &source));
            }
            // Any other error is the parser's to report; and after a syntax error serde_yaml's
            // document iterator yields the same error forever, so stop at the first.
            break;
        }
    }
    Ok(())
}

/// Visits a document, failing on the first mapping that repeats a scalar key.
struct UniqueKeys;

impl<'de> serde::de::DeserializeSeed<'de> for UniqueKeys {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

/// A mapping key as text when it is a scalar (what the duplicate check compares).
struct KeyText;

impl<'de> serde::de::DeserializeSeed<'de> for KeyText {
    type Value = Option<String>;
    fn deserialize<D: serde::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Option<String>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for KeyText {
    type Value = Option<String>;
    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("a mapping key")
    }
    // Tagged by type, as serde_yaml compares keys: `1` and `"1"` are different keys.
    fn visit_bool<E: serde::de::Error>(self, value: bool) -> Result<Self::Value, E> {
        Ok(Some(format!("b{value}")))
    }
    fn visit_i64<E: serde::de::Error>(self, value: i64) -> Result<Self::Value, E> {
        Ok(Some(format!("n{value}")))
    }
    fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<Self::Value, E> {
        Ok(Some(format!("n{value}")))
    }
    fn visit_f64<E: serde::de::Error>(self, value: f64) -> Result<Self::Value, E> {
        Ok(Some(format!("f{value}")))
    }
    fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<Self::Value, E> {
        Ok(Some(format!("s{value}")))
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(Some("~".to_string()))
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, items: A) -> Result<Self::Value, A::Error> {
        serde::de::Visitor::visit_seq(UniqueKeys, items).map(|()| None)
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, entries: A) -> Result<Self::Value, A::Error> {
        serde::de::Visitor::visit_map(UniqueKeys, entries).map(|()| None)
    }
    fn visit_enum<A: serde::de::EnumAccess<'de>>(self, data: A) -> Result<Self::Value, A::Error> {
        serde::de::Visitor::visit_enum(UniqueKeys, data).map(|()| None)
    }
}

impl<'de> serde::de::Visitor<'de> for UniqueKeys {
    type Value = ();
    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("any YAML value")
    }
    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_i128<E: serde::de::Error>(self, _: i128) -> Result<(), E> {
        Ok(())
    }
    fn visit_u128<E: serde::de::Error>(self, _: u128) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_bytes<E: serde::de::Error>(self, _: &[u8]) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_none<E: serde::de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_some<D: serde::Deserializer<'de>>(self, inner: D) -> Result<(), D::Error> {
        inner.deserialize_any(self)
    }
    fn visit_newtype_struct<D: serde::Deserializer<'de>>(self, inner: D) -> Result<(), D::Error> {
        inner.deserialize_any(self)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut items: A) -> Result<(), A::Error> {
        while items.next_element_seed(UniqueKeys)?.is_some() {}
        Ok(())
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut entries: A) -> Result<(), A::Error> {
        let mut seen = std::collections::HashSet::new();
        while let Some(key) = entries.next_key_seed(KeyText)? {
            if let Some(key) = key {
                if !seen.insert(key.clone()) {
                    // serde_yaml's own wording, with the location it adds.
                    let shown = key.get(1..).unwrap_or("null");
                    return Err(serde::de::Error::custom(format!(
                        "duplicate entry with key {shown:?}"
                    )));
                }
            }
            entries.next_value_seed(UniqueKeys)?;
        }
        Ok(())
    }
    fn visit_enum<A: serde::de::EnumAccess<'de>>(self, data: A) -> Result<(), A::Error> {
        use serde::de::VariantAccess as _;
        let (serde::de::IgnoredAny, variant) = data.variant()?;
        variant.newtype_variant_seed(UniqueKeys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_key_scan_stops_at_a_syntax_error() {
        // An unterminated flow sequence once made the scan loop forever.
        assert!(refuse_duplicate_keys(Path::new("stdin"), "kind: [\n").is_ok());
        assert!(refuse_duplicate_keys(Path::new("stdin"), "a: 1\na: 2\n").is_err());
        // Keys compare as serde_yaml compares them: by type and value, at any depth.
        assert!(refuse_duplicate_keys(Path::new("stdin"), "1: a\n\"1\": b\n").is_ok());
        let error = refuse_duplicate_keys(Path::new("stdin"), "- {x: [{k: 1, k: 2}]}\n")
            .unwrap_err()
            .report();
        assert!(
            error.contains("duplicate entry with key \"k\"") && error.contains("stdin:1:"),
            "{error}"
        );
    }
}
