//! Issue #20, TLS to PostgreSQL: `retire`, `version activate` and `version list` against a
//! server that, like managed PostgreSQL, admits TCP clients only over TLS with a password
//! (`tests/support/postgres-tls.sh`: `ssl = on`, a certificate for `localhost`/`127.0.0.1` from
//! a CA the script makes, `hostssl` + scram-sha-256 only), holding the real DBOS tables made by
//! `dbos migrate`. They work with `sslmode=require` and with `verify-full` + `sslrootcert`; a
//! wrong CA, a host name the certificate does not name, `sslmode=disable` and an unreadable
//! root file each fail with exit 2, their own message, the tree unchanged and no password.
//!
//! Needs the `DBOS_GITOPS_TEST_TLS_*` variables (`tests/run.sh` starts the server); without them
//! the tests print a loud SKIPPED line, and under CI (`CI` set) they fail instead.

use dbos_gitops_test_support::postgres::{tls_server, TlsServer};

use crate::support::*;

/// `prod` with v1 and v2 (v2 active), and a database where DBOS registered both, v2 latest.
fn setup(server: &TlsServer) -> (TestRepo, TestDb) {
    let database = server.database_with_dbos_schema("cli_tls");
    server.admin_execute(
        &database,
        "INSERT INTO dbos.application_versions (version_id, version_name, version_timestamp, \
         created_at) VALUES ('id-v1', 'v1', 1700000000000, 1700000000000), \
         ('id-v2', 'v2', 1700000000001, 1700000000001)",
    );
    let repo = TestRepo::prod();
    repo.ok(&["version", "add", "v2", "--image", "ghcr.io/acme/app:v2"]);
    (repo, database)
}

/// Runs with no `PG*` TLS variables from the developer's shell, plus `env`.
fn run(repo: &TestRepo, arguments: &[&str], env: &[(&str, &str)]) -> Run {
    let mut command = repo.command(arguments);
    command.env_remove("PGSSLMODE").env_remove("PGSSLROOTCERT");
    for (key, value) in env {
        command.env(key, value);
    }
    Run::from(command.output().expect("run dbos-gitops"))
}

fn assert_no_password(run: &Run, password: &str) {
    assert!(
        !run.stdout.contains(password) && !run.stderr.contains(password),
        "password printed:\n{}\n{}",
        run.stdout,
        run.stderr
    );
}

/// Rollback, roll forward, list and retire, all over TLS with `url`.
fn cutover_over_tls(repo: &TestRepo, url: &str, password: &str) {
    let activate = run(
        repo,
        &["version", "activate", "v1", "--database-url", url],
        &[],
    );
    assert_eq!(activate.code, 0, "{}", activate.stderr);
    assert!(
        activate
            .stdout
            .contains("DBOS's latest version is now `v1` (was `v2`)"),
        "{}",
        activate.stdout
    );
    let forward = run(
        repo,
        &["version", "activate", "v2", "--database-url", url],
        &[],
    );
    assert_eq!(forward.code, 0, "{}", forward.stderr);
    assert!(
        forward
            .stdout
            .contains("DBOS's latest version is now `v2` (was `v1`)"),
        "{}",
        forward.stdout
    );
    let list = run(repo, &["version", "list", "--database-url", url], &[]);
    assert_eq!(list.code, 0, "{}", list.stderr);
    assert!(list.stdout.contains("DBOS LATEST"), "{}", list.stdout);
    let v2_line = list.stdout.lines().find(|l| l.starts_with("v2 ")).unwrap();
    assert!(v2_line.contains(" yes     yes "), "{}", list.stdout);
    let retire = run(repo, &["retire", "v1", "--database-url", url], &[]);
    assert_eq!(retire.code, 0, "{}", retire.stderr);
    assert!(
        retire.stdout.starts_with("retired `v1` from `prod`"),
        "{}",
        retire.stdout
    );
    assert!(!repo.exists("environments/prod/versions/v1"));
    for output in [&activate, &forward, &list, &retire] {
        assert_no_password(output, password);
    }
}

#[test]
fn issue_20_retire_activate_and_list_work_with_require_and_verify_full() {
    let Some(server) =
        tls_server("issue_20_retire_activate_and_list_work_with_require_and_verify_full")
    else {
        return;
    };
    for query in [
        "sslmode=require".to_string(),
        format!("sslmode=verify-full&sslrootcert={}", server.ca),
    ] {
        let (repo, database) = setup(&server);
        cutover_over_tls(
            &repo,
            &TlsServer::url_with(&database.url, &query),
            &server.password,
        );
    }
}

#[test]
fn issue_20_each_tls_failure_is_exit_2_with_its_own_message() {
    let Some(server) = tls_server("issue_20_each_tls_failure_is_exit_2_with_its_own_message")
    else {
        return;
    };
    let (repo, database) = setup(&server);
    let verify_full = |ca: &str| format!("sslmode=verify-full&sslrootcert={ca}");
    let cases = [
        (
            TlsServer::url_with(&database.url, &verify_full(&server.other_ca)),
            format!("does not verify against `{}`", server.other_ca),
        ),
        (
            TlsServer::with_host(
                &TlsServer::url_with(&database.url, &verify_full(&server.ca)),
                &server.wrong_host,
            ),
            format!(
                "is not valid for host `{}` (it names `localhost`, `127.0.0.1`)",
                server.wrong_host
            ),
        ),
        (
            TlsServer::url_with(&database.url, "sslmode=disable"),
            "accepts only encrypted connections (pg_hba.conf has no entry for this client with \
             no encryption), and `sslmode=disable` turns TLS off"
                .to_string(),
        ),
        (
            TlsServer::url_with(
                &database.url,
                &verify_full("/nonexistent/global-bundle.pem"),
            ),
            "cannot read the root certificate file `/nonexistent/global-bundle.pem`".to_string(),
        ),
    ];
    let commands: [(&[&str], &str); 3] = [
        (
            &["retire", "v1"],
            "error: could not check whether `v1` is drained, so nothing was changed: ",
        ),
        (
            &["version", "activate", "v1"],
            "error: could not make `v1` DBOS's latest version, so nothing was changed: ",
        ),
        (
            &["version", "list"],
            "could not read the DBOS system database",
        ),
    ];
    let mut messages = std::collections::BTreeSet::new();
    for (url, reason) in &cases {
        for (command, prefix) in &commands {
            let before = repo.snapshot();
            let mut arguments = command.to_vec();
            arguments.extend(["--database-url", url.as_str()]);
            let failed = run(&repo, &arguments, &[]);
            assert_eq!(failed.code, 2, "{arguments:?}: {}", failed.stderr);
            assert!(
                failed.stderr.contains(prefix),
                "{arguments:?}: {}",
                failed.stderr
            );
            assert!(
                failed.stderr.contains(reason.as_str()),
                "{arguments:?}: {}",
                failed.stderr
            );
            assert!(failed.stderr.contains("\n  hint: "), "{}", failed.stderr);
            assert_no_password(&failed, &server.password);
            assert_eq!(repo.snapshot(), before, "{arguments:?} changed the tree");
            messages.insert(failed.stderr.lines().last().unwrap_or_default().to_string());
        }
    }
    // Four failures, four different hints.
    assert_eq!(messages.len(), cases.len(), "{messages:#?}");
}

#[test]
fn issue_20_pgsslmode_and_pgsslrootcert_apply_unless_the_url_says_otherwise() {
    let Some(server) =
        tls_server("issue_20_pgsslmode_and_pgsslrootcert_apply_unless_the_url_says_otherwise")
    else {
        return;
    };
    let (repo, database) = setup(&server);
    let list = ["version", "list", "--database-url", database.url.as_str()];
    // From the environment alone: verify-full against the right CA works...
    let ok = run(
        &repo,
        &list,
        &[("PGSSLMODE", "verify-full"), ("PGSSLROOTCERT", &server.ca)],
    );
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    // ...and against the wrong one fails, naming the file the variable gave.
    let wrong = run(
        &repo,
        &list,
        &[
            ("PGSSLMODE", "verify-full"),
            ("PGSSLROOTCERT", &server.other_ca),
        ],
    );
    assert_eq!(wrong.code, 2, "{}", wrong.stderr);
    assert!(wrong.stderr.contains(&server.other_ca), "{}", wrong.stderr);
    // PGSSLMODE=disable would be refused by the server; the url's `require` wins over it.
    let url = TlsServer::url_with(&database.url, "sslmode=require");
    let wins = run(
        &repo,
        &["version", "list", "--database-url", &url],
        &[("PGSSLMODE", "disable")],
    );
    assert_eq!(wins.code, 0, "{}", wins.stderr);
    let disabled = run(&repo, &list, &[("PGSSLMODE", "disable")]);
    assert_eq!(disabled.code, 2, "{}", disabled.stderr);
    assert!(
        disabled.stderr.contains("accepts only encrypted"),
        "{}",
        disabled.stderr
    );
    for output in [&ok, &wrong, &wins, &disabled] {
        assert_no_password(output, &server.password);
    }
}
