//! Issue #11: versions the way DBOS routes work, against a real PostgreSQL 15 holding the real
//! DBOS system tables (`dbos migrate` through tests/support/dbos_schema.sh). A rollback makes the
//! older version DBOS's latest (checked with the SDK's own `DBOSClient`), `version list` shows
//! DBOS's view including versions nobody declared, `retire` refuses while such versions hold
//! work, and every refusal or database failure leaves the tree byte-identical.
//!
//! The database tests need `DBOS_GITOPS_TEST_DATABASE_URL`
//! (`eval "$(bash tests/support/postgres.sh start)"`); without it they print a loud SKIPPED line,
//! and under CI (`CI` set) they fail instead.

use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

use crate::support::*;

const DATABASE_ENV: &str = "DBOS_GITOPS_TEST_DATABASE_URL";
const PASSWORD: &str = "hunter2-never-printed";

fn server_url(test: &str) -> Option<String> {
    match std::env::var(DATABASE_ENV) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                !in_ci(),
                "{test}: {DATABASE_ENV} is not set but CI is: start the test database with \
                 `eval \"$(bash tests/support/postgres.sh start)\"`"
            );
            skip_loudly(&format!(
                "rollback::{test}: {DATABASE_ENV} is not set; start the test database with \
                 `eval \"$(bash tests/support/postgres.sh start)\"`"
            ));
            None
        }
    }
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A database of its own with the real DBOS system tables, dropped with the value.
struct Database {
    name: String,
    server: String,
    /// Without a password: for the test's own connections and the SDK.
    url: String,
}

impl Database {
    fn new(server: &str) -> Database {
        let name = format!(
            "rollback_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        connect(server)
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .unwrap_or_else(|error| panic!("CREATE DATABASE {name}: {error}"));
        let (authority, _) = server.rsplit_once('/').expect("a postgresql:// url");
        let database = Database {
            url: format!("{authority}/{name}"),
            name,
            server: server.to_string(),
        };
        let script = project_root().join("tests/support/dbos_schema.sh");
        let output = Command::new("bash")
            .arg(&script)
            .arg(&database.url)
            .output()
            .expect("run dbos_schema.sh");
        assert!(
            output.status.success(),
            "dbos_schema.sh: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        database
    }

    /// The url with a password the trusting test server never checks: it must never be printed.
    fn url_with_password(&self) -> String {
        self.url
            .replacen("://postgres@", &format!("://postgres:{PASSWORD}@"), 1)
    }

    fn execute(&self, sql: &str) {
        connect(&self.url)
            .batch_execute(sql)
            .unwrap_or_else(|error| panic!("{sql}: {error}"));
    }

    /// Versions registered the way DBOS registers them, one row each, oldest first.
    fn register(&self, versions: &[&str]) {
        for (position, version) in versions.iter().enumerate() {
            self.execute(&format!(
                "INSERT INTO dbos.application_versions (version_id, version_name, version_timestamp, created_at) \
                 VALUES ('id-{version}', '{version}', {0}, {0})",
                1_700_000_000_000_i64 + position as i64
            ));
        }
    }

    /// `count` workflows of `version` in `status`, recorded as DBOS records them.
    fn workflows(&self, version: &str, status: &str, count: usize) {
        self.workflows_of("NULL", version, status, count);
    }

    /// Like `workflows`, owned by `application` (an SQL literal: `'shop'` or `NULL`).
    fn workflows_of(&self, application: &str, version: &str, status: &str, count: usize) {
        for index in 0..count {
            self.execute(&format!(
                "INSERT INTO dbos.workflow_status (workflow_uuid, status, name, executor_id, \
                 application_version, application_id, created_at, updated_at, inputs, \
                 application_name) \
                 VALUES ('{version}-{status}-{index}-{}', '{status}', 'checkout', 'local', \
                 '{version}', 'app-id', 1, 1, '{{\"args\":[],\"kwargs\":{{}}}}', {application})",
                application.trim_matches('\'')
            ));
        }
    }

    /// DBOS's latest version as the SDK itself reads it.
    fn latest_by_sdk(&self) -> Option<String> {
        if !require_tool("python3", &["-c", "import dbos"]) {
            return None;
        }
        let output = Command::new("python3")
            .args([
                "-c",
                "import sys\nfrom dbos import DBOSClient\n\
                 client = DBOSClient(system_database_url=sys.argv[1])\n\
                 print(client.get_latest_application_version()[\"version_name\"])\n\
                 client.destroy()",
                &self.url,
            ])
            .output()
            .expect("run python3");
        assert!(
            output.status.success(),
            "DBOSClient: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        Some(String::from_utf8(output.stdout).unwrap().trim().to_string())
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Ok(mut admin) = postgres::Client::connect(&self.server, postgres::NoTls) {
            let _ = admin.batch_execute(&format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name
            ));
        }
    }
}

fn connect(url: &str) -> postgres::Client {
    postgres::Client::connect(url, postgres::NoTls)
        .unwrap_or_else(|error| panic!("connecting to the test database: {error}"))
}

/// `prod` with v1 and v2, v2 active.
fn two_versions() -> TestRepo {
    let repo = TestRepo::prod();
    repo.ok(&["version", "add", "v2", "--image", "ghcr.io/acme/app:v2"]);
    repo
}

fn assert_unchanged(repo: &TestRepo, arguments: &[&str], code: i32, reasons: &[&str]) -> Run {
    let before = repo.snapshot();
    let run = repo.fails(arguments, code);
    for reason in reasons {
        assert!(
            run.stderr.contains(reason),
            "{arguments:?}: no `{reason}` in:\n{}",
            run.stderr
        );
    }
    assert!(!run.stderr.contains(PASSWORD) && !run.stdout.contains(PASSWORD));
    assert_eq!(repo.snapshot(), before, "{arguments:?} changed the tree");
    run
}

fn service_version(repo: &TestRepo) -> Option<Value> {
    if !require_tool("kubectl", &["version", "--client"]) {
        return None;
    }
    let objects = repo.kustomize("prod");
    Some(
        find(&objects, "Service", "dbos-app")["spec"]["selector"]["app.kubernetes.io/version"]
            .clone(),
    )
}

#[test]
fn issue_11_a_rollback_makes_the_older_version_dbos_latest() {
    let Some(server) = server_url("issue_11_a_rollback_makes_the_older_version_dbos_latest") else {
        return;
    };
    let database = Database::new(&server);
    database.register(&["v1", "v2"]);
    let repo = two_versions();
    let url = database.url_with_password();

    let stdout = repo.ok(&["version", "activate", "v1", "--database-url", &url]);
    assert!(
        stdout.starts_with(
            "activated `v1` in `prod`: the Service now points at it, and DBOS's latest version is now `v1` (was `v2`); `v2` keeps running"
        ),
        "{stdout}"
    );
    assert!(!stdout.contains(PASSWORD), "{stdout}");
    if let Some(latest) = database.latest_by_sdk() {
        assert_eq!(latest, "v1");
    }
    if let Some(selected) = service_version(&repo) {
        assert_eq!(selected, "v1");
    }
    assert_eq!(repo.run(&["build", "--check"]).code, 0);

    // Rolling forward to the newest: DBOS's latest follows when the database is given, here
    // through DBOS's own environment variable.
    let run = Run::from(
        repo.command(&["version", "activate", "v2"])
            .env("DBOS_SYSTEM_DATABASE_URL", &url)
            .output()
            .unwrap(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("DBOS's latest version is now `v2` (was `v1`)"),
        "{}",
        run.stdout
    );
    if let Some(latest) = database.latest_by_sdk() {
        assert_eq!(latest, "v2");
    }
}

#[test]
fn issue_11_rollback_refusals_and_database_failures_leave_the_tree_byte_identical() {
    let repo = two_versions();
    // No database: refused (exit 1), naming both ways out.
    let run = assert_unchanged(
        &repo,
        &["version", "activate", "v1"],
        1,
        &["without the database", "--database-url", "--traffic-only"],
    );
    assert!(run.stderr.contains("`v2`"), "{}", run.stderr);

    // An unreachable database: exit 2, nothing written, no password.
    let closed_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let unreachable = format!("postgresql://dbos:{PASSWORD}@127.0.0.1:{closed_port}/dbos");
    assert_unchanged(
        &repo,
        &["version", "activate", "v1", "--database-url", &unreachable],
        2,
        &[
            "error: could not make `v1` DBOS's latest version, so nothing was changed: cannot reach the database server at `127.0.0.1:",
            "hint: ",
        ],
    );
    assert_unchanged(
        &repo,
        &["version", "list", "--database-url", &unreachable],
        2,
        &["could not read the DBOS system database"],
    );

    if let Some(server) =
        server_url("issue_11_rollback_refusals_and_database_failures_leave_the_tree_byte_identical")
    {
        // A version the database has never seen: refused with what it holds.
        let database = Database::new(&server);
        database.register(&["0.1.0", "v2"]);
        let url = database.url_with_password();
        assert_unchanged(
            &repo,
            &["version", "activate", "v1", "--database-url", &url],
            1,
            &[
                "has never seen it",
                "latest first: `v2`, `0.1.0`",
                "application_version",
            ],
        );
        if let Some(latest) = database.latest_by_sdk() {
            assert_eq!(latest, "v2");
        }
    }

    // Traffic only: the Service moves, with a warning that DBOS does not.
    let run = repo.run(&["version", "activate", "v1", "--traffic-only"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("`--traffic-only`"), "{}", run.stderr);
    // The newest version needs no database.
    let stdout = repo.ok(&["version", "activate", "v2"]);
    assert!(stdout.starts_with("activated `v2` in `prod`"), "{stdout}");
    if let Some(selected) = service_version(&repo) {
        assert_eq!(selected, "v2");
    }
}

#[test]
fn issue_11_undeclared_versions_show_in_the_list_and_block_retire() {
    let Some(server) = server_url("issue_11_undeclared_versions_show_in_the_list_and_block_retire")
    else {
        return;
    };
    let database = Database::new(&server);
    database.register(&["0.1.0", "v1", "v2", "v3"]);
    database.workflows("v2", "PENDING", 3);
    database.workflows("0.1.0", "ENQUEUED", 2);
    database.workflows("v1", "SUCCESS", 4);
    let repo = two_versions();
    repo.ok(&["version", "add", "v3", "--image", "ghcr.io/acme/app:v3"]);
    let url = database.url_with_password();

    // The documented form (issue 20): the url in DBOS's own variable, not in argv.
    let run = Run::from(
        repo.command(&["version", "list"])
            .env("DBOS_SYSTEM_DATABASE_URL", &url)
            .output()
            .unwrap(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let rows: Vec<Vec<&str>> = run
        .stdout
        .lines()
        .map(|line| {
            line.split("  ")
                .map(str::trim)
                .filter(|cell| !cell.is_empty())
                .collect()
        })
        .collect();
    assert_eq!(
        rows,
        [
            vec!["VERSION", "IMAGE", "ACTIVE", "DBOS LATEST", "IN FLIGHT"],
            vec!["v1", "ghcr.io/acme/app:v1", "no", "no", "0"],
            vec!["v2", "ghcr.io/acme/app:v2", "no", "no", "3 (PENDING 3)"],
            vec!["v3", "ghcr.io/acme/app:v3", "yes", "yes", "0"],
            vec!["0.1.0", "(not declared)", "-", "no", "2 (ENQUEUED 2)"],
        ],
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.starts_with(
            "warning: the database holds work under `0.1.0`, which versions.yaml does not declare"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("`application_version`") && run.stderr.contains("`DBOS__APPVERSION`")
    );
    assert!(!run.stderr.contains(PASSWORD) && !run.stdout.contains(PASSWORD));
    let json: Value = serde_json::from_str(&repo.ok(&[
        "version",
        "list",
        "--database-url",
        &url,
        "--format",
        "json",
    ]))
    .unwrap();
    assert_eq!(json["dbos_latest"], "v3");
    assert_eq!(json["versions"][3]["name"], "0.1.0");
    assert_eq!(json["versions"][3]["declared"], false);
    assert_eq!(json["versions"][1]["in_flight"]["PENDING"], 3);

    // v1 itself is drained, but the work under `0.1.0` may be v1's: retire refuses.
    assert_unchanged(
        &repo,
        &["retire", "v1", "--database-url", &url],
        1,
        &[
            "refusing to retire `v1`: workflows are in flight under versions `versions.yaml` does not declare",
            "`0.1.0`: 2 (ENQUEUED 2)",
            "hint: remove `application_version`",
        ],
    );
    database.execute(
        "UPDATE dbos.workflow_status SET status = 'CANCELLED' WHERE application_version = '0.1.0'",
    );
    let stdout = repo.ok(&["retire", "v1", "--database-url", &url]);
    assert!(stdout.starts_with("retired `v1` from `prod`"), "{stdout}");
}

#[test]
fn issue_11_an_old_autoscaled_version_keeps_its_pods_until_its_scaled_object_is_pruned() {
    let repo = TestRepo::with_env("prod", &["--app-image", "ghcr.io/acme/app:v1"]);
    let env = repo.read("environments/prod/env.yaml").replace(
        "  # autoscaling:                # KEDA on the active version\n",
        "  autoscaling:\n    trigger: postgresql\n    queue: orders\n    worker-concurrency: 2\n    min-replicas: 0\n",
    );
    repo.write("environments/prod/env.yaml", &env);
    repo.ok(&["build"]);
    repo.ok(&["version", "add", "v2", "--image", "ghcr.io/acme/app:v2"]);
    let objects: Vec<Value> = if require_tool("kubectl", &["version", "--client"]) {
        repo.kustomize("prod")
    } else {
        parse_yaml_stream(&repo.read("environments/prod/autoscaling.yaml"))
    };
    // Only the active version is autoscaled; its ScaledObject, once pruned, hands the Deployment
    // back at the count it had before KEDA (1), instead of leaving it at its peak or at zero.
    assert_eq!(names_of_kind(&objects, "ScaledObject"), ["dbos-app-v2"]);
    let scaled = find(&objects, "ScaledObject", "dbos-app-v2");
    assert_eq!(
        scaled["spec"]["advanced"]["restoreToOriginalReplicaCount"],
        true
    );
    assert_eq!(scaled["spec"]["minReplicaCount"], 0);
    let query = scaled["spec"]["triggers"][0]["metadata"]["query"]
        .as_str()
        .unwrap();
    assert!(query.contains("IN ('ENQUEUED', 'PENDING')"), "{query}");
    // Argo CD keeps the live count of the old version during the sync: it ignores
    // `/spec/replicas` and, with RespectIgnoreDifferences, applies the live value.
    let application = repo.read("argocd/applications/prod.yaml");
    assert!(
        application.contains("RespectIgnoreDifferences=true"),
        "{application}"
    );
    assert!(application.contains("- /spec/replicas"), "{application}");
    if objects.iter().any(|object| object["kind"] == "Deployment") {
        validate_schemas(&objects);
    }
}

#[test]
fn issue_11_only_the_declared_applications_undeclared_work_blocks_retire() {
    let Some(server) =
        server_url("issue_11_only_the_declared_applications_undeclared_work_blocks_retire")
    else {
        return;
    };
    let database = Database::new(&server);
    database.register(&["v1", "v2", "v3"]);
    // Another application sharing the database pins its own version: not ours to wait for.
    database.workflows_of("'billing'", "2024.1", "PENDING", 2);
    let repo = two_versions();
    let env = repo
        .read("environments/prod/env.yaml")
        .replace("  # name: my-app\n", "  name: shop\n");
    assert!(env.contains("  name: shop\n"), "{env}");
    repo.write("environments/prod/env.yaml", &env);
    repo.ok(&["build"]);
    repo.ok(&["version", "add", "v3", "--image", "ghcr.io/acme/app:v3"]);
    let url = database.url_with_password();

    // Ours pins one too: refused.
    database.workflows_of("'shop'", "0.1.0", "ENQUEUED", 1);
    let run = assert_unchanged(
        &repo,
        &["retire", "v1", "--database-url", &url],
        1,
        &["`0.1.0`: 1 (ENQUEUED 1)"],
    );
    assert!(!run.stderr.contains("2024.1"), "{}", run.stderr);
    database.execute("DELETE FROM dbos.workflow_status WHERE application_name = 'shop'");
    let stdout = repo.ok(&["retire", "v1", "--database-url", &url]);
    assert!(stdout.starts_with("retired `v1` from `prod`"), "{stdout}");
}
