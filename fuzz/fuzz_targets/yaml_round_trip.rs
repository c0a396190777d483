//! The emitter against the parser: whatever parses, emitted, reads back as the same documents.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Some(text) = std::str::from_utf8(data).ok() else {
        return;
    };
    let Ok(documents) = dbos_gitops::yaml::parse_documents(Path::new("x"), text) else {
        return;
    };
    for document in documents {
        let emitted = dbos_gitops::yaml::emit(&document);
        let again = dbos_gitops::yaml::parse_documents(Path::new("x"), &emitted)
            .unwrap_or_else(|error| panic!("emitted YAML does not parse: {error}\n{emitted}"));
        assert_eq!(again, vec![document], "round trip changed it:\n{emitted}");
    }
});
