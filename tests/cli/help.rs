//! The command-line contract: every command answers `--help` with an example, and shell
//! completions name every command.

use crate::support::*;

const COMMANDS: &[&[&str]] = &[
    &["init"],
    &["init", "env"],
    &["build"],
    &["check"],
    &["seal"],
    &["secrets", "set"],
    &["secrets", "list"],
    &["unseal"],
    &["version", "add"],
    &["version", "list"],
    &["version", "activate"],
    &["version", "promote"],
    &["retire"],
    &["tls"],
    &["dex", "add-user"],
    &["dex", "remove-user"],
    &["dex", "hash"],
    &["completions"],
];

#[test]
fn every_command_has_help_with_an_example() {
    let repo = TestRepo::empty();
    for command in COMMANDS {
        let mut arguments = command.to_vec();
        arguments.push("--help");
        let run = repo.run(&arguments);
        assert_eq!(run.code, 0, "{arguments:?}: {}", run.stderr);
        assert!(
            run.stdout.contains("Example"),
            "{arguments:?} --help has no example:\n{}",
            run.stdout
        );
        assert!(run.stdout.contains("dbos-gitops"), "{arguments:?}");
    }
    let version = repo.ok(&["--version"]);
    assert!(version.starts_with("dbos-gitops "), "{version}");
    let usage = repo.run(&["build", "--no-such-flag"]);
    assert_eq!(usage.code, 2);
}

#[test]
fn completions_name_every_command() {
    let repo = TestRepo::empty();
    let bash = repo.ok(&["completions", "bash"]);
    for command in [
        "init", "build", "seal", "secrets", "unseal", "version", "retire",
    ] {
        assert!(bash.contains(command), "bash completions miss {command}");
    }
    assert!(repo
        .ok(&["completions", "zsh"])
        .contains("#compdef dbos-gitops"));
}
