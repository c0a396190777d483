//! Secrets: `seal` as kubeseal (stdout) and into an environment (`--env`, `--dry-run`),
//! `secrets set` and `list`, `unseal` to a file, `reseal`, `tls` (issue, keep, reissue) and
//! `dex add-user`/`remove-user`.

use super::*;

const SECRET: &str = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: extra\n  namespace: dbos-prod\nstringData:\n  token: not-a-real-token\n";

#[test]
fn seal_as_kubeseal() {
    let repo = TestRepo::empty();
    let cert = go_cert();
    let mut t = Transcript::new(&repo);
    t.say("kubeseal's default: pretty JSON on stdout; -o yaml; --raw one value");
    t.run_stdin(&["seal", "--cert", &cert], SECRET);
    t.run_stdin(&["seal", "--cert", &cert, "-o", "yaml"], SECRET);
    t.run_stdin(
        &[
            "seal",
            "--cert",
            &cert,
            "--raw",
            "--namespace",
            "dbos-prod",
            "--name",
            "extra",
        ],
        "not-a-real-token",
    );
    t.say("refusals: no certificate, input that is not a Secret");
    t.run_stdin(&["seal"], SECRET);
    t.run_stdin(&["seal", "--cert", &cert], "not a secret");
    t.snapshot("seal_as_kubeseal");
}

#[test]
fn seal_into_an_environment() {
    let repo = TestRepo::prod();
    let cert = go_cert();
    let mut t = Transcript::new(&repo);
    t.run_stdin(&["seal", "--env", "prod", "--dry-run"], SECRET);
    t.run_stdin(&["seal", "--env", "prod"], SECRET);
    t.say("the same value again: its ciphertext is kept");
    t.run_stdin(&["seal", "--env", "prod"], SECRET);
    t.run_stdin(&["seal", "--env", "prod", "--dry-run"], SECRET);
    t.cat("environments/prod/secrets/extra.yaml");
    t.say("kubeseal flags that do not apply to an environment are refused");
    t.run_stdin(&["seal", "--env", "prod", "--cert", &cert], SECRET);
    t.run_stdin(&["seal", "--env", "prod", "-o", "yaml"], SECRET);
    t.snapshot("seal_into_an_environment");
}

#[test]
fn secrets_set_list_unseal_reseal() {
    let repo = TestRepo::prod();
    let key = go_key();
    let mut t = Transcript::new(&repo);
    t.run(&["secrets", "list"]);
    t.run_stdin(
        &[
            "secrets",
            "set",
            "--env",
            "prod",
            "dbos-app-db",
            "database-url",
            "--from-stdin",
        ],
        "postgres://app:not-a-password@db.acme.com/app",
    );
    t.run(&["secrets", "list"]);
    t.run(&["secrets", "list", "--format", "json"]);
    t.say("refusals: a secret nothing uses, a key the secret does not have");
    t.run_stdin(
        &["secrets", "set", "nope", "k", "--from-stdin"],
        "not-a-value",
    );
    t.run_stdin(
        &["secrets", "set", "dbos-app-db", "wrong-key", "--from-stdin"],
        "not-a-value",
    );
    t.say("there is no `secrets unset`: clap's usage error");
    t.run(&["secrets", "unset", "dbos-app-db", "database-url"]);
    t.say("unseal to a file outside the repository, with the controller's key");
    let out = t.scratch_path("unsealed.yaml");
    t.run(&[
        "unseal",
        "--key",
        &key,
        "environments/prod/secrets/dbos-app-db.yaml",
        "-o",
        &out,
    ]);
    t.cat(&out);
    t.run(&["reseal", "--env", "prod", "--key", &key]);
    t.run(&["reseal", "--env", "prod", "--key", &key, "--dry-run"]);
    t.snapshot("secrets_set_list_unseal_reseal");
}

#[test]
fn tls_issue_keep_reissue() {
    let repo = TestRepo::prod();
    let mut t = Transcript::new(&repo);
    t.run(&["tls", "--env", "prod"]);
    t.run(&["tls", "--env", "prod"]);
    t.run(&["tls", "--env", "prod", "--force", "--days", "90"]);
    t.run(&["secrets", "list"]);
    t.run(&["tls", "--env", "prod", "--days", "0"]);
    t.snapshot("tls_issue_keep_reissue");
}

#[test]
fn dex_add_and_remove_users() {
    let repo = TestRepo::with_env("prod", &["--domain", "dbos.acme.com", "--oidc", "dex"]);
    let mut t = Transcript::new(&repo);
    let add = |email| {
        [
            "dex",
            "add-user",
            "--env",
            "prod",
            email,
            "--password-stdin",
        ]
    };
    t.run_stdin(&add("a@acme.com"), "correct horse battery staple\n");
    t.run_stdin(&add("b@acme.com"), "another long passphrase\n");
    t.cat("environments/prod/dex-users.yaml");
    t.say("refusals: a user already there, one that is not, a short password");
    t.run_stdin(&add("a@acme.com"), "correct horse battery staple\n");
    t.run(&["dex", "remove-user", "--env", "prod", "zed@acme.com"]);
    t.run_stdin(&add("c@acme.com"), "short\n");
    t.run(&["dex", "remove-user", "--env", "prod", "a@acme.com"]);
    t.run_stdin(&["dex", "hash"], "correct horse battery staple\n");
    t.snapshot("dex_add_and_remove_users");
}

#[test]
fn dex_refused_without_dex() {
    let repo = TestRepo::prod();
    let mut t = Transcript::new(&repo);
    t.run_stdin(
        &[
            "dex",
            "add-user",
            "--env",
            "prod",
            "a@acme.com",
            "--password-stdin",
        ],
        "correct horse battery staple\n",
    );
    t.snapshot("dex_refused_without_dex");
}
