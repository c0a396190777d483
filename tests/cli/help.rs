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

/// `completions SHELL` is the dynamic registration (the same script `COMPLETE=SHELL
/// dbos-gitops` prints), and the binary, asked as the script asks, names every command.
/// The shells themselves run it in tests/cli/completions.rs.
#[test]
fn completions_name_every_command() {
    let repo = TestRepo::empty();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let script = repo.ok(&["completions", shell]);
        let mut same = repo.command(&[]);
        let same = same.env("COMPLETE", shell).output().unwrap();
        assert_eq!(String::from_utf8_lossy(&same.stdout), script, "{shell}");
        assert!(
            script.contains("COMPLETE") && script.contains("dbos-gitops"),
            "{shell}: {script}"
        );
    }
    assert!(repo
        .ok(&["completions", "zsh"])
        .contains("#compdef dbos-gitops"));
    let mut ask = repo.command(&["--", "dbos-gitops", ""]);
    let ask = ask
        .env("COMPLETE", "bash")
        .env("_CLAP_COMPLETE_INDEX", "1")
        .env("_CLAP_IFS", "\n")
        .output()
        .unwrap();
    let offered: Vec<String> = String::from_utf8_lossy(&ask.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    for command in [
        "init",
        "build",
        "check",
        "seal",
        "secrets",
        "unseal",
        "reseal",
        "version",
        "retire",
        "tls",
        "dex",
        "database",
        "conductor",
        "diff",
        "schema",
        "completions",
    ] {
        assert!(
            offered.iter().any(|c| c == command),
            "completion misses {command}: {offered:?}"
        );
    }
    assert!(
        !offered.iter().any(|c| c == "man"),
        "the hidden `man` is offered: {offered:?}"
    );
}
