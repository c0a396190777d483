//! Helpers shared by the integration tests: fixture loading, a tiny YAML reader for the Go
//! fixtures (the crate deliberately has no YAML dependency), and thin wrappers over the shared
//! bridge to the independent Python decrypter (crates/test-support).
#![allow(dead_code)]

use dbos_gitops_seal::{PrivateKeys, SealingCert};
use serde_json::{Map, Value};

pub const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/fixtures/sealed-secrets-go"
);

pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{FIXTURES}/{name}");
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

/// A moment inside the fixture certificate's validity (one day after its notBefore), so the
/// tests do not depend on the machine's clock.
pub fn inside_fixture_validity() -> i64 {
    // notBefore of go-cert.pem: 2026-11-27T05:14:02Z
    1_795_756_442 + 86_400
}

pub fn go_cert() -> SealingCert {
    SealingCert::from_pem_at(&fixture("go-cert.pem"), inside_fixture_validity())
        .expect("fixture certificate loads")
}

pub fn go_keys() -> PrivateKeys {
    PrivateKeys::from_pem(&fixture("go-key.pem")).expect("fixture key loads")
}

/// Parses the small YAML subset the Go fixtures use: nested block mappings whose leaves are
/// plain or double-quoted scalars.
pub fn mini_yaml(text: &str) -> Value {
    let lines: Vec<(usize, &str)> = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#') && l.trim() != "---")
        .map(|l| (l.len() - l.trim_start().len(), l.trim()))
        .collect();
    let (v, used) = parse_block(&lines, 0, 0);
    assert_eq!(used, lines.len(), "mini_yaml: unparsed lines");
    v
}

fn parse_block(lines: &[(usize, &str)], mut i: usize, indent: usize) -> (Value, usize) {
    let mut map = Map::new();
    while i < lines.len() && lines[i].0 == indent {
        let (key, rest) = lines[i]
            .1
            .split_once(':')
            .expect("mini_yaml: `key: value` line");
        let rest = rest.trim();
        i += 1;
        if rest.is_empty() {
            let child_indent = lines.get(i).map(|l| l.0).unwrap_or(0);
            assert!(child_indent > indent, "mini_yaml: empty mapping for {key}");
            let (child, next) = parse_block(lines, i, child_indent);
            map.insert(key.to_string(), child);
            i = next;
        } else {
            let s = rest
                .strip_prefix('"')
                .and_then(|r| r.strip_suffix('"'))
                .unwrap_or(rest);
            map.insert(key.to_string(), Value::String(s.to_string()));
        }
    }
    (Value::Object(map), i)
}

pub fn go_fixture_doc(name: &str) -> Value {
    mini_yaml(std::str::from_utf8(&fixture(name)).unwrap())
}

/// Whether python3 with `cryptography` and `yaml` is usable. Without it the calling test
/// returns early after a loud SKIPPED line, except under CI (`CI` set), where it fails. `_test`
/// is kept for the callers; the skip line names the running test itself.
pub fn python_available(_test: &str) -> bool {
    dbos_gitops_test_support::python::python_available()
}

/// Runs the independent decrypter on `input` (any JSON/YAML text) with `key_file`; returns its
/// parsed JSON output on success, or its stderr on failure.
pub fn python_unseal(key_file: &str, input: &str) -> Result<Value, String> {
    dbos_gitops_test_support::python::independent_unseal(std::path::Path::new(key_file), input)
}

pub fn go_key_path() -> String {
    format!("{FIXTURES}/go-key.pem")
}

/// The system clock, for development key pairs that are judged by `SealingCert::from_pem` (which
/// reads the system clock too): minted and judged at the same instant.
pub fn real_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}
