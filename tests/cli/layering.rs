//! The repository is read and written through one layer (#25): the product's code calls the
//! file system itself (`std::fs`, `File`, `OpenOptions`) only in the repository layer
//! (`src/repo/`), the workspace's reader (`src/workspace/tree.rs`), and the few modules that
//! touch files that are not the repository's, each listed here with what those files are. Every
//! other module reads through the workspace (`Workspace::read`, `Tree`) and writes through a
//! plan. Test modules (`#[cfg(test)] mod … { … }`) are not product code and are left out.

use std::path::{Path, PathBuf};

/// The modules outside `src/repo/` that may call the file system, and the files they touch.
const OUTSIDE_THE_REPOSITORY: &[(&str, &str)] = &[
    (
        "src/workspace/tree.rs",
        "the workspace's reader of the repository",
    ),
    (
        "src/limits.rs",
        "bounded reads, for the tree and for files a flag names",
    ),
    (
        "src/check/cache.rs",
        "the render cache, in the user's cache directory",
    ),
    ("src/check/kubectl.rs", "finding `kubectl` on PATH"),
    (
        "src/diff/git.rs",
        "diff's scratch copy of a revision, in a temporary directory",
    ),
    (
        "src/secret_store.rs",
        "development keys' staging files, outside the repository",
    ),
    (
        "src/seal_mac.rs",
        "the value-MAC key file, outside the repository",
    ),
    ("src/manpages.rs", "`man --out DIR`"),
    (
        "src/commands/unseal.rs",
        "`unseal -o FILE`, created private",
    ),
    ("src/commands/conductor.rs", "`--ca-file`"),
    (
        "src/commands/dbos_versions/database.rs",
        "`--database-url-file`",
    ),
];

const RAW: &[&str] = &["std::fs", "File::open", "File::create", "OpenOptions"];

/// `text` without its `#[cfg(test)]` modules (the attribute, `mod name {`, and everything to
/// the brace that closes it).
fn product_code(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("#[cfg(test)]") {
        let after = &rest[at + "#[cfg(test)]".len()..];
        let trimmed = after.trim_start();
        let is_module = trimmed.starts_with("mod ") || trimmed.starts_with("pub mod ");
        let open = trimmed.find('{');
        let semicolon = trimmed.find(';');
        match (is_module, open) {
            (true, Some(open)) if semicolon.is_none_or(|semicolon| open < semicolon) => {
                out.push_str(&rest[..at]);
                let body = &trimmed[open..];
                let mut depth = 0usize;
                let mut end = body.len();
                for (index, character) in body.char_indices() {
                    match character {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                end = index + 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                rest = &body[end..];
            }
            _ => {
                // A test-only item that is not a module: kept (it is rare, and short).
                out.push_str(&rest[..at + "#[cfg(test)]".len()]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The lines of product code in `text` that call the file system themselves, comments aside.
fn raw_calls(text: &str) -> Vec<String> {
    product_code(text)
        .lines()
        .map(str::trim)
        .filter(|line| !line.starts_with("//"))
        .filter(|line| RAW.iter().any(|raw| line.contains(raw)))
        .map(str::to_string)
        .collect()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|extension| extension == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn only_the_repository_layer_and_listed_modules_touch_the_file_system() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    files.sort();
    let mut offenders = Vec::new();
    let mut used = Vec::new();
    for path in &files {
        let relative = path
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let calls = raw_calls(&std::fs::read_to_string(path).unwrap());
        if calls.is_empty() || relative.starts_with("src/repo/") {
            continue;
        }
        if OUTSIDE_THE_REPOSITORY
            .iter()
            .any(|(allowed, _)| *allowed == relative)
        {
            used.push(relative);
            continue;
        }
        offenders.push(format!("{relative}: {}", calls.join(" | ")));
    }
    assert!(
        offenders.is_empty(),
        "read and write the repository through the workspace (Workspace::read, workspace::Tree) \
         and plans; these modules call the file system themselves:\n{}",
        offenders.join("\n")
    );
    // A listed module that no longer touches the file system leaves the list.
    let stale: Vec<&str> = OUTSIDE_THE_REPOSITORY
        .iter()
        .map(|(allowed, _)| *allowed)
        .filter(|allowed| !used.iter().any(|used| used == allowed))
        .collect();
    assert!(stale.is_empty(), "listed but no longer needed: {stale:?}");
}

#[test]
fn the_scan_sees_calls_in_product_code_and_not_in_test_modules() {
    let source = "use std::path::Path;\n\
                  pub fn f(p: &Path) { let _ = std::fs::read(p); }\n\
                  // std::fs::write in a comment\n\
                  #[cfg(test)]\n\
                  mod tests {\n    fn g() { if true { std::fs::write(\"x\", \"{}\").unwrap(); } }\n}\n\
                  pub fn h() { let _ = std::fs::OpenOptions::new(); }\n";
    assert_eq!(
        raw_calls(source),
        [
            "pub fn f(p: &Path) { let _ = std::fs::read(p); }",
            "pub fn h() { let _ = std::fs::OpenOptions::new(); }"
        ]
    );
    assert!(raw_calls("#[cfg(test)]\nmod tests;\nfn a() {}\n").is_empty());
}
