//! Issue 13: `check` cannot pass what it could not read. Output of `kubectl kustomize` that is
//! not readable YAML, and a generated version file that is not readable YAML, are findings
//! (they used to end the check silently, a check that could not fail). Both leave the tree
//! byte-identical.

use std::os::unix::fs::PermissionsExt as _;

use serde_json::Value;

use crate::support::*;

fn check_json(repo: &TestRepo, path: Option<&std::ffi::OsStr>, arguments: &[&str]) -> (i32, Value) {
    let mut command = repo.command(&[&["check", "--format", "json"][..], arguments].concat());
    if let Some(path) = path {
        command.env("PATH", path);
    }
    let run = Run::from(pipe(&mut command, b""));
    let json = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|error| panic!("{error}: {}\n{}", run.stdout, run.stderr));
    (run.code, json)
}

fn finding<'a>(json: &'a Value, code: &str) -> Option<&'a Value> {
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|finding| finding["code"] == code)
}

#[test]
fn issue_13_unreadable_kustomize_output_is_a_finding() {
    let repo = TestRepo::prod();
    // A `kubectl` that succeeds and prints something no YAML reader accepts.
    let bin = tempfile::tempdir().unwrap();
    let fake = bin.path().join("kubectl");
    std::fs::write(&fake, "#!/bin/sh\nprintf 'a: [unclosed\\n'\n").unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = std::env::join_paths(
        std::iter::once(bin.path().to_path_buf())
            .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    let before = repo.snapshot();
    let (code, json) = check_json(&repo, Some(&path), &[]);
    assert_eq!(code, 1, "{json:#}");
    let found = finding(&json, "render-unreadable").unwrap_or_else(|| panic!("{json:#}"));
    assert_eq!(found["severity"], "error");
    assert_eq!(found["file"], "environments/prod");
    assert!(
        found["message"].as_str().unwrap().contains(
            "`kubectl kustomize environments/prod` printed output that is not readable YAML"
        ),
        "{found:#}"
    );
    assert!(repo.snapshot() == before, "check changed the tree");
}

#[test]
fn issue_13_an_unreadable_generated_version_file_is_a_finding() {
    let repo = TestRepo::prod();
    let env_file = "environments/prod/env.yaml";
    let declaration = repo.read(env_file);
    assert!(declaration.contains("  # autoscaling:"), "{declaration}");
    repo.write(
        env_file,
        &declaration.replace(
            "  # autoscaling:                # KEDA on the active version\n",
            "  autoscaling:\n    queue: taskQueue\n    worker-concurrency: 2\n",
        ),
    );
    repo.ok(&["build"]);
    let path = "environments/prod/versions/v1/deployment.yaml";
    repo.write(path, "spec: [unclosed\n");
    let before = repo.snapshot();
    let (code, json) = check_json(&repo, None, &["--no-render"]);
    assert_eq!(code, 1, "{json:#}");
    let found = finding(&json, "unreadable-generated").unwrap_or_else(|| panic!("{json:#}"));
    assert_eq!(found["severity"], "error");
    assert_eq!(found["file"], path);
    assert!(
        found["message"]
            .as_str()
            .unwrap()
            .contains("is not readable YAML, so `spec.replicas` cannot be checked"),
        "{found:#}"
    );
    assert!(repo.snapshot() == before, "check changed the tree");
}

/// `check` leaves generated files that are byte-for-byte as written out of its plain-Secret
/// scan (the renderer writes none, `tests/snapshots.rs`); one edited by hand is scanned again.
#[test]
fn a_plain_secret_added_to_a_generated_file_is_found() {
    let repo = TestRepo::prod();
    let (_, clean) = check_json(&repo, None, &["--no-render"]);
    assert!(finding(&clean, "plain-secret").is_none(), "{clean}");
    let path = "environments/prod/patches/console.yaml";
    let edited = format!(
        "{}---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: leaked\nstringData:\n  password: hunter2\n",
        repo.read(path)
    );
    repo.write(path, &edited);
    let (code, json) = check_json(&repo, None, &["--no-render"]);
    assert_eq!(code, 1, "{json}");
    let found = finding(&json, "plain-secret").unwrap_or_else(|| panic!("{json}"));
    assert_eq!(found["file"], path);
}
