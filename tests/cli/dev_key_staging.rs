//! Issue 23 item 11: a killed `init env` leaves its private-key staging file in
//! `~/.config/dbos-gitops/dev-keys/`, outside the repository, where the repository's own sweep
//! never looks. The next `init env` removes our day-old staging files there, and nothing else:
//! not a young one (a live writer may own it), not a key, not a symbolic link or what it names.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::support::*;

fn dev_keys(repo: &TestRepo) -> PathBuf {
    repo.home.path().join(".config/dbos-gitops/dev-keys")
}

fn staging_files(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(".dbos-gitops-")
        })
        .collect();
    found.sort();
    found
}

fn age(path: &Path, by: Duration) {
    let file = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    file.set_modified(SystemTime::now() - by).unwrap();
}

#[test]
fn a_killed_init_envs_key_staging_file_is_swept_by_a_later_init_env_and_nothing_else() {
    let repo = TestRepo::new();
    let dir = dev_keys(&repo);
    // Killed (abort, as `kill -9`) before the third staged file: the certificate and the
    // private key are staged, nothing is renamed.
    let mut killed = repo.command(&["init", "env", "dev"]);
    killed.env("DBOS_GITOPS_FAILPOINT", "stage:3");
    let killed = Run::from(killed.output().unwrap());
    assert_ne!(
        killed.code, 0,
        "the failpoint did not fire: {}",
        killed.stderr
    );
    let left = staging_files(&dir);
    assert_eq!(left.len(), 1, "{left:?}");
    let staged = &left[0];
    assert!(
        std::fs::read_to_string(staged)
            .unwrap()
            .contains("PRIVATE KEY"),
        "the staging file is not the private key"
    );

    // Right after, it may belong to a live writer: kept.
    repo.ok(&["init", "env", "dev"]);
    assert!(staged.exists(), "a young staging file was removed");

    // A day later it is litter. Beside it: a young staging file, a real key (old), and an old
    // symbolic link named like a staging file that points at a file of the user's.
    age(staged, Duration::from_secs(25 * 3600));
    let young = dir.join(".dbos-gitops-young1");
    std::fs::write(&young, "young").unwrap();
    let key = repo.dev_key("dev");
    age(&key, Duration::from_secs(400 * 24 * 3600));
    let outside = tempfile::tempdir().unwrap();
    let precious = outside.path().join("precious");
    std::fs::write(&precious, "keep me").unwrap();
    age(&precious, Duration::from_secs(400 * 24 * 3600));
    let link = dir.join(".dbos-gitops-link01");
    std::os::unix::fs::symlink(&precious, &link).unwrap();

    let run = repo.run(&["init", "env", "staging"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "removed 1 private-key staging file(s) a killed `init env` left in `{}`",
            dir.display()
        )),
        "{}",
        run.stderr
    );
    assert!(!staged.exists(), "the stale staging file is still there");
    assert!(young.exists(), "a young staging file was removed");
    assert!(key.exists(), "a development key was removed");
    assert!(
        std::fs::symlink_metadata(&link).is_ok(),
        "the link was removed"
    );
    assert_eq!(std::fs::read_to_string(&precious).unwrap(), "keep me");
    // Nothing to sweep: nothing said.
    let run = repo.run(&["init", "env", "qa"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stderr.contains("staging file"), "{}", run.stderr);
}
