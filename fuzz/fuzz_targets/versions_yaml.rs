//! versions.yaml: parse, then resolve and render whatever parses.
#![no_main]
mod common;

use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Some(text) = common::text(data) else {
        return;
    };
    let file = "environments/prod/versions.yaml";
    match dbos_gitops::declare::parse_versions(Path::new(file), text) {
        Ok(versions) => {
            common::resolve_and_render(&common::seed_repo(), common::seed_env(), versions)
        }
        Err(error) => common::assert_names_file(error, file),
    }
});
