//! dbos-gitops.yaml: parse, then resolve and render whatever parses.
#![no_main]
mod common;

use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Some(text) = common::text(data) else {
        return;
    };
    match dbos_gitops::declare::parse_repo(Path::new("dbos-gitops.yaml"), text) {
        Ok(repo) => common::resolve_and_render(&repo, common::seed_env(), common::seed_versions()),
        Err(error) => common::assert_names_file(error, "dbos-gitops.yaml"),
    }
});
