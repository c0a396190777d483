//! Secret manifests as `seal` and `secrets` read them from stdin; whatever parses is written as a
//! Secret again and must read back with the same names and values.
#![no_main]
mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(text) = common::text(data) else {
        return;
    };
    let Ok(inputs) = dbos_gitops::secret_store::parse_secret_inputs("stdin", text) else {
        return;
    };
    let values: Vec<_> = inputs.iter().map(|input| input.to_value()).collect();
    let written = dbos_gitops::yaml::emit_documents(&values);
    let again = dbos_gitops::secret_store::parse_secret_inputs("stdin", &written)
        .unwrap_or_else(|error| panic!("written Secrets do not parse: {error}"));
    assert_eq!(again.len(), inputs.len());
    for (one, other) in inputs.iter().zip(&again) {
        assert_eq!(one.name, other.name);
        assert_eq!(one.namespace, other.namespace);
        let keys: Vec<_> = one.data.keys().collect();
        let other_keys: Vec<_> = other.data.keys().collect();
        assert_eq!(keys, other_keys);
        for (key, value) in &one.data {
            assert!(
                other.data[key].as_slice() == value.as_slice(),
                "value of `{key}` changed"
            );
        }
    }
});
