//! The digests of the sealed ciphertexts on disk, per secret and key, that the model carries so
//! `render::rollout` can roll exactly the pods whose secret values changed. Read by the loader;
//! only ciphertexts are digested, never values.

use std::collections::BTreeMap;

/// Per sealed secret (its `metadata.name`), per key: SHA-256 of the key's sealed value. A file
/// that is not a readable SealedSecret digests as a whole under the key `""`, so editing it
/// still changes the annotation. Pure: the loader passes the file's bytes.
pub fn sealed_digests(file_stem: &str, bytes: &[u8]) -> (String, BTreeMap<String, String>) {
    let digest = crate::layout::digest;
    let parsed = std::str::from_utf8(bytes)
        .ok()
        .and_then(|text| crate::yaml::parse_documents(std::path::Path::new(file_stem), text).ok());
    if let Some([document]) = parsed.as_deref() {
        if let Some(data) = document["spec"]["encryptedData"].as_object() {
            let name = document["metadata"]["name"]
                .as_str()
                .unwrap_or(file_stem)
                .to_string();
            let keys = data
                .iter()
                .map(|(key, value)| {
                    let ciphertext = value.as_str().unwrap_or_default();
                    (key.clone(), digest(ciphertext.as_bytes()))
                })
                .collect();
            return (name, keys);
        }
    }
    (
        file_stem.to_string(),
        BTreeMap::from([(String::new(), digest(bytes))]),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_digests_are_per_key_and_unreadable_files_digest_whole() {
        let text = "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: conductor-db\nspec:\n  encryptedData:\n    a: AAAA\n    b: BBBB\n";
        let (name, keys) = sealed_digests("conductor-db", text.as_bytes());
        assert_eq!(name, "conductor-db");
        assert_eq!(keys.len(), 2);
        assert_ne!(keys["a"], keys["b"]);
        let (name, keys) = sealed_digests("broken", b": not yaml: [");
        assert_eq!(name, "broken");
        assert_eq!(keys.keys().collect::<Vec<_>>(), [""]);
    }
}
