//! dex-users.yaml: parse; whatever parses is written back (as `dex add-user` does) and must
//! read back as the same users.
#![no_main]
mod common;

use libfuzzer_sys::fuzz_target;
use std::path::Path;

use dbos_gitops::declare;

fuzz_target!(|data: &[u8]| {
    let Some(text) = common::text(data) else {
        return;
    };
    let file = Path::new("environments/prod/dex-users.yaml");
    match declare::parse_dex_users(file, text) {
        Ok(users) => {
            let written = declare::dex_users_file_text(&users);
            let again = declare::parse_dex_users(file, &written)
                .unwrap_or_else(|error| panic!("written users do not parse: {error}\n{written}"));
            assert_eq!(again, users, "round trip changed the users:\n{written}");
        }
        Err(error) => common::assert_names_file(error, "dex-users.yaml"),
    }
});
