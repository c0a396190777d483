//! The bridge to the independent Python implementations in `tests/support/`: the SealedSecrets
//! decrypter (`independent_unseal.py`) and the strict X.509 reader (`strict_x509.py`), both on
//! Python `cryptography`, sharing no code with ours. `python3` must be the test venv's
//! (`tests/run.sh` puts it first on PATH).

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::skip::require_tool;
use crate::workspace_root;

/// Whether `python3` with `cryptography` and `yaml` runs; when not, a loud skip (a failure
/// under CI). Callers return early on `false`.
pub fn python_available() -> bool {
    require_tool("python3", &["-c", "import cryptography, yaml"])
}

/// Runs `script` (under `tests/support/`) with `args`, `input` on stdin; its stdout parsed as
/// JSON on success, its stderr on failure.
fn run_script(script: &str, args: &[&std::ffi::OsStr], input: &[u8]) -> Result<Value, String> {
    let path = workspace_root().join("tests/support").join(script);
    let mut child = Command::new("python3")
        .arg(&path)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("cannot run python3 {}: {error}", path.display()));
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_vec();
    // A thread feeds stdin so that a large input cannot deadlock against a full stdout pipe.
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let output = child.wait_with_output().expect("wait for python3");
    if let Err(error) = writer.join().expect("stdin writer") {
        assert_eq!(error.kind(), std::io::ErrorKind::BrokenPipe, "{error}");
    }
    if output.status.success() {
        Ok(serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|error| panic!("{script} printed no JSON: {error}")))
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

/// Decrypts SealedSecrets (`input`: YAML or JSON, one or many) with the controller private key
/// in `key`: `{"ns/name": {"key": base64}}`, or the script's error text.
pub fn independent_unseal(key: &Path, input: &str) -> Result<Value, String> {
    run_script(
        "independent_unseal.py",
        &["--key".as_ref(), key.as_os_str(), "-".as_ref()],
        input.as_bytes(),
    )
}

/// Parses every certificate in `pem` strictly (DER rules enforced): per certificate
/// `{"subject", "extensions": [oid...], "ca"?, "basic_constraints_critical"?, "dns_names"?}`,
/// or the parser's error text.
pub fn strict_x509(pem: &str) -> Result<Vec<Value>, String> {
    match run_script("strict_x509.py", &[], pem.as_bytes())? {
        Value::Array(certificates) => Ok(certificates),
        other => panic!("strict_x509.py printed {other}, not a list"),
    }
}
