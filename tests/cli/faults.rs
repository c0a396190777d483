//! Faults lose nothing (#14): concurrent writers serialise on the repository lock, and a
//! process killed at any rename or removal is finished by the next command.

use std::process::{Child, Stdio};

use serde_json::Value;

use crate::support::*;

/// Starts the binary with `input` on its stdin, without waiting.
fn spawn(repo: &TestRepo, arguments: &[&str], input: &[u8]) -> Child {
    use std::io::Write as _;
    let mut child = repo
        .command(arguments)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let _ = child.stdin.take().expect("stdin").write_all(input);
    child
}

fn finish(child: Child, what: &str) {
    let run = Run::from(child.wait_with_output().expect("wait"));
    assert_eq!(run.code, 0, "{what}: {}\n{}", run.stdout, run.stderr);
}

fn secret(name: &str, key: &str, value: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\n  namespace: dbos-prod\nstringData:\n  {key}: {value}\n"
    )
}

fn encrypted_keys(repo: &TestRepo, file: &str) -> Vec<String> {
    let sealed = &parse_yaml_stream(&repo.read(file))[0];
    sealed["spec"]["encryptedData"]
        .as_object()
        .map(|data| data.keys().cloned().collect())
        .unwrap_or_default()
}

const ROUNDS: usize = 10;

#[test]
fn issue_14_racing_seals_of_one_secret_keep_every_key() {
    let repo = TestRepo::prod();
    for round in 0..ROUNDS {
        let first = secret(
            "app-extra",
            &format!("a{round}"),
            &format!("value-a{round}"),
        );
        let second = secret(
            "app-extra",
            &format!("b{round}"),
            &format!("value-b{round}"),
        );
        let one = spawn(&repo, &["seal", "--env", "prod"], first.as_bytes());
        let two = spawn(&repo, &["seal", "--env", "prod"], second.as_bytes());
        finish(one, "seal a");
        finish(two, "seal b");
    }
    let file = "environments/prod/secrets/app-extra.yaml";
    let keys = encrypted_keys(&repo, file);
    assert_eq!(keys.len(), 2 * ROUNDS, "keys lost: {keys:?}");
    if let Some(result) = independent_unseal(&fixture("go-key.pem"), &repo.read(file)) {
        let result = result.expect("decrypts");
        for round in 0..ROUNDS {
            for side in ["a", "b"] {
                let encoded = result["dbos-prod/app-extra"][format!("{side}{round}")]
                    .as_str()
                    .unwrap_or_else(|| panic!("{side}{round} missing: {result}"));
                assert_eq!(encoded, base64_text(&format!("value-{side}{round}")));
            }
        }
    }
    assert!(repo
        .read("environments/prod/kustomization.yaml")
        .contains("secrets/app-extra.yaml"));
    repo.ok(&["build", "--check"]);
}

#[test]
fn issue_14_racing_dex_users_agree_with_the_sealed_hashes() {
    let repo = TestRepo::with_env("prod", &["--domain", "dbos.acme.com", "--oidc", "dex"]);
    let rounds = ROUNDS / 2;
    for round in 0..rounds {
        let children: Vec<Child> = ["a", "b"]
            .iter()
            .map(|side| {
                let email = format!("{side}{round}@acme.com");
                spawn(
                    &repo,
                    &[
                        "dex",
                        "add-user",
                        "--env",
                        "prod",
                        &email,
                        "--password-stdin",
                    ],
                    b"secret password\n",
                )
            })
            .collect();
        for child in children {
            finish(child, "dex add-user");
        }
    }
    let users = repo.read("environments/prod/dex-users.yaml");
    let keys = encrypted_keys(&repo, "environments/prod/secrets/dex-users.yaml");
    assert_eq!(keys.len(), 2 * rounds, "{keys:?}");
    for round in 0..rounds {
        for side in ["a", "b"] {
            assert!(
                users.contains(&format!("{side}{round}@acme.com")),
                "{users}"
            );
            assert!(
                keys.contains(&format!("{side}{round}-acme-com")),
                "{keys:?}"
            );
        }
    }
    repo.ok(&["build", "--check"]);
}

#[test]
fn issue_14_version_add_racing_seal_loses_no_kustomization_entry() {
    let repo = TestRepo::prod();
    for round in 0..ROUNDS {
        let version = format!("v{}", round + 2);
        let image = format!("ghcr.io/acme/app:{version}");
        let add = spawn(
            &repo,
            &[
                "version", "add", &version, "--env", "prod", "--image", &image,
            ],
            b"",
        );
        let input = secret(&format!("extra-{round}"), "k", "v");
        let seal = spawn(&repo, &["seal", "--env", "prod"], input.as_bytes());
        finish(add, "version add");
        finish(seal, "seal");
    }
    let kustomization = repo.read("environments/prod/kustomization.yaml");
    for round in 0..ROUNDS {
        assert!(
            kustomization.contains(&format!("secrets/extra-{round}.yaml")),
            "{kustomization}"
        );
        assert!(
            repo.exists(&format!("environments/prod/versions/v{}", round + 2)),
            "version v{} missing",
            round + 2
        );
    }
    repo.ok(&["build", "--check"]);
    repo.ok(&["build"]);
}

#[test]
fn issue_14_a_writer_gives_up_after_the_bound_naming_the_holder() {
    let repo = TestRepo::prod();
    // Hold the lock from outside with flock(1) (it locks directories too).
    if !require_tool("flock", &["--version"]) {
        return;
    }
    let mut holder = std::process::Command::new("flock")
        .arg(repo.path())
        .args(["sleep", "5"])
        .spawn()
        .expect("flock");
    std::thread::sleep(std::time::Duration::from_millis(300));
    let started = std::time::Instant::now();
    let run = Run::from(
        repo.command(&["build"])
            .env("DBOS_GITOPS_LOCK_TIMEOUT", "0.5")
            .output()
            .unwrap(),
    );
    let holder_pid = holder.id();
    let _ = holder.kill();
    let _ = holder.wait();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("held by pid {holder_pid}: `flock")),
        "{}",
        run.stderr
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(4));
    // Readers do not wait.
    repo.ok(&["build", "--check"]);
}

#[allow(dead_code)]
fn unused(_: Value) {}

/// A dozen environments, every one with two app versions (v1 old, v2 active), a sealed secret
/// and some with Dex.
fn dozen() -> TestRepo {
    let repo = TestRepo::new();
    let cert = fixture("go-cert.pem").to_string_lossy().into_owned();
    for index in 0..12 {
        let name = format!("env{index:02}");
        let domain = format!("{name}.acme.com");
        let mut arguments = vec![
            "init",
            "env",
            &name,
            "--domain",
            &domain,
            "--cert",
            &cert,
            "--conductor-version",
            TEST_CONDUCTOR_VERSION,
            "--app-image",
            "ghcr.io/acme/app:v1",
        ];
        if index % 3 == 0 {
            arguments.extend_from_slice(&["--oidc", "dex"]);
        }
        repo.ok(&arguments);
        repo.ok(&[
            "version",
            "add",
            "v2",
            "--env",
            &name,
            "--image",
            "ghcr.io/acme/app:v2",
        ]);
    }
    repo
}

/// An independent copy of `repo` (its own directory and `$HOME`), on tmpfs when there is one:
/// every write ends in a `syncfs`, which on a disk shared with parallel builds costs a second
/// and proves nothing here (a kill, unlike a power cut, loses no page cache).
fn copy(repo: &TestRepo) -> TestRepo {
    let in_memory = std::path::Path::new("/dev/shm");
    let temporary = |_: ()| {
        if in_memory.is_dir() {
            tempfile::tempdir_in(in_memory).or_else(|_| tempfile::tempdir())
        } else {
            tempfile::tempdir()
        }
        .expect("temp dir")
    };
    let copy = TestRepo {
        dir: temporary(()),
        home: temporary(()),
    };
    let status = std::process::Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", repo.path().display()))
        .arg(copy.path())
        .status()
        .unwrap();
    assert!(status.success());
    copy
}

/// Every file with its bytes; a SealedSecret (fresh ciphertext on every seal) by its keys, and
/// the random Dex user ids and the digests of random content masked (`build --check` after
/// each kill checks those files against the ownership record).
fn state(repo: &TestRepo) -> std::collections::BTreeMap<String, String> {
    let random = regex::Regex::new(
        r#""?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"?|"?[0-9a-f]{64}"?"#,
    )
    .unwrap();
    repo.snapshot()
        .into_iter()
        .map(|(path, (bytes, _))| {
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let text = if text.contains("encryptedData") {
                let documents = parse_yaml_stream(&text);
                let mut keys: Vec<String> = documents[0]["spec"]["encryptedData"]
                    .as_object()
                    .map(|data| data.keys().cloned().collect())
                    .unwrap_or_default();
                keys.sort();
                format!("sealed keys {keys:?}")
            } else {
                random.replace_all(&text, "<random>").into_owned()
            };
            (path, text)
        })
        .collect()
}

fn diff_states(
    left: &std::collections::BTreeMap<String, String>,
    right: &std::collections::BTreeMap<String, String>,
) -> Vec<String> {
    let mut differences = Vec::new();
    for (path, text) in left {
        match right.get(path) {
            None => differences.push(format!("only before: {path}")),
            Some(other) if other != text => differences.push(format!("differs: {path}")),
            _ => {}
        }
    }
    for path in right.keys().filter(|path| !left.contains_key(*path)) {
        differences.push(format!("only after: {path}"));
    }
    differences
}

/// Kills `arguments` at every `every`th step of `kind` (`stage` or `rename`) until it runs to
/// the end; after each kill the next command (`build`) must succeed and leave exactly the state
/// before (a kill while staging) or after (a kill once renaming began) the command.
fn kill_at_every_step(base: &TestRepo, arguments: &[&str], input: &[u8], kind: &str, every: usize) {
    let before = state(base);
    let reference = copy(base);
    let clean = Run::from(pipe(&mut reference.command(arguments), input));
    assert_eq!(clean.code, 0, "{arguments:?}: {}", clean.stderr);
    let after = state(&reference);
    assert_ne!(before, after, "{arguments:?} changed nothing");
    let mut kills = 0;
    for step in (1..).step_by(every) {
        assert!(
            kills < 25,
            "{arguments:?} still not finished at {kind}:{step}"
        );
        let victim = copy(base);
        let killed = Run::from(pipe(
            victim
                .command(arguments)
                .env("DBOS_GITOPS_FAILPOINT", format!("{kind}:{step}")),
            input,
        ));
        if killed.code == 0 {
            break;
        }
        kills += 1;
        assert_eq!(
            killed.code, -1,
            "{arguments:?} at {kind}:{step}: {}",
            killed.stderr
        );
        let next = victim.run(&["build"]);
        assert_eq!(
            next.code, 0,
            "build after {arguments:?} killed at {kind}:{step}: {}",
            next.stderr
        );
        // `build` after a killed `build` does the whole build again.
        let expected = if kind == "stage" && arguments[0] != "build" {
            &before
        } else {
            &after
        };
        let differences = diff_states(expected, &state(&victim));
        assert!(
            differences.is_empty(),
            "{arguments:?} killed at {kind}:{step}: {differences:#?}"
        );
        victim.ok(&["build", "--check"]);
    }
    assert!(kills > 0, "{arguments:?} was never killed");
}

#[test]
fn issue_14_a_killed_build_is_finished_by_the_next_one() {
    let base = dozen();
    // Every env changes (domain) and drops v1 (its files are removed): renames and removals.
    for index in 0..12 {
        let env = format!("environments/env{index:02}");
        let text = base.read(&format!("{env}/env.yaml"));
        base.write(
            &format!("{env}/env.yaml"),
            &text.replace(".acme.com", ".acme.org"),
        );
        let versions = base.read(&format!("{env}/versions.yaml"));
        let kept: String = versions
            .split_inclusive('\n')
            .filter(|line| !line.contains("v1"))
            .collect();
        base.write(&format!("{env}/versions.yaml"), &kept);
    }
    kill_at_every_step(&base, &["build"], b"", "rename", 23);
    kill_at_every_step(&base, &["build"], b"", "stage", 97);
}

/// Kills `arguments` over the dozen at every rename/removal and at every staged file.
fn kill_writer(arguments: &[&str], input: &[u8]) {
    let base = dozen();
    kill_at_every_step(&base, arguments, input, "rename", 1);
    kill_at_every_step(&base, arguments, input, "stage", 1);
}

#[test]
fn issue_14_a_killed_seal_is_finished_or_undone() {
    let secret = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: conductor-db\n  namespace: dbos-env03\nstringData:\n  database-url: postgres://u:p@h/db\n";
    kill_writer(&["seal", "--env", "env03"], secret.as_bytes());
}

#[test]
fn issue_14_a_killed_dex_add_user_is_finished_or_undone() {
    kill_writer(
        &[
            "dex",
            "add-user",
            "--env",
            "env00",
            "a@acme.com",
            "--password-stdin",
        ],
        b"pw\n",
    );
}

/// A `version add` over the dozen (`dozen()`): stages two files, then renames.
const VERSION_ADD: [&str; 7] = [
    "version",
    "add",
    "v3",
    "--env",
    "env05",
    "--image",
    "ghcr.io/acme/app:v3",
];

#[test]
fn issue_14_a_killed_version_add_is_finished_or_undone() {
    kill_writer(&VERSION_ADD, b"");
}

#[test]
fn issue_14_a_killed_retire_is_finished_or_undone() {
    kill_writer(&["retire", "v1", "--env", "env07", "--no-drain-check"], b"");
}

/// The staging files of a killed writer sit beside their targets; the marker it left at the
/// root tells the next writer to sweep them. Readers leave both alone; a writer that finishes
/// leaves neither, and without a marker a writer does not walk the tree at all.
#[test]
fn issue_14_a_killed_writer_marks_the_tree_and_the_next_writer_sweeps_it() {
    let repo = dozen();
    let litter = |repo: &TestRepo| -> Vec<String> {
        repo.snapshot()
            .into_keys()
            .filter(|path| {
                std::path::Path::new(path)
                    .file_name()
                    .is_some_and(|name| name.to_string_lossy().starts_with(".dbos-gitops-"))
            })
            .collect()
    };
    let arguments = VERSION_ADD;
    let killed = Run::from(
        repo.command(&arguments)
            .env("DBOS_GITOPS_FAILPOINT", "stage:3")
            .output()
            .unwrap(),
    );
    assert_eq!(killed.code, -1, "{}", killed.stderr);
    let left = litter(&repo);
    assert!(
        left.contains(&".dbos-gitops-writing".to_string()),
        "no marker: {left:?}"
    );
    let staged: Vec<&String> = left
        .iter()
        .filter(|path| path.starts_with("environments/env05/"))
        .collect();
    assert_eq!(
        staged.len(),
        2,
        "two files staged before the kill: {left:?}"
    );
    // A reader changes nothing.
    repo.run(&["check", "--no-render"]);
    assert_eq!(litter(&repo), left);
    // The next writer, about another environment, sweeps the whole tree and the marker.
    repo.add_version("v3", "env02");
    assert_eq!(litter(&repo), Vec::<String>::new());
    // A writer that finishes leaves no marker, nor does a no-op.
    repo.ok(&["build"]);
    assert_eq!(litter(&repo), Vec::<String>::new());
}

#[test]
fn issue_14_a_killed_init_env_does_not_block_a_retry() {
    let base = TestRepo::new();
    let cert = fixture("go-cert.pem").to_string_lossy().into_owned();
    let arguments = [
        "init",
        "env",
        "prod",
        "--cert",
        &cert,
        "--app-image",
        "ghcr.io/acme/app:v1",
    ];
    let reference = copy(&base);
    reference.ok(&arguments);
    let expected = state(&reference);
    for kind in ["stage", "rename"] {
        for step in [1, 3, 7] {
            let victim = copy(&base);
            let killed = Run::from(
                victim
                    .command(&arguments)
                    .env("DBOS_GITOPS_FAILPOINT", format!("{kind}:{step}"))
                    .output()
                    .unwrap(),
            );
            assert_eq!(killed.code, -1, "{kind}:{step}: {}", killed.stderr);
            let retry = victim.run(&arguments);
            // Killed while staging: nothing happened, the retry makes the env. Killed while
            // renaming: the retry first finishes the env, then says it exists.
            assert!(
                retry.code == 0 || (retry.code == 1 && retry.stderr.contains("already exists")),
                "retry after {kind}:{step}: {}",
                retry.stderr
            );
            assert_eq!(kind == "stage", retry.code == 0, "{kind}:{step}");
            let differences = diff_states(&expected, &state(&victim));
            assert!(differences.is_empty(), "{kind}:{step}: {differences:#?}");
        }
    }
}

#[test]
fn issue_14_unseal_writes_plaintext_only_to_the_named_file() {
    use std::os::unix::fs::PermissionsExt as _;
    let repo = TestRepo::empty();
    let cert = fixture("go-cert.pem").to_string_lossy().into_owned();
    let key = fixture("go-key.pem").to_string_lossy().into_owned();
    let sealed = repo.run_with_stdin(
        &["seal", "--cert", &cert],
        Some(secret("conductor-db", "database-url", "postgres://u:p@h/db").as_bytes()),
    );
    assert_eq!(sealed.code, 0, "{}", sealed.stderr);
    repo.write("sealed.yaml", &sealed.stdout);
    repo.ok(&["unseal", "--key", &key, "sealed.yaml", "-o", "plain.yaml"]);
    let mode = std::fs::metadata(repo.path().join("plain.yaml"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    assert!(repo
        .read("plain.yaml")
        .contains(&base64_text("postgres://u:p@h/db")));
    let names: Vec<String> = std::fs::read_dir(repo.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().all(|name| !name.starts_with(".dbos-gitops-")),
        "{names:?}"
    );
    // A symlink at the output path is not followed.
    let outside = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("leak.yaml"),
        repo.path().join("link.yaml"),
    )
    .unwrap();
    let refused = repo.run(&["unseal", "--key", &key, "sealed.yaml", "-o", "link.yaml"]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(!outside.path().join("leak.yaml").exists());
}

#[test]
fn issue_14_a_closed_stdout_ends_the_process_quietly() {
    use std::os::unix::process::ExitStatusExt as _;
    let repo = TestRepo::prod();
    let text = repo.read("environments/prod/env.yaml");
    repo.write(
        "environments/prod/env.yaml",
        &text.replace("dbos.acme.com", "dbos.acme.org"),
    );
    let mut child = repo
        .command(&["build", "--check"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Like `| head -0`: the reader is gone before the first write.
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(output.status.signal(), Some(13), "SIGPIPE: {stderr}");
}

/// Input errors anywhere in a request: exit 2 and the tree byte-identical.
#[test]
fn issue_14_bad_input_anywhere_writes_nothing() {
    let repo = TestRepo::prod();
    let before = repo.snapshot();
    let long_name = "a".repeat(253);
    let list = format!(
        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Secret\n  metadata: {{name: one, namespace: dbos-prod}}\n  stringData: {{k: v}}\n- apiVersion: v1\n  kind: Secret\n  metadata: {{name: {long_name}, namespace: dbos-prod}}\n  stringData: {{k: v}}\n"
    );
    let cases: Vec<(String, &str)> = vec![
        (list, "longer than the 255"),
        (secret("x", "../x", "v"), "\"../x\""),
        (secret("x", "\"a b\"", "v"), "\"a b\""),
        (secret("x", "\"\"", "v"), "\"\""),
        (
            "apiVersion: v1\nkind: Secret\nmetadata: {name: x, namespace: dbos-prod}\nstringData:\n  k: v\n  k: w\n".to_string(),
            "duplicate entry with key \"k\"",
        ),
    ];
    for (input, expected) in &cases {
        let run = repo.run_with_stdin(&["seal", "--env", "prod"], Some(input.as_bytes()));
        assert_eq!(run.code, 2, "{input}\n{}", run.stderr);
        assert!(run.stderr.contains(expected), "{input}\n{}", run.stderr);
        assert!(repo.snapshot() == before, "{input}: the tree changed");
    }
    // The secret name is checked before any file is read.
    let run = repo.run(&[
        "secrets",
        "set",
        "--env",
        "prod",
        "../../x",
        "k",
        "--from-file",
        "/nonexistent/outside",
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("secret name \"../../x\""),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("/nonexistent"), "{}", run.stderr);
    // A bcrypt cost that would run for days is refused at once.
    let started = std::time::Instant::now();
    let run = repo.run_with_stdin(&["dex", "hash", "--cost", "31"], Some(b"pw"));
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--allow-high-cost"), "{}", run.stderr);
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    assert!(repo.snapshot() == before);
}
