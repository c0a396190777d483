//! Issue 12: secrets without churn. Re-sealing an unchanged value keeps its ciphertext byte for
//! byte (through a keyed MAC whose key lives outside the repository); a changed value moves
//! alone; no unkeyed digest of a plaintext lands in the repository.

use serde_json::Value;

use crate::support::*;

const SECRET_FILE: &str = "environments/prod/secrets/conductor-db.yaml";

fn conductor_db(database_url: &str, extra: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: conductor-db\nstringData:\n  database-url: {database_url}\n  extra: {extra}\n"
    )
}

fn seal(repo: &TestRepo, input: &str, variables: &[(&str, &std::path::Path)]) -> Run {
    let mut command = repo.command(&["seal", "--env", "prod"]);
    for (name, value) in variables {
        command.env(name, value);
    }
    Run::from(pipe(&mut command, input.as_bytes()))
}

fn encrypted(repo: &TestRepo, key: &str) -> String {
    let document = &parse_yaml_stream(&repo.read(SECRET_FILE))[0];
    document["spec"]["encryptedData"][key]
        .as_str()
        .unwrap_or_else(|| panic!("no {key} in {document}"))
        .to_string()
}

fn plaintext_of(result: &Value, key: &str) -> String {
    use base64::Engine as _;
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(result["dbos-prod/conductor-db"][key].as_str().unwrap())
            .unwrap(),
    )
    .unwrap()
}

#[test]
fn an_unchanged_reseal_leaves_the_tree_byte_identical_and_a_change_moves_only_its_key() {
    let repo = TestRepo::prod();
    let first = seal(&repo, &conductor_db("postgres://a", "x"), &[]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert_eq!(
        first.stdout,
        format!("sealed {SECRET_FILE}: added `database-url`, `extra`\n")
    );
    // The MAC key was made outside the repository, private.
    let mac_key = repo.home.path().join(".config/dbos-gitops/seal-mac.key");
    assert!(
        first.stderr.contains("made the value-MAC key"),
        "{}",
        first.stderr
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&mac_key).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let document = &parse_yaml_stream(&repo.read(SECRET_FILE))[0];
    let annotations = &document["metadata"]["annotations"];
    assert!(annotations["dbos-gitops.io/value-macs"].is_string());
    assert!(annotations["dbos-gitops.io/value-mac-key-id"].is_string());
    // The MACs stay on the SealedSecret: the controller copies only the template's metadata
    // onto the Secret it creates.
    assert!(document["spec"]["template"]["metadata"]["annotations"]
        .get("dbos-gitops.io/value-macs")
        .is_none());

    let before = repo.snapshot();
    let again = seal(&repo, &conductor_db("postgres://a", "x"), &[]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(again.stdout, format!("unchanged {SECRET_FILE} (2 keys)\n"));
    assert_eq!(
        repo.snapshot(),
        before,
        "an unchanged re-seal wrote something"
    );

    let extra_before = encrypted(&repo, "extra");
    let url_before = encrypted(&repo, "database-url");
    let changed = seal(&repo, &conductor_db("postgres://b", "x"), &[]);
    assert_eq!(changed.code, 0, "{}", changed.stderr);
    assert_eq!(
        changed.stdout,
        format!("sealed {SECRET_FILE}: changed `database-url`, kept `extra`\n")
    );
    assert_eq!(encrypted(&repo, "extra"), extra_before);
    assert_ne!(encrypted(&repo, "database-url"), url_before);
    repo.ok(&["build", "--check"]);
    // `check` has nothing to say about the file (the env still misses other secrets).
    let check = repo.run(&["check", "--no-render"]);
    assert!(check.stdout.contains("not sealed"), "{}", check.stdout);
    assert!(!check.stdout.contains(SECRET_FILE), "{}", check.stdout);
    assert!(!check.stdout.contains("`conductor-db`"), "{}", check.stdout);
    if let Some(result) = independent_unseal(&fixture("go-key.pem"), &repo.read(SECRET_FILE)) {
        let result = result.unwrap();
        assert_eq!(plaintext_of(&result, "database-url"), "postgres://b");
        assert_eq!(plaintext_of(&result, "extra"), "x");
    }
    // `secrets set` goes through the same comparison.
    let set = repo.run_with_stdin(
        &[
            "secrets",
            "set",
            "conductor-db",
            "database-url",
            "--from-stdin",
        ],
        Some(b"postgres://b\n"),
    );
    assert_eq!(set.code, 0, "{}", set.stderr);
    assert_eq!(set.stdout, format!("unchanged {SECRET_FILE} (2 keys)\n"));
    assert_ne!(encrypted(&repo, "database-url"), url_before);
    assert_eq!(encrypted(&repo, "extra"), extra_before);
}

#[test]
fn without_the_mac_key_or_with_another_it_reencrypts_and_says_so() {
    let repo = TestRepo::prod();
    let outside = tempfile::tempdir().unwrap();
    let team_key = outside.path().join("team.key");
    std::fs::write(&team_key, format!("{}\n", base64_text(&"k".repeat(32)))).unwrap();
    let first = seal(
        &repo,
        &conductor_db("postgres://a", "x"),
        &[("DBOS_GITOPS_SEAL_MAC_KEY_FILE", &team_key)],
    );
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert!(!first.stderr.contains("made the value-MAC key"));
    let team = seal(
        &repo,
        &conductor_db("postgres://a", "x"),
        &[("DBOS_GITOPS_SEAL_MAC_KEY_FILE", &team_key)],
    );
    assert_eq!(team.stdout, format!("unchanged {SECRET_FILE} (2 keys)\n"));

    // The per-user default key is another key: re-encrypted, and said.
    let url_before = encrypted(&repo, "database-url");
    let other = seal(&repo, &conductor_db("postgres://a", "x"), &[]);
    assert_eq!(other.code, 0, "{}", other.stderr);
    assert_eq!(
        other.stdout,
        format!("sealed {SECRET_FILE}: replaced `database-url`, `extra`\n")
    );
    assert!(
        other.stderr.contains("another value-MAC key"),
        "{}",
        other.stderr
    );
    assert_ne!(encrypted(&repo, "database-url"), url_before);

    // A named key that is missing, or inside the repository: exit 2, nothing written.
    let before = repo.snapshot();
    let missing = seal(
        &repo,
        &conductor_db("postgres://c", "x"),
        &[(
            "DBOS_GITOPS_SEAL_MAC_KEY_FILE",
            &outside.path().join("nope.key"),
        )],
    );
    assert_eq!(missing.code, 2, "{}", missing.stderr);
    assert!(missing.stderr.contains("nope.key"), "{}", missing.stderr);
    assert!(missing.stderr.contains("hint:"), "{}", missing.stderr);
    repo.write(".mac.key", &format!("{}\n", base64_text(&"k".repeat(32))));
    let before_inside = repo.snapshot();
    let inside = seal(
        &repo,
        &conductor_db("postgres://c", "x"),
        &[(
            "DBOS_GITOPS_SEAL_MAC_KEY_FILE",
            &repo.path().join(".mac.key"),
        )],
    );
    assert_eq!(inside.code, 2, "{}", inside.stderr);
    assert!(
        inside.stderr.contains("inside the repository"),
        "{}",
        inside.stderr
    );
    assert_eq!(repo.snapshot(), before_inside);
    std::fs::remove_file(repo.path().join(".mac.key")).unwrap();
    assert_eq!(repo.snapshot(), before);

    // No place for the default key (HOME is a file): it still seals, re-encrypting, and says so.
    let not_a_dir = outside.path().join("home-is-a-file");
    std::fs::write(&not_a_dir, "").unwrap();
    let homeless = seal(
        &repo,
        &conductor_db("postgres://a", "x"),
        &[("HOME", &not_a_dir)],
    );
    assert_eq!(homeless.code, 0, "{}", homeless.stderr);
    assert_eq!(
        homeless.stdout,
        format!("sealed {SECRET_FILE}: replaced `database-url`, `extra`\n")
    );
    assert!(
        homeless.stderr.contains("note:")
            && homeless.stderr.contains("could not make the value-MAC key"),
        "{}",
        homeless.stderr
    );
    let document = &parse_yaml_stream(&repo.read(SECRET_FILE))[0];
    assert!(
        document["metadata"]["annotations"]
            .get("dbos-gitops.io/value-macs")
            .is_none(),
        "re-encrypted values must not keep their old MACs"
    );
}

/// md5, sha1, sha256 and sha512 of `value`, in lower and upper hex and in standard and
/// URL-safe base64 with and without padding: what a careless tool might store.
fn unkeyed_digests(value: &str) -> Option<Vec<String>> {
    let script = "import sys, hashlib, base64\nv = sys.argv[1].encode()\nfor name in ('md5', 'sha1', 'sha256', 'sha512'):\n    d = hashlib.new(name, v).digest()\n    for text in (d.hex(), d.hex().upper(), base64.b64encode(d).decode(), base64.urlsafe_b64encode(d).decode()):\n        print(text)\n        print(text.rstrip('='))\n";
    let output = std::process::Command::new("python3")
        .args(["-c", script, value])
        .output()
        .ok()?;
    assert!(output.status.success());
    Some(
        String::from_utf8(output.stdout)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect(),
    )
}

#[test]
fn the_repository_holds_no_unkeyed_digest_of_any_plaintext() {
    if !require_tool("python3", &["-c", "import hashlib"]) {
        return;
    }
    let repo = TestRepo::prod();
    let plaintexts = ["postgres://a", "x", "hunter2", "postgres://b"];
    for (url, extra) in [
        ("postgres://a", "x"),
        ("postgres://a", "x"),
        ("postgres://b", "hunter2"),
    ] {
        let run = seal(&repo, &conductor_db(url, extra), &[]);
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    let files = repo.snapshot();
    assert!(files.contains_key(SECRET_FILE));
    for plaintext in plaintexts {
        let digests = unkeyed_digests(plaintext).expect("python3");
        assert_eq!(digests.len(), 32);
        for (path, (bytes, _)) in &files {
            let text = String::from_utf8_lossy(bytes);
            for digest in &digests {
                assert!(
                    !text.contains(digest.as_str()),
                    "{path} holds an unkeyed digest of `{plaintext}`: {digest}"
                );
            }
        }
    }
}

/// Issue 23 item 11: a value-MAC key file that its group or every user may read is used (the
/// key alone reveals nothing), with a warning that names the file, its mode and the fix; a
/// 0600 file, and the key the tool makes itself, get none.
#[test]
fn a_mac_key_file_others_can_read_is_used_with_a_warning() {
    use std::os::unix::fs::PermissionsExt as _;
    let repo = TestRepo::prod();
    let outside = tempfile::tempdir().unwrap();
    let team_key = outside.path().join("team.key");
    std::fs::write(&team_key, format!("{}\n", base64_text(&"k".repeat(32)))).unwrap();
    let variable = [("DBOS_GITOPS_SEAL_MAC_KEY_FILE", team_key.as_path())];
    for (mode, who) in [(0o644, "every user"), (0o640, "its group")] {
        std::fs::set_permissions(&team_key, std::fs::Permissions::from_mode(mode)).unwrap();
        let run = seal(&repo, &conductor_db("postgres://a", "x"), &variable);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let expected = format!(
            "warning: the value-MAC key `{}` is readable by {who} (mode {mode:04o})",
            team_key.display()
        );
        assert!(run.stderr.contains(&expected), "{}", run.stderr);
        assert!(
            run.stderr
                .contains(&format!("chmod 600 {}", team_key.display())),
            "{}",
            run.stderr
        );
    }
    // The key was used: the second run compared and kept both values.
    let run = seal(&repo, &conductor_db("postgres://a", "x"), &variable);
    assert_eq!(run.stdout, format!("unchanged {SECRET_FILE} (2 keys)\n"));
    std::fs::set_permissions(&team_key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let run = seal(&repo, &conductor_db("postgres://a", "x"), &variable);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stderr.contains("warning"), "{}", run.stderr);
    // The default key, made 0600 by the tool: no warning, then or later.
    let fresh = TestRepo::prod();
    for _ in 0..2 {
        let run = seal(&fresh, &conductor_db("postgres://a", "x"), &[]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(!run.stderr.contains("warning"), "{}", run.stderr);
    }
}
