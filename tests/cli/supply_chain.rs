//! `cargo deny` (#25): tests/run.sh runs `tests/deny.sh` over deny.toml, and it must pass. These
//! hold that what it checks is real: the advisory database it falls back to without GitHub
//! (supply-chain/advisory-db) finds the advisory deny.toml excuses once the excuse is gone, and
//! a duplicate crate without its `skip` entry fails the bans check; each exception carries a
//! reason; the ban on `ring` looks at the build graph.

use std::process::Command;

use crate::support::{project_root, require_tool};

/// Runs tests/deny.sh with `config` (deny.toml with `edit` applied) for `checks`.
fn deny_with(edit: impl Fn(&str) -> String, checks: &[&str]) -> Option<(bool, String)> {
    if !require_tool("cargo-deny", &["--version"]) {
        return None;
    }
    let root = project_root();
    let original = std::fs::read_to_string(root.join("deny.toml")).expect("deny.toml");
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("deny.toml");
    std::fs::write(&config, edit(&original)).expect("write the edited deny.toml");
    let output = Command::new("bash")
        .arg(root.join("tests/deny.sh"))
        .arg("--config")
        .arg(&config)
        .args(checks)
        .current_dir(&root)
        .output()
        .expect("run tests/deny.sh");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    Some((output.status.success(), text))
}

#[test]
fn the_advisory_database_finds_the_excused_advisory_once_the_excuse_goes() {
    let Some((passed, text)) = deny_with(|config| config.to_string(), &["advisories"]) else {
        return;
    };
    assert!(passed, "deny.toml as it is passes:\n{text}");
    let without_ignore = |config: &str| {
        let start = config.find("ignore = [").expect("an ignore list");
        let end = start + config[start..].find("\n]\n").expect("its end") + 3;
        format!("{}ignore = []\n{}", &config[..start], &config[end..])
    };
    let Some((passed, text)) = deny_with(without_ignore, &["advisories"]) else {
        return;
    };
    assert!(
        !passed,
        "without the exception the advisory must fail:\n{text}"
    );
    assert!(text.contains("RUSTSEC-2023-0071"), "{text}");
}

#[test]
fn a_duplicate_crate_without_its_reasoned_skip_fails_the_bans_check() {
    let root = project_root();
    let config = std::fs::read_to_string(root.join("deny.toml")).expect("deny.toml");
    // Every exception says why.
    for line in config
        .lines()
        .filter(|line| line.trim_start().starts_with("{ "))
    {
        assert!(
            line.contains("reason = \""),
            "an exception without a reason: {line}"
        );
    }
    let without_digest = |config: &str| {
        config
            .lines()
            .filter(|line| !line.contains("\"digest@0.10.7\""))
            .map(|line| format!("{line}\n"))
            .collect::<String>()
    };
    let Some((passed, text)) = deny_with(without_digest, &["bans"]) else {
        return;
    };
    assert!(
        !passed,
        "two versions of digest without a skip must fail:\n{text}"
    );
    assert!(text.contains("digest"), "{text}");
}

/// One crypto backend (#25): deny.toml bans `ring` from the build graph, which passes, and the
/// same ban of a crate that is in the graph (`aws-lc-rs`, the backend) fails: the ban looks at
/// what is built, not at Cargo.lock, where `ring` keeps an entry (cargo#10801).
#[test]
fn ring_is_banned_from_the_build_graph_and_a_ban_of_a_built_crate_fails() {
    let Some((passed, text)) = deny_with(|config| config.to_string(), &["bans"]) else {
        return;
    };
    assert!(passed, "deny.toml as it is passes:\n{text}");
    let config = std::fs::read_to_string(project_root().join("deny.toml")).expect("deny.toml");
    assert!(
        config.contains("{ crate = \"ring\", reason = \""),
        "deny.toml bans ring"
    );
    let ban_the_backend =
        |config: &str| config.replace("{ crate = \"ring\",", "{ crate = \"aws-lc-rs\",");
    let Some((passed, text)) = deny_with(ban_the_backend, &["bans"]) else {
        return;
    };
    assert!(!passed, "a banned crate in the graph must fail:\n{text}");
    assert!(text.contains("aws-lc-rs"), "{text}");
}
