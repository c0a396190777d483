//! env.yaml: parse, then resolve and render whatever parses.
#![no_main]
mod common;

use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Some(text) = common::text(data) else {
        return;
    };
    let file = "environments/prod/env.yaml";
    match dbos_gitops::declare::parse_env(Path::new(file), text) {
        Ok(spec) => common::resolve_and_render(&common::seed_repo(), spec, common::seed_versions()),
        Err(error) => common::assert_names_file(error, file),
    }
});
