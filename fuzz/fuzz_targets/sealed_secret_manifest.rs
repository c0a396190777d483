//! SealedSecret manifests (the repository's sealed files, `unseal` and `--merge-into` input):
//! whatever reads as a SealedSecret is written and must read back the same.
#![no_main]
mod common;

use libfuzzer_sys::fuzz_target;
use std::path::Path;

use dbos_gitops_seal::SealedSecret;

fuzz_target!(|data: &[u8]| {
    let Some(text) = common::text(data) else {
        return;
    };
    let file = Path::new("environments/prod/secrets/x.yaml");
    let Ok(documents) = dbos_gitops::yaml::parse_documents(file, text) else {
        return;
    };
    for document in &documents {
        let Ok(sealed) = SealedSecret::from_value(document) else {
            continue;
        };
        let value = sealed.to_value();
        let written = dbos_gitops::yaml::emit(&value);
        let again = dbos_gitops::yaml::parse_documents(file, &written).unwrap_or_else(|error| {
            panic!("written SealedSecret does not parse: {error}\n{written}")
        });
        assert_eq!(again.len(), 1, "{written}");
        let reread = SealedSecret::from_value(&again[0]).unwrap_or_else(|error| {
            panic!("written SealedSecret does not read: {error}\n{written}")
        });
        assert_eq!(
            reread.to_value(),
            value,
            "round trip changed it:\n{written}"
        );
    }
});
