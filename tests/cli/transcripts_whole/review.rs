//! Review and CI: `check` (text and `--format json`, with findings and clean) and `diff`
//! (text, `--format markdown`, `--format json`) against a git commit.

use super::*;

/// Every secret `prod` references, sealed, and its TLS certificate issued: a clean `check`.
fn sealed_prod() -> TestRepo {
    let repo = TestRepo::prod();
    for (secret, key, value) in [
        ("conductor-api-key", "api-key", "not-a-real-api-key"),
        (
            "conductor-db",
            "database-url",
            "postgres://c:not-a-password@db/conductor",
        ),
        ("conductor-license", "license-key", "not-a-real-license"),
        (
            "dbos-app-db",
            "database-url",
            "postgres://a:not-a-password@db/app",
        ),
        (
            "postgres-admin",
            "database-url",
            "postgres://p:not-a-password@db/app",
        ),
    ] {
        let arguments = [
            "secrets",
            "set",
            "--env",
            "prod",
            secret,
            key,
            "--from-stdin",
        ];
        let run = repo.run_with_stdin(&arguments, Some(value.as_bytes()));
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    repo.ok(&["tls", "--env", "prod"]);
    repo
}

#[test]
fn check_with_findings() {
    let repo = TestRepo::prod();
    let mut t = Transcript::new(&repo);
    t.run(&["check"]);
    t.run(&["check", "--format", "json"]);
    t.run(&["check", "--no-render"]);
    t.say("a declaration check refuses: an unknown field");
    t.edit("environments/prod/env.yaml", |text| {
        text.replace(
            "domain: dbos.acme.com",
            "domain: dbos.acme.com\ndomian: typo.acme.com",
        )
    });
    t.run(&["check"]);
    t.run(&["check", "--format", "json"]);
    t.snapshot("check_with_findings");
}

#[test]
fn check_clean() {
    let repo = sealed_prod();
    let mut t = Transcript::new(&repo);
    t.run(&["check"]);
    t.run(&["check", "--format", "json"]);
    t.run(&["check", "--no-render", "-q"]);
    t.snapshot("check_clean");
}

#[test]
fn diff_in_every_format() {
    let repo = sealed_prod();
    let mut t = Transcript::new(&repo);
    t.say("outside a git repository");
    t.run(&["diff"]);
    t.commit("prod");
    t.run(&["diff"]);
    t.run(&[
        "version",
        "add",
        "v2",
        "--env",
        "prod",
        "--image",
        "ghcr.io/acme/app:v2",
    ]);
    t.run_stdin(
        &[
            "secrets",
            "set",
            "--env",
            "prod",
            "conductor-license",
            "license-key",
            "--from-stdin",
        ],
        "another-license",
    );
    t.run(&["diff"]);
    t.run(&["diff", "--format", "markdown"]);
    t.run(&["diff", "--format", "json"]);
    t.run(&["diff", "HEAD~5"]);
    t.snapshot("diff_in_every_format");
}
