//! The refusals every command shares: no repository, an unknown environment (with its
//! did-you-mean), `--env` left out with several environments, a clap usage error, generated
//! files edited by hand, a repository another command holds locked.

use super::*;

#[test]
fn no_repository() {
    let repo = TestRepo::empty();
    let mut t = Transcript::new(&repo);
    t.run(&["build"]);
    t.run(&["check"]);
    t.run(&["secrets", "list"]);
    t.run(&["version", "list"]);
    t.snapshot("no_repository");
}

#[test]
fn unknown_environment_and_env_left_out() {
    let repo = TestRepo::prod();
    repo.add_env("staging");
    let mut t = Transcript::new(&repo);
    t.run(&["build", "--env", "prd"]);
    t.run(&["build", "--env", "nope"]);
    t.run(&["check", "--env", "prd"]);
    t.run(&["tls", "--env", "stagin"]);
    t.run(&["version", "add", "v2", "--image", "ghcr.io/acme/app:v2"]);
    t.run(&["build", "--env", "Not_A_Name"]);
    t.snapshot("unknown_environment_and_env_left_out");
}

#[test]
fn usage_errors() {
    let repo = TestRepo::prod();
    let mut t = Transcript::new(&repo);
    t.run(&["biuld"]);
    t.run(&["build", "--chek"]);
    t.run(&["tls", "--env", "prod", "--reissue"]);
    t.run(&["version", "add", "v2"]);
    t.run(&["diff", "--format", "html"]);
    t.snapshot("usage_errors");
}

#[test]
fn generated_files_edited_by_hand() {
    let repo = TestRepo::prod();
    let mut t = Transcript::new(&repo);
    t.edit("environments/prod/patches/conductor.yaml", |text| {
        text + "# a hand edit\n"
    });
    t.run(&["build", "--check"]);
    t.run(&["build"]);
    t.run(&[
        "version",
        "add",
        "v2",
        "--env",
        "prod",
        "--image",
        "ghcr.io/acme/app:v2",
    ]);
    t.run(&["check", "--no-render"]);
    t.run(&["build", "--force"]);
    t.run(&["build", "--check"]);
    t.snapshot("generated_files_edited_by_hand");
}

#[test]
fn a_locked_repository() {
    if !crate::support::require_tool("flock", &["--version"]) {
        return;
    }
    let repo = TestRepo::prod();
    let mut t = Transcript::new(&repo);
    let mut holder = Command::new("flock")
        .arg(repo.path())
        .args(["sleep", "30"])
        .spawn()
        .expect("flock");
    // Until flock(1) holds the lock: a writer with no patience is refused.
    let started = std::time::Instant::now();
    loop {
        let probe = repo
            .command(&["build"])
            .env("DBOS_GITOPS_LOCK_TIMEOUT", "0")
            .output()
            .unwrap();
        if probe.status.code() == Some(2) || started.elapsed().as_secs() > 10 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    t.run_env(&["build"], &[("DBOS_GITOPS_LOCK_TIMEOUT", "0")]);
    t.say("readers do not wait for the lock");
    t.run(&["version", "list"]);
    let _ = holder.kill();
    let _ = holder.wait();
    t.run_env(&["build"], &[("DBOS_GITOPS_LOCK_TIMEOUT", "forever")]);
    t.snapshot("a_locked_repository");
}
