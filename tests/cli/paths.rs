//! Paths and files (#14, items 4, 6 and 9): nothing is read or written through a symbolic link
//! or `..` that leaves the repository, `check` names such links, private keys stay out of the
//! repository however `HOME` reaches it, `.gitignore` covers every private key name, every
//! declaration must be UTF-8, only files are secrets, and private directories are 0700 under
//! any umask.

use std::collections::BTreeMap;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::support::*;

/// Every file under `dir` with its bytes (following links, as a reader of the tree would).
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut found = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&current) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            let relative = path
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                found.insert(relative, bytes);
            }
        }
    }
    found
}

/// Every name under `dir`, links not followed (a link itself counts, not what it points at).
fn names(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&current) else {
            continue;
        };
        for entry in entries {
            let entry = entry.unwrap();
            found.push(
                entry
                    .path()
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
            );
            if entry.file_type().unwrap().is_dir() {
                stack.push(entry.path());
            }
        }
    }
    found.sort();
    found
}

/// Moves `relative` (a directory of the repo) to `outside/<name>` and leaves a link to it.
fn move_out(repo: &TestRepo, relative: &str, outside: &Path) -> std::path::PathBuf {
    let source = repo.path().join(relative);
    let target = outside.join(relative.replace('/', "-"));
    if source.exists() {
        std::fs::rename(&source, &target).unwrap();
    } else {
        std::fs::create_dir_all(&target).unwrap();
    }
    symlink(&target, &source).unwrap();
    target
}

fn dex_repo() -> TestRepo {
    TestRepo::with_env(
        "prod",
        &[
            "--domain",
            "dbos.acme.com",
            "--app-image",
            "ghcr.io/acme/app:v1",
            "--oidc",
            "dex",
        ],
    )
}

/// Every writing command, with what it reads on stdin.
fn writers(value_file: &Path) -> Vec<(Vec<String>, Vec<u8>)> {
    let secret =
        b"apiVersion: v1\nkind: Secret\nmetadata:\n  name: app-extra\nstringData:\n  token: abc\n";
    let strings = |words: &[&str]| words.iter().map(|word| word.to_string()).collect();
    vec![
        (strings(&["build", "--force"]), Vec::new()),
        (strings(&["seal", "--env", "prod"]), secret.to_vec()),
        (
            strings(&[
                "secrets",
                "set",
                "--env",
                "prod",
                "conductor-db",
                "database-url",
                "--from-file",
                &value_file.to_string_lossy(),
            ]),
            Vec::new(),
        ),
        (
            strings(&[
                "dex",
                "add-user",
                "--env",
                "prod",
                "admin@acme.com",
                "--password-stdin",
            ]),
            b"correct horse battery staple\n".to_vec(),
        ),
        (
            strings(&[
                "version",
                "add",
                "v2",
                "--env",
                "prod",
                "--image",
                "ghcr.io/acme/app:v2",
            ]),
            Vec::new(),
        ),
        (strings(&["tls", "--env", "prod"]), Vec::new()),
        (
            strings(&["version", "activate", "v1", "--env", "prod"]),
            Vec::new(),
        ),
        (
            strings(&[
                "init",
                "env",
                "staging",
                "--cert",
                &fixture("go-cert.pem").to_string_lossy(),
            ]),
            Vec::new(),
        ),
    ]
}

#[test]
fn issue_14_no_command_writes_through_a_link_out_of_the_repository() {
    for linked in [
        "environments/prod/secrets",
        "environments/prod",
        "environments",
        "base",
        "argocd",
    ] {
        let repo = dex_repo();
        let outside = tempfile::tempdir().unwrap();
        let value = outside.path().join("value");
        std::fs::write(&value, "postgresql://u:p@db/x").unwrap();
        move_out(&repo, linked, outside.path());
        let before_repo = repo.snapshot();
        let before_outside = files(outside.path());
        for (arguments, stdin) in writers(&value) {
            let arguments: Vec<&str> = arguments.iter().map(String::as_str).collect();
            let run = repo.run_with_stdin(&arguments, Some(&stdin));
            assert_eq!(
                run.code, 2,
                "{linked}: {arguments:?} must refuse\n{}\n{}",
                run.stdout, run.stderr
            );
            assert!(
                run.stderr
                    .contains(&format!("`{linked}` leads out of the repository")),
                "{linked}: {arguments:?}: {}",
                run.stderr
            );
            assert!(run.stderr.contains("hint:"), "{}", run.stderr);
            assert_eq!(
                files(outside.path()),
                before_outside,
                "{linked}: {arguments:?} wrote outside the repository"
            );
            assert_eq!(repo.snapshot(), before_repo, "{linked}: {arguments:?}");
        }
    }
}

#[test]
fn issue_14_init_does_not_write_through_a_link_out_of_the_repository() {
    let repo = TestRepo::empty();
    let outside = tempfile::tempdir().unwrap();
    symlink(outside.path(), repo.path().join("argocd")).unwrap();
    let run = repo.fails(&["init", "--repo-url", REPO_URL], 2);
    assert!(run.stderr.contains("`argocd` leads out"), "{}", run.stderr);
    assert!(names(outside.path()).is_empty());
    assert_eq!(names(repo.path()), ["argocd"]);
}

#[test]
fn issue_14_reads_through_a_file_link_out_of_the_repository_are_refused() {
    let repo = TestRepo::prod();
    let outside = tempfile::tempdir().unwrap();
    // A declaration and a generated file, each a link to a file elsewhere.
    for relative in ["environments/prod/versions.yaml", "base/kustomization.yaml"] {
        let target = outside.path().join("moved.yaml");
        std::fs::rename(repo.path().join(relative), &target).unwrap();
        symlink(&target, repo.path().join(relative)).unwrap();
        let before = std::fs::read(&target).unwrap();
        for arguments in [&["build"][..], &["build", "--check"], &["version", "list"]] {
            let run = repo.run(arguments);
            assert_eq!(run.code, 2, "{relative} {arguments:?}: {}", run.stderr);
            assert!(
                run.stderr.contains(&format!("`{relative}` leads out")),
                "{}",
                run.stderr
            );
        }
        assert_eq!(std::fs::read(&target).unwrap(), before);
        std::fs::remove_file(repo.path().join(relative)).unwrap();
        std::fs::rename(&target, repo.path().join(relative)).unwrap();
        repo.ok(&["build", "--check"]);
    }
}

#[test]
fn issue_14_links_that_stay_inside_the_repository_are_followed() {
    let repo = TestRepo::prod();
    std::fs::create_dir_all(repo.path().join("shared/prod-secrets")).unwrap();
    symlink(
        "../../shared/prod-secrets",
        repo.path().join("environments/prod/secrets"),
    )
    .unwrap();
    let secret =
        b"apiVersion: v1\nkind: Secret\nmetadata:\n  name: app-extra\nstringData:\n  token: abc\n";
    let run = repo.run_with_stdin(&["seal", "--env", "prod"], Some(secret));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(repo.exists("shared/prod-secrets/app-extra.yaml"));
    assert!(repo
        .read("environments/prod/kustomization.yaml")
        .contains("secrets/app-extra.yaml"));
    let check = repo.run(&["check", "--no-render", "--format", "json"]);
    assert!(
        !check.stdout.contains("path-leaves-repository"),
        "{}",
        check.stdout
    );
}

#[test]
fn issue_14_check_names_every_link_out_of_the_repository() {
    let repo = TestRepo::prod();
    let outside = tempfile::tempdir().unwrap();
    move_out(&repo, "base", outside.path());
    move_out(&repo, "environments/prod/secrets", outside.path());
    std::fs::write(outside.path().join("x.yaml"), "kind: Secret\n").unwrap();
    symlink(
        outside.path().join("x.yaml"),
        repo.path().join("argocd/x.yaml"),
    )
    .unwrap();
    // A dangling link out counts as well.
    symlink(
        outside.path().join("nothing"),
        repo.path().join("environments/prod/gone.yaml"),
    )
    .unwrap();
    let run = repo.run(&["check", "--no-render", "--format", "json"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    let mut flagged: Vec<(String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|finding| finding["code"] == "path-leaves-repository")
        .map(|finding| {
            assert_eq!(finding["severity"], "error");
            assert!(finding["hint"]
                .as_str()
                .unwrap()
                .contains("replace the link"));
            (
                finding["file"].as_str().unwrap().to_string(),
                finding["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    flagged.sort();
    let files: Vec<&str> = flagged.iter().map(|(file, _)| file.as_str()).collect();
    assert_eq!(
        files,
        [
            "argocd/x.yaml",
            "base",
            "environments/prod/gone.yaml",
            "environments/prod/secrets"
        ]
    );
    assert!(flagged[0]
        .1
        .contains(&outside.path().join("x.yaml").display().to_string()));
    // Text output names them too.
    let text = repo.run(&["check", "--no-render"]);
    assert_eq!(text.code, 1);
    assert!(
        text.stdout.contains("base: a symbolic link to"),
        "{}",
        text.stdout
    );
}

#[test]
fn issue_14_a_journal_never_moves_files_outside_the_repository() {
    let repo = TestRepo::prod();
    let outside = tempfile::tempdir().unwrap();
    let staged = outside.path().join(".dbos-gitops-planted");
    std::fs::write(&staged, "planted").unwrap();
    let repo_name = repo
        .path()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let outside_name = outside
        .path()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    for journal in [
        // Absolute, and with `..` from the root.
        serde_json::json!({"renames": [[staged, outside.path().join("victim")]], "removals": []}),
        serde_json::json!({"renames": [[format!("../{outside_name}/.dbos-gitops-planted"), format!("../{outside_name}/victim")]], "removals": []}),
        serde_json::json!({"renames": [], "removals": [format!("../{repo_name}/../{outside_name}/.dbos-gitops-planted")]}),
        // A rename from a file that is no staging file.
        serde_json::json!({"renames": [["dbos-gitops.yaml", "argocd/x.yaml"]], "removals": []}),
    ] {
        repo.write(".dbos-gitops-journal", &journal.to_string());
        let before = repo.snapshot();
        let run = repo.fails(&["build"], 2);
        assert!(
            run.stderr
                .contains("refusing to replay `.dbos-gitops-journal`"),
            "{}",
            run.stderr
        );
        assert_eq!(std::fs::read(&staged).unwrap(), b"planted");
        assert!(!outside.path().join("victim").exists());
        assert_eq!(repo.snapshot(), before);
    }
}

/// The binary in the repo, with `HOME` and `XDG_CONFIG_HOME` as given.
fn with_config(repo: &TestRepo, home: &Path, xdg: Option<&Path>, arguments: &[&str]) -> Command {
    let mut command = repo.command(arguments);
    command.env("HOME", home);
    if let Some(xdg) = xdg {
        command.env("XDG_CONFIG_HOME", xdg);
    }
    command
}

#[test]
fn issue_14_the_development_key_is_refused_inside_the_repository_however_reached() {
    let repo = TestRepo::new();
    let outside = tempfile::tempdir().unwrap();
    let link = outside.path().join("home-link");
    symlink(repo.path(), &link).unwrap();
    let repo_name = repo
        .path()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let dotted = outside.path().join("..").join(&repo_name).join("cfg");
    let cases: Vec<(&str, std::path::PathBuf, Option<std::path::PathBuf>)> = vec![
        ("HOME is the repository", repo.path().to_path_buf(), None),
        ("HOME links into it", link.clone(), None),
        (
            "XDG_CONFIG_HOME links into it",
            outside.path().to_path_buf(),
            Some(link.join("cfg")),
        ),
        (
            "XDG_CONFIG_HOME climbs into it",
            outside.path().to_path_buf(),
            Some(dotted),
        ),
    ];
    for (what, home, xdg) in cases {
        let before = names(repo.path());
        let run = Run::from(
            with_config(&repo, &home, xdg.as_deref(), &["init", "env", "staging"])
                .output()
                .unwrap(),
        );
        assert_eq!(run.code, 2, "{what}: {}\n{}", run.stdout, run.stderr);
        assert!(
            run.stderr
                .contains("development private key would be written inside the repository"),
            "{what}: {}",
            run.stderr
        );
        assert_eq!(
            names(repo.path()),
            before,
            "{what}: wrote into the repository"
        );
    }
    // And the value-MAC key: sealing works, re-encrypting every value, but no key is made.
    let repo = TestRepo::prod();
    let link = outside.path().join("prod-link");
    symlink(repo.path(), &link).unwrap();
    let secret =
        b"apiVersion: v1\nkind: Secret\nmetadata:\n  name: app-extra\nstringData:\n  token: abc\n";
    let run = pipe(
        &mut with_config(&repo, &link, None, &["seal", "--env", "prod"]),
        secret,
    );
    let run = Run::from(run);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!repo.exists(".config"), "{:?}", names(repo.path()));
    let named = repo.path().join("team-mac.key");
    std::fs::write(&named, "x").unwrap();
    let via_link = link.join("team-mac.key");
    let refused = Run::from(pipe(
        &mut with_config(
            &repo,
            outside.path(),
            None,
            &[
                "seal",
                "--env",
                "prod",
                "--mac-key-file",
                &via_link.to_string_lossy(),
            ],
        ),
        secret,
    ));
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("is inside the repository"),
        "{}",
        refused.stderr
    );
}

#[test]
fn issue_14_gitignore_covers_every_private_key_name() {
    let repo = TestRepo::with_dev_env("prod", &["--domain", "dbos.acme.com"]);
    let git = |arguments: &[&str]| {
        Command::new("git")
            .args(arguments)
            .current_dir(repo.path())
            .output()
            .expect("git")
    };
    assert!(git(&["init", "-q"]).status.success());
    // The names dbos-gitops gives private keys (the development key, the value-MAC key) and
    // the ones of the tools beside it, wherever a copy lands in the tree.
    let dev_key = repo.dev_key("prod");
    let dev_key_name = dev_key.file_name().unwrap().to_string_lossy().into_owned();
    for name in [
        dev_key_name.as_str(),
        "environments/prod/copied.key.pem",
        "seal-mac.key",
        "environments/prod/seal-mac.key",
        "tls.key",
        "sealed-secrets-key.pem",
        ".dbos-gitops-journal",
        ".dbos-gitops-x1y2z3",
    ] {
        let output = git(&["check-ignore", "-q", name]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "`{name}` is not ignored:\n{}",
            repo.read(".gitignore")
        );
    }
    // Declarations and certificates are not.
    for name in [
        "environments/prod/sealing-cert.pem",
        "environments/prod/env.yaml",
    ] {
        assert_eq!(
            git(&["check-ignore", "-q", name]).status.code(),
            Some(1),
            "{name}"
        );
    }
    // `init` on a repository with a `.gitignore` keeps its lines and adds only what is missing.
    let fresh = TestRepo::empty();
    fresh.write(".gitignore", "target/\n*.key\n");
    fresh.ok(&["init", "--repo-url", REPO_URL]);
    let text = fresh.read(".gitignore");
    assert!(text.starts_with("target/\n*.key\n"), "{text}");
    assert_eq!(text.matches("*.key\n").count(), 1, "{text}");
    assert!(text.contains("*.key.pem\n"), "{text}");
}

#[test]
fn issue_14_declarations_must_be_utf8() {
    let repo = dex_repo();
    repo.ok(&[
        "dex",
        "add-user",
        "--env",
        "prod",
        "admin@acme.com",
        "--password-file",
        &{
            let file = repo.home.path().join("pw");
            std::fs::write(&file, "correct horse battery staple").unwrap();
            file.to_string_lossy().into_owned()
        },
    ]);
    for (relative, find, replace) in [
        (
            "environments/prod/versions.yaml",
            "acme/app",
            b"acme/\xe9pp".as_slice(),
        ),
        (
            "environments/prod/dex-users.yaml",
            "admin",
            b"adm\xffin".as_slice(),
        ),
        (
            "environments/prod/env.yaml",
            "dbos.acme.com",
            b"dbos.\xe9.com".as_slice(),
        ),
        (".dbos-gitops.sha256", "base/", b"base\xc3/".as_slice()),
    ] {
        let good = std::fs::read(repo.path().join(relative)).unwrap();
        let text = String::from_utf8(good.clone()).unwrap();
        let at = text
            .find(find)
            .unwrap_or_else(|| panic!("{find} in {relative}"));
        let mut bad = good[..at].to_vec();
        bad.extend_from_slice(replace);
        bad.extend_from_slice(&good[at + find.len()..]);
        let bad_offset = at + replace.iter().position(|byte| *byte >= 0x80).unwrap();
        let line = text[..bad_offset].matches('\n').count() + 1;
        std::fs::write(repo.path().join(relative), &bad).unwrap();
        let before = repo.snapshot();
        let said = format!(
            "not UTF-8: byte 0x{:02x} at offset {bad_offset} (line {line},",
            bad[bad_offset]
        );
        // `check` reports a declaration as a finding (#24 item 5); the record ends it too.
        let declaration = relative.starts_with("environments/");
        let mut refusing = vec![&["build"][..], &["secrets", "list", "--env", "prod"]];
        if !declaration {
            refusing.push(&["check", "--no-render"]);
        }
        for arguments in refusing {
            let run = repo.fails(arguments, 2);
            assert!(
                run.stderr.contains(&format!("`{relative}`: {said}")),
                "{arguments:?} {relative}: {}",
                run.stderr
            );
            assert!(
                run.stderr.contains("hint: save the file as UTF-8"),
                "{}",
                run.stderr
            );
        }
        if declaration {
            let run = repo.fails(&["check", "--no-render", "--format", "json"], 1);
            let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
            let finding = report["findings"]
                .as_array()
                .unwrap()
                .iter()
                .find(|finding| finding["code"] == "invalid-declaration")
                .unwrap_or_else(|| panic!("{relative}: {report:#}"));
            assert_eq!(finding["file"], relative, "{finding:#}");
            assert_eq!(finding["line"], line, "{finding:#}");
            assert!(finding["message"].as_str().unwrap().starts_with(&said));
            let text = repo.fails(&["check", "--no-render"], 1);
            assert!(
                text.stdout.contains(&format!("{relative}:{line}:")) && text.stdout.contains(&said),
                "{}",
                text.stdout
            );
            assert!(text.stdout.contains("hint: save the file as UTF-8"));
        }
        assert_eq!(repo.snapshot(), before);
        std::fs::write(repo.path().join(relative), &good).unwrap();
    }
    repo.ok(&["build", "--check"]);
}

#[test]
fn issue_14_only_files_in_secrets_are_secrets() {
    let repo = TestRepo::prod();
    std::fs::create_dir_all(repo.path().join("environments/prod/secrets/x.yaml")).unwrap();
    repo.ok(&["build"]);
    let kustomization = repo.read("environments/prod/kustomization.yaml");
    assert!(!kustomization.contains("secrets/x.yaml"), "{kustomization}");
    repo.ok(&["build", "--check"]);
}

#[test]
fn issue_14_secrets_set_validates_names_before_reading_its_file() {
    let repo = TestRepo::prod();
    // A file that cannot be read: an error about it would mean it was opened first.
    let unreadable = repo.home.path().join("no-such-dir/value");
    let path = unreadable.to_string_lossy().into_owned();
    for (secret, key, complaint) in [
        ("Bad Name", "database-url", "Bad Name"),
        ("conductor-db", "../x", "../x"),
        ("conductor-db", "a b", "a b"),
    ] {
        let run = repo.fails(
            &[
                "secrets",
                "set",
                "--env",
                "prod",
                secret,
                key,
                "--from-file",
                &path,
            ],
            2,
        );
        assert!(run.stderr.contains(complaint), "{}", run.stderr);
        assert!(
            !run.stderr.contains("no-such-dir"),
            "read the file first: {}",
            run.stderr
        );
    }
}

/// Runs the binary under `umask 000`.
fn with_umask_000(repo: &TestRepo, home: &Path, arguments: &[&str], stdin: &[u8]) -> Run {
    let template = repo.command(arguments);
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg("umask 000; exec \"$0\" \"$@\"")
        .arg(template.get_program())
        .args(template.get_args())
        .current_dir(repo.path());
    for (name, value) in template.get_envs() {
        match value {
            Some(value) => command.env(name, value),
            None => command.env_remove(name),
        };
    }
    command.env("HOME", home);
    Run::from(pipe(&mut command, stdin))
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()))
        .permissions()
        .mode()
        & 0o7777
}

#[test]
fn issue_14_private_directories_and_keys_are_private_under_umask_000() {
    let repo = TestRepo::new();
    let home = tempfile::tempdir().unwrap();
    let run = with_umask_000(
        &repo,
        home.path(),
        &["init", "env", "prod", "--domain", "dbos.acme.com"],
        b"",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let config = home.path().join(".config");
    for dir in [
        config.clone(),
        config.join("dbos-gitops"),
        config.join("dbos-gitops/dev-keys"),
    ] {
        assert_eq!(mode(&dir), 0o700, "{}", dir.display());
    }
    let keys: Vec<_> = std::fs::read_dir(config.join("dbos-gitops/dev-keys"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    assert_eq!(keys.len(), 1);
    assert_eq!(mode(&keys[0]), 0o600);
    // What a user commits stays readable: umask 000 does not make it world-writable either.
    assert_eq!(mode(&repo.path().join("environments/prod/env.yaml")), 0o644);

    // The value-MAC key, made on first seal, into a directory that was left loose.
    std::fs::set_permissions(
        config.join("dbos-gitops"),
        std::fs::Permissions::from_mode(0o777),
    )
    .unwrap();
    let secret =
        b"apiVersion: v1\nkind: Secret\nmetadata:\n  name: app-extra\nstringData:\n  token: abc\n";
    let run = with_umask_000(&repo, home.path(), &["seal", "--env", "prod"], secret);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(mode(&config.join("dbos-gitops/seal-mac.key")), 0o600);
    assert_eq!(mode(&config.join("dbos-gitops")), 0o700);

    // A second environment's key into a dev-keys directory someone loosened.
    std::fs::set_permissions(
        config.join("dbos-gitops/dev-keys"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    let run = with_umask_000(&repo, home.path(), &["init", "env", "staging"], b"");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(mode(&config.join("dbos-gitops/dev-keys")), 0o700);
}

#[test]
fn issue_14_a_killed_init_env_still_puts_its_development_key_in_place() {
    // The one rename of an intent record outside the repository: the development key, into
    // the private configuration directory. Recovery accepts that and nothing else outside.
    let repo = TestRepo::new();
    let run = Run::from(
        repo.command(&["init", "env", "prod", "--domain", "dbos.acme.com"])
            .env("DBOS_GITOPS_FAILPOINT", "rename:1")
            .output()
            .unwrap(),
    );
    assert_ne!(run.code, 0, "the failpoint did not fire");
    let journal = repo.read(".dbos-gitops-journal");
    assert!(journal.contains("dev-keys/"), "{journal}");
    let run = repo.run(&["build"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("finished a write"), "{}", run.stderr);
    assert!(!repo.exists(".dbos-gitops-journal"));
    assert_eq!(mode(&repo.dev_key("prod")), 0o600);
}

#[test]
fn check_of_an_environment_behind_a_link_out_names_the_link() {
    let repo = TestRepo::prod();
    let outside = tempfile::tempdir().unwrap();
    move_out(&repo, "environments/prod", outside.path());
    let run = repo.run(&["check", "--no-render", "--env", "prod"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("environments/prod: a symbolic link to"),
        "{}",
        run.stdout
    );
    assert!(!run.stderr.contains("no environment"), "{}", run.stderr);
    // Without a link out, an environment that is not there is still an error of its own.
    let missing = TestRepo::prod().run(&["check", "--no-render", "--env", "staging"]);
    assert_eq!(missing.code, 2, "{}\n{}", missing.stdout, missing.stderr);
}
