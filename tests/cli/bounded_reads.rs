//! Issue 23 item 10: every input has a stated bound, checked while it is read. `/dev/zero`
//! never ends, so a command that read it whole would grow until out of memory; each one here
//! is refused quickly (exit 2), names the input and the limit, and writes nothing. A 400 MB
//! stdin is refused after at most the limit plus a pipe buffer, in bounded memory.

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;

const SECRET: &str =
    "apiVersion: v1\nkind: Secret\nmetadata:\n  name: conductor-db\nstringData:\n  a: b\n";

/// Runs and asserts a quick refusal that names `/dev/zero` and the limit; the tree is unchanged.
fn refused(repo: &TestRepo, arguments: &[&str], stdin: &str, limit: &str) {
    let before = repo.snapshot();
    let start = Instant::now();
    let run = repo.run_with_stdin(arguments, Some(stdin.as_bytes()));
    let took = start.elapsed();
    assert_eq!(run.code, 2, "{arguments:?}\n{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("/dev/zero") && run.stderr.contains(&format!("limit of {limit}")),
        "{arguments:?}: {}",
        run.stderr
    );
    // Reading 16 MiB of zeros takes milliseconds; reading until out of memory takes minutes.
    assert!(
        took < Duration::from_secs(20),
        "{arguments:?} took {took:?}"
    );
    assert_eq!(repo.snapshot(), before, "{arguments:?} wrote something");
}

#[test]
fn every_file_input_is_refused_at_its_bound_with_dev_zero() {
    let repo = TestRepo::prod();
    let cert = fixture("go-cert.pem").to_string_lossy().into_owned();
    let key = fixture("go-key.pem").to_string_lossy().into_owned();
    let sealed = repo.path().join("sealed.yaml");
    let sealed = sealed.to_string_lossy().into_owned();
    let out = repo.run_with_stdin(
        &[
            "seal",
            "--cert",
            &cert,
            "--namespace",
            "dbos-prod",
            "-w",
            &sealed,
        ],
        Some(SECRET.as_bytes()),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);

    let manifests = "16777216 bytes (16.0 MiB) for SealedSecret manifests";
    refused(
        &repo,
        &["unseal", "--key", &key, "/dev/zero"],
        "",
        manifests,
    );
    refused(
        &repo,
        &["unseal", "--key", "/dev/zero", &sealed],
        "",
        "4194304 bytes (4.0 MiB) for a private-key file",
    );
    let certificate = "65536 bytes (64.0 KiB) for a certificate";
    refused(&repo, &["seal", "--cert", "/dev/zero"], SECRET, certificate);
    refused(
        &repo,
        &["init", "env", "staging", "--cert", "/dev/zero"],
        "",
        certificate,
    );
    refused(
        &repo,
        &[
            "reseal",
            "--env",
            "prod",
            "--key",
            &key,
            "--cert",
            "/dev/zero",
        ],
        "",
        certificate,
    );
    refused(
        &repo,
        &["seal", "--env", "prod", "--mac-key-file", "/dev/zero"],
        SECRET,
        "4096 bytes (4.0 KiB) for a value-MAC key file",
    );
    refused(
        &repo,
        &[
            "seal",
            "--cert",
            &cert,
            "--namespace",
            "dbos-prod",
            "--merge-into",
            "/dev/zero",
        ],
        SECRET,
        "16777216 bytes (16.0 MiB) for a SealedSecret to merge into",
    );
    refused(
        &repo,
        &["seal", "--cert", &cert, "-f", "/dev/zero"],
        "",
        "16777216 bytes (16.0 MiB) for input",
    );
    // At the bounds the commands still work: the real certificate and key are read.
    let opened = repo.run(&["unseal", "--key", &key, &sealed]);
    assert_eq!(opened.code, 0, "{}", opened.stderr);
}

/// What one run of the binary did with a stdin of `feed` bytes: exit code, stderr, how many
/// bytes it took before it closed its stdin, and its peak resident memory in KiB.
struct Fed {
    code: i32,
    stderr: String,
    accepted: u64,
    peak_kib: u64,
}

/// `command` run under GNU time (`%M`: the peak resident set of that one process, which GNU
/// time forks itself, so the test harness's own memory is not counted) with `feed` bytes
/// offered on stdin.
fn feed(command: &Command, feed: u64) -> Fed {
    let report = tempfile::NamedTempFile::new().unwrap();
    let mut timed = Command::new("/usr/bin/time");
    timed
        .args(["-f", "%M", "-o"])
        .arg(report.path())
        .arg(command.get_program())
        .args(command.get_args());
    for (name, value) in command.get_envs() {
        match value {
            Some(value) => timed.env(name, value),
            None => timed.env_remove(name),
        };
    }
    if let Some(dir) = command.get_current_dir() {
        timed.current_dir(dir);
    }
    let mut child = timed
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || {
        let chunk = vec![b'a'; 1 << 20];
        let mut written = 0u64;
        while written < feed {
            match stdin.write(&chunk) {
                Ok(count) => written += count as u64,
                Err(_) => break,
            }
        }
        written
    });
    let output = child.wait_with_output().expect("wait");
    let report = std::fs::read_to_string(report.path()).unwrap();
    Fed {
        code: output.status.code().unwrap_or(-1),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        accepted: writer.join().expect("writer"),
        peak_kib: report
            .lines()
            .last()
            .and_then(|line| line.trim().parse().ok())
            .unwrap_or_else(|| panic!("no peak in {report:?}")),
    }
}

#[test]
fn a_400_mb_stdin_is_refused_at_16_mib_in_bounded_memory() {
    if !require_tool("/usr/bin/time", &["-f", "%M", "true"]) {
        return;
    }
    let repo = TestRepo::prod();
    let key = fixture("go-key.pem");
    let cert = fixture("go-cert.pem");
    let cases: [(&[&str], &str); 2] = [
        (&["unseal", "--key"], "SealedSecret manifests"),
        (&["seal", "--cert"], "input"),
    ];
    for (arguments, what) in cases {
        let mut command = repo.command(arguments);
        command.arg(if arguments[0] == "unseal" {
            &key
        } else {
            &cert
        });
        let start = Instant::now();
        let fed = feed(&command, 400 << 20);
        let took = start.elapsed();
        assert_eq!(fed.code, 2, "{arguments:?}: {}", fed.stderr);
        assert!(
            fed.stderr.contains("stdin")
                && fed
                    .stderr
                    .contains(&format!("limit of 16777216 bytes (16.0 MiB) for {what}")),
            "{}",
            fed.stderr
        );
        // It stopped reading at the limit: what it took is the limit and what the pipe held.
        assert!(
            fed.accepted < 20 << 20,
            "{arguments:?} read {} bytes",
            fed.accepted
        );
        // Before: 397 MB resident for 400 MB in. Now the 16 MiB buffer and the binary.
        assert!(
            fed.peak_kib < 64 << 10,
            "{arguments:?} peaked at {} KiB",
            fed.peak_kib
        );
        assert!(
            took < Duration::from_secs(30),
            "{arguments:?} took {took:?}"
        );
        eprintln!(
            "{arguments:?}: refused after {} bytes, peak {} KiB, {took:?}",
            fed.accepted, fed.peak_kib
        );
    }
}
