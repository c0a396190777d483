//! bcrypt hashes from `password::hash`, checked by independent implementations: the
//! `bcrypt` Python package (tests/support/verify_bcrypt.py) and Apache's `htpasswd`.

// Test helpers unwrap: a failure here is a failed test, with the panic's message.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::{exists, repo_root, runs_ok, skip, TempDir};
use dbos_gitops_generate::password::{hash, verify, PasswordError, DEFAULT_COST, MIN_COST};

/// Exit status of `python3 tests/support/verify_bcrypt.py HASH` with `password` on stdin,
/// or `None` (after a loud skip) when python3 or its `bcrypt` package is missing.
fn python_verify(hash: &str, password: &[u8]) -> Option<i32> {
    if !runs_ok("python3", &["-c", "import bcrypt"]) {
        skip("`python3` with the `bcrypt` package is not available; hashes were not cross-checked with Python");
        return None;
    }
    let script = repo_root().join("tests/support/verify_bcrypt.py");
    assert!(script.is_file(), "{} is missing", script.display());
    let mut child = Command::new("python3")
        .arg(&script)
        .arg(hash)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start python3");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(password)
        .expect("write password");
    let out = child.wait_with_output().unwrap();
    let code = out.status.code().expect("exit code");
    assert!(
        code == 0 || code == 1,
        "verify_bcrypt.py failed ({code}): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(code)
}

/// Whether `htpasswd -vb` accepts `password` for a file holding `user:HASH`, or `None`
/// (after a loud skip) when htpasswd is missing.
fn htpasswd_verify(hash: &str, password: &str) -> Option<bool> {
    if !exists("htpasswd") {
        skip("`htpasswd` (apache2-utils) is not on PATH; hashes were not cross-checked with htpasswd");
        return None;
    }
    let dir = TempDir::new();
    let file = dir.write("htpasswd", format!("user:{hash}\n").as_bytes());
    let out = Command::new("htpasswd")
        .args(["-vb", common::s(&file), "user", password])
        .output()
        .expect("run htpasswd");
    // 0: correct; 3: password mismatch. Anything else means htpasswd could not read it.
    let code = out.status.code().expect("exit code");
    assert!(
        code == 0 || code == 3,
        "htpasswd -vb exited {code}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(code == 0)
}

#[test]
fn hash_format_is_htpasswd_compatible() {
    let h = hash(b"s3cret-Passw0rd", DEFAULT_COST).unwrap();
    assert!(h.starts_with("$2y$"), "{h}");
    assert!(h.starts_with("$2y$10$"), "{h}");
    assert_eq!(h.len(), 60);
    let h12 = hash(b"s3cret-Passw0rd", 12).unwrap();
    assert!(h12.starts_with("$2y$12$"), "{h12}");
    assert!(verify(b"s3cret-Passw0rd", &h12).unwrap());
}

#[test]
fn cost_below_ten_is_refused() {
    assert_eq!(MIN_COST, 10);
    let err = hash(b"pw", 9).unwrap_err();
    assert_eq!(err, PasswordError::CostOutOfRange { cost: 9 });
    assert!(err.to_string().contains("`9`"), "{err}");
    assert!(err.hint().unwrap().contains("`10`"));
    assert!(hash(b"pw", 4).is_err());
    assert!(hash(b"pw", 0).is_err());
}

#[test]
fn python_bcrypt_verifies_our_hashes() {
    let cases: [&[u8]; 4] = [
        b"s3cret-Passw0rd",
        "pässwörd-ünïcode".as_bytes(),
        &[b'z'; 72],
        b"with spaces and $pecial ch@rs:'\"",
    ];
    for password in cases {
        let h = hash(password, DEFAULT_COST).unwrap();
        assert!(verify(password, &h).unwrap());
        let Some(ok) = python_verify(&h, password) else {
            return;
        };
        assert_eq!(ok, 0, "python rejected the right password for {h}");
        let mut wrong = password.to_vec();
        wrong[0] ^= 1;
        assert_eq!(
            python_verify(&h, &wrong),
            Some(1),
            "python accepted a wrong password for {h}"
        );
    }
}

#[test]
fn htpasswd_verifies_our_hashes() {
    let password = "s3cret-Passw0rd";
    let h = hash(password.as_bytes(), DEFAULT_COST).unwrap();
    let Some(ok) = htpasswd_verify(&h, password) else {
        return;
    };
    assert!(ok, "htpasswd rejected the right password for {h}");
    assert_eq!(htpasswd_verify(&h, "s3cret-Passw0rD"), Some(false));
}

#[test]
fn we_verify_hashes_made_by_htpasswd_and_python() {
    let password = "s3cret-Passw0rd";
    if exists("htpasswd") {
        let out = Command::new("htpasswd")
            .args(["-nbB", "-C", "10", "", password])
            .output()
            .unwrap();
        assert!(out.status.success());
        let line = String::from_utf8(out.stdout).unwrap();
        let h = line.trim().trim_start_matches(':');
        assert!(h.starts_with("$2y$10$"), "{h}");
        assert!(verify(password.as_bytes(), h).unwrap());
        assert!(!verify(b"wrong", h).unwrap());
    } else {
        skip("`htpasswd` (apache2-utils) is not on PATH; its hashes were not checked");
    }

    if runs_ok("python3", &["-c", "import bcrypt"]) {
        let out = Command::new("python3")
            .args([
                "-c",
                "import bcrypt,sys; sys.stdout.write(bcrypt.hashpw(sys.argv[1].encode(), bcrypt.gensalt(10)).decode())",
                password,
            ])
            .output()
            .unwrap();
        assert!(out.status.success());
        let h = String::from_utf8(out.stdout).unwrap();
        assert!(h.starts_with("$2b$10$"), "{h}");
        assert!(verify(password.as_bytes(), &h).unwrap());
        assert!(!verify(b"wrong", &h).unwrap());
    } else {
        skip("`python3` with the `bcrypt` package is not available; its hashes were not checked");
    }
}

#[test]
fn refuses_passwords_bcrypt_would_truncate() {
    let long = [b'a'; 73];
    let err = hash(&long, DEFAULT_COST).unwrap_err();
    assert_eq!(err, PasswordError::TooLong { len: 73 });
    assert!(err.to_string().contains("72"), "{err}");
    assert_eq!(hash(b"", DEFAULT_COST), Err(PasswordError::Empty));
}
