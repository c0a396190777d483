//! Issue 20: the cutover against the database users run, through the real binary, a real
//! PostgreSQL 15 with the tables `dbos migrate` makes, and rows written by the DBOS Python SDK
//! itself (`tests/support/dbos_dequeue.py`): `retire` never removes DBOS's latest version, a
//! typo'd `app.name` is refused, `PATCHING_ENABLED` work and a sharded schema are detected, the
//! undeclared-version warning does not blame the config of a Go app, the url stays out of argv,
//! and auto-upgrade makes a rollback a deliberate act.
//!
//! The database tests need `DBOS_GITOPS_TEST_DATABASE_URL` (skipped loudly without it, failing
//! under CI) and the `dbos` Python package.

use std::io::Write as _;
use std::process::{Command, Stdio};

use crate::support::*;

const URL_ENV: &str = "DBOS_SYSTEM_DATABASE_URL";
const PASSWORD: &str = "hunter2-never-printed";

/// Writes rows through the DBOS SDK as application `app` (one operation a line, see the script).
fn sdk(database: &TestDb, app: Option<&str>, ops: &str) {
    let script = project_root().join("tests/support/dbos_dequeue.py");
    let mut child = Command::new("python3")
        .arg(&script)
        .arg(&database.url)
        .arg(app.unwrap_or(""))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run python3");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(ops.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "dbos_dequeue.py: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A migrated database and the SDK, or `None` after a loud skip.
fn database(test: &str) -> Option<TestDb> {
    let server = server_url(test)?;
    if !require_tool("python3", &["-c", "import dbos"]) {
        return None;
    }
    Some(TestDb::with_dbos_schema(&server, "cutover"))
}

/// The url with a password the trusting test server never checks: it must never be printed.
fn with_secret(database: &TestDb) -> String {
    with_password(&database.url, PASSWORD)
}

/// Runs `arguments` with the url in DBOS's own variable (`Some`) or with no url at all.
fn run_with_url(repo: &TestRepo, arguments: &[&str], url: Option<&str>) -> Run {
    let mut command = repo.command(arguments);
    match url {
        Some(url) => command.env(URL_ENV, url),
        None => command.env_remove(URL_ENV),
    };
    let run = Run::from(command.output().unwrap());
    assert!(
        !run.stdout.contains(PASSWORD) && !run.stderr.contains(PASSWORD),
        "{arguments:?} printed the password:\n{}{}",
        run.stdout,
        run.stderr
    );
    run
}

/// Like `run_with_url`, expecting exit `code` and the tree unchanged.
fn refused(repo: &TestRepo, arguments: &[&str], url: Option<&str>, code: i32) -> Run {
    let before = repo.snapshot();
    let run = run_with_url(repo, arguments, url);
    assert_eq!(
        run.code, code,
        "{arguments:?}:\n{}{}",
        run.stdout, run.stderr
    );
    assert_eq!(repo.snapshot(), before, "{arguments:?} changed the tree");
    run
}

fn two_versions(app_yaml: &[(&str, &str)]) -> TestRepo {
    let repo = TestRepo::prod();
    if !app_yaml.is_empty() {
        edit_env(&repo, "prod", |text| {
            app_yaml
                .iter()
                .fold(text, |text, (from, to)| text.replace(from, to))
        });
        repo.ok(&["build"]);
    }
    repo.ok(&["version", "add", "v2", "--image", "ghcr.io/acme/app:v2"]);
    repo
}

#[test]
fn issue_20_retire_refuses_dbos_latest_after_rolling_forward_without_the_database() {
    let Some(database) =
        database("issue_20_retire_refuses_dbos_latest_after_rolling_forward_without_the_database")
    else {
        return;
    };
    sdk(&database, None, "register v1\nregister v2\n");
    let repo = two_versions(&[]);
    let url = with_secret(&database);

    // Roll back with the database: DBOS's latest is now v1.
    let run = run_with_url(&repo, &["version", "activate", "v1"], Some(&url));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("DBOS's latest version is now `v1`"),
        "{}",
        run.stdout
    );
    // Roll forward without it: allowed, with the warning that DBOS may still be on v1.
    let run = run_with_url(&repo, &["version", "activate", "v2"], None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .starts_with("warning: DBOS's latest application version was not checked"),
        "{}",
        run.stderr
    );
    // Retiring v1 now would leave version-less and scheduled work without an executor.
    let run = refused(&repo, &["retire", "v1"], Some(&url), 1);
    assert!(
        run.stderr
            .starts_with("error: refusing to retire `v1`: it is DBOS's latest application version"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("`dbos-gitops version activate v2 --env prod`"),
        "{}",
        run.stderr
    );

    // The fix, with the url in a file: no password warning, DBOS follows, retire goes through.
    let file = repo.path().join("db-url");
    std::fs::write(&file, format!("{url}\n")).unwrap();
    let file_arg = file.to_string_lossy().into_owned();
    let run = run_with_url(
        &repo,
        &[
            "version",
            "activate",
            "v2",
            "--database-url-file",
            &file_arg,
        ],
        None,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("DBOS's latest version is now `v2` (was `v1`)"),
        "{}",
        run.stdout
    );
    assert!(!run.stderr.contains("warning"), "{}", run.stderr);
    let run = run_with_url(&repo, &["retire", "v1"], Some(&url));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!repo.exists("environments/prod/versions/v1"));
}

#[test]
fn issue_20_a_password_in_argv_is_warned_about_and_a_bad_url_file_refused() {
    let repo = two_versions(&[]);
    let closed = closed_port();
    let url = format!("postgresql://dbos:{PASSWORD}@127.0.0.1:{closed}/dbos");
    let run = refused(&repo, &["retire", "v1", "--database-url", &url], None, 2);
    let mut lines = run.stderr.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("warning: the database password is on the command line"),
        "{}",
        run.stderr
    );
    assert!(
        lines.next().unwrap().starts_with("error: could not check"),
        "{}",
        run.stderr
    );
    // Without a password in it, no warning.
    let bare = format!("postgresql://dbos@127.0.0.1:{closed}/dbos");
    let run = refused(&repo, &["retire", "v1", "--database-url", &bare], None, 2);
    assert!(run.stderr.starts_with("error: "), "{}", run.stderr);
    // A file of two lines is not a url.
    let file = repo.path().join("two-lines");
    std::fs::write(&file, format!("{url}\n{url}\n")).unwrap();
    let run = refused(
        &repo,
        &[
            "retire",
            "v1",
            "--database-url-file",
            &file.to_string_lossy(),
        ],
        None,
        2,
    );
    assert!(
        run.stderr.contains("must hold exactly one line"),
        "{}",
        run.stderr
    );
}

#[test]
fn issue_20_an_app_name_that_matches_nothing_is_refused() {
    // Blank: refused when env.yaml is read (exit 2), before anything is compiled.
    let repo = TestRepo::prod();
    edit_env(&repo, "prod", |text| {
        text.replace("  # name: my-app\n", "  name: \"\"\n")
    });
    let run = refused(&repo, &["build"], None, 2);
    assert!(run.stderr.contains("app.name is blank"), "{}", run.stderr);

    let Some(database) = database("issue_20_an_app_name_that_matches_nothing_is_refused") else {
        return;
    };
    sdk(
        &database,
        Some("appA"),
        "register v1\nregister v2\nenqueue orders v1\n",
    );
    let repo = two_versions(&[("  # name: my-app\n", "  name: appa\n")]);
    let url = with_secret(&database);
    for arguments in [&["retire", "v1"][..], &["version", "activate", "v1"][..]] {
        let run = refused(&repo, arguments, Some(&url), 1);
        assert!(
            run.stderr.contains(
                "env.yaml declares `app.name: appa`, but no application of that name has registered a version"
            ) && run.stderr.contains("it holds versions of `appA`")
                && run.stderr.contains("did you mean `appA`?"),
            "{arguments:?}: {}",
            run.stderr
        );
    }
    // Spelled right, the drain check sees v1's enqueued work.
    edit_env(&repo, "prod", |text| {
        text.replace("  name: appa\n", "  name: appA\n")
    });
    repo.ok(&["build"]);
    let run = refused(&repo, &["retire", "v1"], Some(&url), 1);
    assert!(
        run.stderr
            .contains("1 workflow still in flight (ENQUEUED 1)"),
        "{}",
        run.stderr
    );
}

#[test]
fn issue_20_patching_sharding_and_gos_version_precedence() {
    let Some(database) = database("issue_20_patching_sharding_and_gos_version_precedence") else {
        return;
    };
    let url = with_secret(&database);
    sdk(&database, None, "register v1\nregister v2\n");
    let repo = two_versions(&[]);

    // An app with `enable_patching` records every workflow under PATCHING_ENABLED.
    sdk(&database, None, "enqueue orders PATCHING_ENABLED\n");
    let run = refused(&repo, &["retire", "v1"], Some(&url), 1);
    assert!(
        run.stderr.contains("`PATCHING_ENABLED` (1 in flight)")
            && run.stderr.contains("`enable_patching`"),
        "{}",
        run.stderr
    );
    database.execute("DELETE FROM dbos.workflow_status");

    // Work under a version nobody declared: for Go the config is not blamed.
    sdk(&database, None, "enqueue orders 0.1.0\n");
    let go = two_versions(&[("  language: python\n", "  language: go\n")]);
    let run = refused(&go, &["retire", "v1"], Some(&url), 1);
    assert!(
        run.stderr.contains("in Go `DBOS__APPVERSION` overrides")
            && !run
                .stderr
                .contains("most likely sets `application_version`"),
        "{}",
        run.stderr
    );
    let run = refused(&repo, &["retire", "v1"], Some(&url), 1);
    assert!(
        run.stderr
            .contains("most likely sets `application_version`"),
        "{}",
        run.stderr
    );
    database.execute("DELETE FROM dbos.workflow_status");

    // A sharded schema (`dbos migrate --sharding` adds `shard_key`): retire warns.
    database.execute("ALTER TABLE dbos.workflow_status ADD COLUMN shard_key TEXT");
    let run = run_with_url(&repo, &["retire", "v1"], Some(&url));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .starts_with("warning: this system database is sharded"),
        "{}",
        run.stderr
    );
}

#[test]
fn issue_20_auto_upgrade_makes_a_rollback_deliberate() {
    let repo = two_versions(&[(
        "  language: python\n",
        "  language: python\n  auto-upgrade: true\n",
    )]);
    let run = refused(
        &repo,
        &["version", "activate", "v1", "--traffic-only"],
        None,
        1,
    );
    assert!(
        run.stderr.contains("declares `app.auto-upgrade: true`")
            && run
                .stderr
                .contains("`v2`'s enqueued and delayed work onto `v1`'s older code")
            && run.stderr.contains("--force"),
        "{}",
        run.stderr
    );
    let run = run_with_url(
        &repo,
        &["version", "activate", "v1", "--traffic-only", "--force"],
        None,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    // A canary under auto-upgrade is not a canary: say that v2's queued work moves to it.
    let run = run_with_url(
        &repo,
        &[
            "version",
            "add",
            "v3",
            "--image",
            "ghcr.io/acme/app:v3",
            "--no-activate",
        ],
        None,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "`v3` becomes DBOS's latest version when its first pod starts, and DBOS then moves `v1`'s enqueued and delayed work to it"
        ),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("Transact Enterprise"), "{}", run.stderr);
}

#[test]
fn issue_20_init_env_says_conductor_needs_transact_enterprise() {
    let repo = TestRepo::new();
    let cert = fixture("go-cert.pem").to_string_lossy().into_owned();
    let stdout = repo.ok(&["init", "env", "staging", "--cert", &cert]);
    assert!(
        stdout.contains("DBOS 3.x reaches Conductor only through Transact Enterprise")
            && stdout.contains("`dbos-enterprise` (Python)"),
        "{stdout}"
    );
    let env = repo.read("environments/staging/env.yaml");
    assert!(env.contains("python: dbos-enterprise"), "{env}");
    assert!(env.contains("# auto-upgrade: false"), "{env}");
}
