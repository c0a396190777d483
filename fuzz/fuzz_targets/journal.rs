//! The journal `.dbos-gitops-journal` (a file in the tree, so anyone can write one): read it;
//! whatever reads encodes and reads back the same, and no step of it names `.git` or leaves
//! the repository.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::{Component, Path};

use dbos_gitops::repo::journal::{self, Step};

fuzz_target!(|data: &[u8]| {
    let Ok((journal, mac)) = journal::parse(data) else {
        return;
    };
    for step in &journal.steps {
        let paths: Vec<&str> = match step {
            Step::Rename { staged, target, .. } => vec![staged, target],
            Step::Remove { path, .. } => vec![path],
        };
        for path in paths {
            let components: Vec<Component> = Path::new(path).components().collect();
            assert!(
                !components.iter().any(|component| matches!(component, Component::ParentDir)
                    || component.as_os_str().eq_ignore_ascii_case(".git")),
                "accepted {path:?}"
            );
        }
        if let Step::Remove { path, .. } = step {
            assert!(!Path::new(path).is_absolute(), "accepted removal {path:?}");
        }
    }
    let encoded = journal::encode(&journal, &mac);
    let (again, mac_again) = journal::parse(&encoded)
        .unwrap_or_else(|error| panic!("an encoded journal does not read: {error}"));
    assert_eq!((again, mac_again), (journal, mac));
});
