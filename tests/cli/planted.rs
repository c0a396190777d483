//! A journal nobody can plant (#23, item 1): a `.dbos-gitops-journal` the tool did not write
//! here (committed with `git add -f` and cloned, shipped in a tarball, written by another user,
//! or left stale) is refused by the next writing command, exit 2, with the tree and `.git`
//! byte-identical; the tool's own interrupted writes still roll forward (`faults`).

use std::collections::BTreeMap;
use std::path::Path;

use dbos_gitops::repo::journal::{self, Journal, Step};
use dbos_gitops::repo::journal_key;

use crate::support::*;

const ATTACKER_CERT: &str =
    "-----BEGIN CERTIFICATE-----\nMIIBattacker\n-----END CERTIFICATE-----\n";

/// Every file under `dir`, `.git` included, with its bytes.
fn all_bytes(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        for entry in std::fs::read_dir(&current).unwrap() {
            let path = entry.unwrap().path();
            let relative = path
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.insert(relative, std::fs::read(&path).unwrap());
            }
        }
    }
    files
}

fn have_git() -> bool {
    std::process::Command::new("git")
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success())
}

/// The journal of the first tool (#14), as the issue's attacker wrote it: removals of `.git`
/// and of a declaration, and a staged certificate renamed onto the sealing certificate.
fn plant_old_format(repo: &TestRepo) {
    repo.write("environments/prod/.dbos-gitops-AbC123", ATTACKER_CERT);
    repo.write(
        ".dbos-gitops-journal",
        r#"{"renames":[["environments/prod/.dbos-gitops-AbC123","environments/prod/sealing-cert.pem"]],"removals":[".git/config",".git/HEAD","environments/prod/versions.yaml"]}"#,
    );
    repo.write(".dbos-gitops-writing", "");
}

/// A journal in today's format, authenticated with a key that is not the victim's, beside a
/// marker holding its nonce.
fn plant_forged(repo: &TestRepo) {
    repo.write("environments/prod/.dbos-gitops-AbC123", ATTACKER_CERT);
    let nonce = "0123456789abcdef0123456789abcdef".to_string();
    let forged = Journal {
        nonce: nonce.clone(),
        steps: vec![
            Step::Rename {
                staged: "environments/prod/.dbos-gitops-AbC123".into(),
                target: "environments/prod/sealing-cert.pem".into(),
                sha256: dbos_gitops::layout::digest(ATTACKER_CERT.as_bytes()),
            },
            Step::Remove {
                path: "environments/prod/kustomization.yaml".into(),
                sha256: dbos_gitops::layout::digest(
                    repo.read("environments/prod/kustomization.yaml").as_bytes(),
                ),
            },
        ],
    };
    let mac = journal_key::mac(
        b"the attacker's own key",
        &serde_json::to_vec(&forged).unwrap(),
    );
    std::fs::write(
        repo.path().join(".dbos-gitops-journal"),
        journal::encode(&forged, &mac),
    )
    .unwrap();
    repo.write(".dbos-gitops-writing", &nonce);
}

/// Every writing command run over `repo` refuses (exit 2) naming the journal and what to do,
/// and leaves every byte (`.git` included) as it was.
fn refused_by_writers(repo: &TestRepo, reason: &str) {
    let before = all_bytes(repo.path());
    for arguments in [
        &["build"][..],
        &[
            "version",
            "add",
            "v2",
            "--env",
            "prod",
            "--image",
            "ghcr.io/acme/app:v2",
        ],
        &[
            "secrets",
            "set",
            "conductor-license",
            "license-key",
            "--env",
            "prod",
            "--from-stdin",
        ],
    ] {
        let run = repo.run_with_stdin(arguments, Some(b"s3cret\n"));
        assert_eq!(run.code, 2, "{arguments:?}: {}\n{}", run.stdout, run.stderr);
        assert!(
            run.stderr
                .contains("refusing to replay `.dbos-gitops-journal`")
                && run.stderr.contains(reason)
                && run.stderr.contains("rm -f .dbos-gitops-journal"),
            "{arguments:?}: {}",
            run.stderr
        );
        let after = all_bytes(repo.path());
        assert!(before == after, "{arguments:?} changed the tree or .git");
    }
}

#[test]
fn issue_23_a_journal_committed_in_git_and_cloned_is_refused_byte_identical() {
    if !have_git() {
        eprintln!("skipped: no git");
        return;
    }
    let origin = TestRepo::prod();
    git(origin.path(), &["init", "-q", "-b", "main"]);
    plant_old_format(&origin);
    git(origin.path(), &["add", "-A"]);
    git(
        origin.path(),
        &[
            "add",
            "-f",
            ".dbos-gitops-journal",
            ".dbos-gitops-writing",
            "environments/prod/.dbos-gitops-AbC123",
        ],
    );
    git(origin.path(), &["commit", "-q", "-m", "planted"]);
    let victim = TestRepo::empty();
    let url = origin.path().to_string_lossy().into_owned();
    git(victim.path(), &["clone", "-q", &url, "."]);
    assert!(victim.exists(".dbos-gitops-journal") && victim.exists(".git/config"));
    refused_by_writers(&victim, "git tracks it");
    assert_eq!(
        victim.read("environments/prod/sealing-cert.pem"),
        origin.read("environments/prod/sealing-cert.pem")
    );
}

#[test]
fn issue_23_a_journal_of_the_old_format_from_a_tarball_is_refused() {
    let repo = TestRepo::prod();
    plant_old_format(&repo);
    refused_by_writers(&repo, "is not a dbos-gitops journal");
}

#[test]
fn issue_23_a_journal_authenticated_by_another_key_is_refused() {
    let repo = TestRepo::prod();
    // The victim has a journal key of their own (any earlier write made it).
    repo.ok(&["build", "--force"]);
    plant_forged(&repo);
    refused_by_writers(&repo, "does not match this user's journal key");
    // A user who never wrote has no key: refused as well.
    let fresh = TestRepo::prod();
    std::fs::remove_file(fresh.home.path().join(".config/dbos-gitops/journal.key")).unwrap();
    plant_forged(&fresh);
    refused_by_writers(&fresh, "has no journal key");
}

/// The victim's own journal (a `build` killed after the journal was written), whose staged
/// files were deleted since: its removals must not run either.
#[test]
fn issue_23_a_stale_journal_of_our_own_is_refused_removals_included() {
    let repo = TestRepo::prod();
    repo.add_version("v2", "prod");
    let versions = repo.read("environments/prod/versions.yaml");
    let kept: String = versions
        .split_inclusive('\n')
        .filter(|line| !line.contains("v1"))
        .collect();
    repo.write("environments/prod/versions.yaml", &kept);
    let killed = Run::from(pipe(
        repo.command(&["build"])
            .env("DBOS_GITOPS_FAILPOINT", "rename:1"),
        b"",
    ));
    assert_eq!(killed.code, -1, "{}", killed.stderr);
    assert!(repo.exists(".dbos-gitops-journal"));
    let text = std::fs::read(repo.path().join(".dbos-gitops-journal")).unwrap();
    let (ours, _) = journal::parse(&text).expect("our journal parses");
    assert!(
        ours.steps
            .iter()
            .any(|step| matches!(step, Step::Remove { .. })),
        "the build removes v1's files"
    );
    // Someone deletes the staged files (a `git clean -fdX`): the renames cannot happen.
    for path in all_bytes(repo.path()).keys() {
        let name = Path::new(path)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        if journal::is_staging_name(&name) {
            std::fs::remove_file(repo.path().join(path)).unwrap();
        }
    }
    let before = all_bytes(repo.path());
    let run = repo.fails(&["build"], 2);
    assert!(run.stderr.contains("it is stale"), "{}", run.stderr);
    assert!(
        before == all_bytes(repo.path()),
        "a stale journal changed the tree"
    );
}
