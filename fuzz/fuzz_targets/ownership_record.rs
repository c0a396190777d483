//! The ownership record `.dbos-gitops.sha256`: parse; whatever parses renders and reads back
//! the same.
#![no_main]
mod common;

use libfuzzer_sys::fuzz_target;
use std::path::Path;

use dbos_gitops::repo::ownership;

fuzz_target!(|data: &[u8]| {
    let Some(text) = common::text(data) else {
        return;
    };
    let file = Path::new(".dbos-gitops.sha256");
    if let Ok(record) = ownership::parse(file, text) {
        let rendered = ownership::render(&record);
        let again = ownership::parse(file, &rendered)
            .unwrap_or_else(|error| panic!("rendered record does not parse: {error}\n{rendered}"));
        assert_eq!(again, record, "round trip changed the record:\n{rendered}");
    }
});
