//! Man pages (#24 item 8): `dbos-gitops man --out DIR` writes one page per command and
//! subcommand from the clap definitions, and the real `man -l` (groff underneath) renders them
//! with the command's flags.

use crate::support::*;
use std::process::Command;

#[test]
fn every_command_gets_a_page_that_man_renders_with_its_flags() {
    let repo = TestRepo::empty();
    let out = repo.home.path().join("man1");
    let listed = repo.ok(&["man", "--out", out.to_str().unwrap()]);
    let mut pages: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    pages.sort();
    assert_eq!(listed.lines().count(), pages.len(), "{listed}");
    for page in [
        "dbos-gitops.1",
        "dbos-gitops-retire.1",
        "dbos-gitops-version.1",
        "dbos-gitops-version-add.1",
        "dbos-gitops-secrets-set.1",
        "dbos-gitops-init-env.1",
        "dbos-gitops-completions.1",
    ] {
        assert!(pages.contains(&page.to_string()), "no {page} in {pages:?}");
    }
    // The hidden `man` command documents itself nowhere.
    assert!(
        !pages.iter().any(|page| page == "dbos-gitops-man.1"),
        "{pages:?}"
    );

    if !require_tool("man", &["--version"]) {
        return;
    }
    let rendered = Command::new("man")
        .arg("-l")
        .arg(out.join("dbos-gitops-version-add.1"))
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "100")
        .env("LC_ALL", "C")
        .output()
        .unwrap();
    assert!(
        rendered.status.success(),
        "{}",
        String::from_utf8_lossy(&rendered.stderr)
    );
    // `man` through a pipe prints plain text; overstrike bold is taken out for the checks.
    let text = strip_overstrike(&String::from_utf8_lossy(&rendered.stdout));
    for expected in [
        "NAME",
        "dbos-gitops-version-add",
        "SYNOPSIS",
        "--image",
        "--no-activate",
        "--env",
    ] {
        assert!(
            text.contains(expected),
            "no `{expected}` in the rendered page:\n{text}"
        );
    }
    // The description is the command's doc comment, the same text as `--help`.
    let help = repo.ok(&["version", "add", "--help"]);
    assert!(
        help.contains("Deployment") && text.contains("Deployment"),
        "{text}"
    );
}

/// `a\x08a` (bold) and `_\x08a` (underline) to `a`.
fn strip_overstrike(text: &str) -> String {
    let mut out: Vec<char> = Vec::new();
    for c in text.chars() {
        if c == '\u{8}' {
            out.pop();
            continue;
        }
        out.push(c);
    }
    out.into_iter()
        .collect::<String>()
        .replace(['\u{2010}', '\u{2212}'], "-")
}
