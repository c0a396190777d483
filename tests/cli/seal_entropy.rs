//! Sealing takes no random byte from AWS-LC (#24 item 1), so every install path seals at the
//! same speed whether or not its AWS-LC seeds from CPU-jitter entropy (aws-lc-sys decides that
//! only from its build environment, which `cargo install --git` does not carry).
//!
//! Checked with a real debugger on the test binary: gdb puts a `dprintf` on each entry point of
//! AWS-LC's generator (`RAND_*_bytes`) and of its jitter source (`jent_*`, the seeding that
//! costs ~20 ms) and counts what a command calls. The control, `tls` (an ECDSA key made by
//! AWS-LC through rcgen), must hit them, or the probe proves nothing.

use crate::support::*;
use std::collections::BTreeMap;

/// The symbols of AWS-LC's randomness, as aws-lc-sys 0.47 prefixes them.
const PROBES: [&str; 8] = [
    "RAND_bytes",
    "RAND_bytes_with_user_prediction_resistance",
    "RAND_priv_bytes",
    "RAND_public_bytes",
    "RAND_pseudo_bytes",
    "jent_entropy_init_ex",
    "jent_entropy_collector_alloc",
    "jent_read_entropy",
];
const PREFIX: &str = "aws_lc_0_47_0_";

/// Runs `arguments` in `repo` under gdb with `stdin` as input; how many times each probe was
/// called (probes never called are absent), after checking the command itself succeeded.
fn probe_calls(repo: &TestRepo, arguments: &[&str], stdin: &[u8]) -> BTreeMap<String, usize> {
    // The probe's files stay out of the repository the command reads.
    let scratch = tempfile::tempdir().unwrap();
    let input = scratch.path().join("input");
    std::fs::write(&input, stdin).unwrap();
    let mut script =
        String::from("set pagination off\nset confirm off\nset breakpoint pending on\n");
    for probe in PROBES {
        script.push_str(&format!(
            "dprintf {PREFIX}{probe},\"PROBE-HIT {probe}\\n\"\n"
        ));
    }
    // `run ARGS` replaces the arguments and hands them to a shell, which does the redirection.
    let quoted: Vec<String> = arguments
        .iter()
        .map(|argument| format!("'{}'", argument.replace('\'', "'\\''")))
        .collect();
    script.push_str(&format!(
        "run {} < '{}'\n",
        quoted.join(" "),
        input.display()
    ));
    // The inferior's exit status, as gdb knows it ($_exitcode is void when it did not exit).
    script.push_str("printf \"PROBE-EXIT %d\\n\", $_exitcode\n");
    let script_file = scratch.path().join("probe.gdb");
    std::fs::write(&script_file, script).unwrap();
    let script_file = script_file.to_string_lossy().into_owned();
    let output = repo
        .command_under(&["gdb", "-batch", "-nx", "-x", &script_file, "--args"], &[])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stdout.lines().any(|line| line == "PROBE-EXIT 0"),
        "{arguments:?} under gdb did not exit 0:\n{stdout}\n{stderr}"
    );
    let mut calls = BTreeMap::new();
    for line in stdout.lines() {
        if let Some(probe) = line.strip_prefix("PROBE-HIT ") {
            *calls.entry(probe.to_string()).or_insert(0) += 1;
        }
    }
    calls
}

fn gdb_runs() -> bool {
    require_tool("gdb", &["--version"])
}

#[test]
fn seal_takes_no_random_byte_from_aws_lc_and_tls_does() {
    if !gdb_runs() {
        return;
    }
    let repo = TestRepo::prod();

    // The control: minting a certificate draws on AWS-LC's generator, and in a build with CPU
    // jitter (the default, and what `--version` says this one is) seeds it from there.
    let control = probe_calls(&repo, &["tls", "--env", "prod"], b"");
    eprintln!("calls into AWS-LC's randomness by `tls`: {control:?}");
    assert!(
        control.keys().any(|probe| probe.starts_with("RAND_")),
        "the probes saw no AWS-LC randomness in `tls`: {control:?}"
    );
    let jitter = crate::install::entropy_line(&binary()).contains("CPU jitter and");
    if jitter {
        assert!(
            control.keys().any(|probe| probe.starts_with("jent_")),
            "a build with CPU jitter that never ran it: {control:?}"
        );
    }

    let secret = |namespace: &str| {
        format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: conductor-db\n{namespace}\
             stringData:\n  database-url: postgresql://u:p@db:5432/dbos\n  other: value\n"
        )
    };
    let cert = fixture("go-cert.pem").to_string_lossy().into_owned();
    for (arguments, input) in [
        (vec!["seal", "--cert", &cert], secret("  namespace: dbos\n")),
        (
            vec!["seal", "--cert", &cert, "--format", "yaml"],
            secret("  namespace: dbos\n"),
        ),
        (vec!["seal", "--env", "prod"], secret("")),
    ] {
        let calls = probe_calls(&repo, &arguments, input.as_bytes());
        assert!(
            calls.is_empty(),
            "{arguments:?} called AWS-LC's randomness: {calls:?}"
        );
    }
    // `seal --env` did seal: the file is there and opens with the controller's key.
    let sealed = repo.read("environments/prod/secrets/conductor-db.yaml");
    if let Some(result) = independent_unseal(&fixture("go-key.pem"), &sealed) {
        assert!(result.is_ok(), "{result:?}");
    }
}
