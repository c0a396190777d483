//! `retire` (issue #5) against a real PostgreSQL 15 holding the real DBOS system tables (created
//! by `dbos migrate` through tests/support/dbos_schema.sh): it refuses while the version has
//! workflows in flight, counting exactly what DBOS would still run on it, and once it succeeds
//! `kubectl kustomize` renders no trace of the version. Every refusal and every database problem
//! leaves the tree byte-identical.
//!
//! The database tests need `DBOS_GITOPS_TEST_DATABASE_URL`
//! (`eval "$(bash tests/support/postgres.sh start)"`); without it they print a loud SKIPPED line,
//! and under CI (`CI` set) they fail instead.

use std::process::Command;

use serde_json::Value;

use crate::support::*;

/// One `dbos.workflow_status` row, as DBOS records it.
struct Workflow<'a> {
    id: &'a str,
    status: &'a str,
    version: Option<&'a str>,
    application: Option<&'a str>,
    queue: Option<&'a str>,
}

fn workflow<'a>(
    id: &'a str,
    status: &'a str,
    version: Option<&'a str>,
    application: Option<&'a str>,
) -> Workflow<'a> {
    Workflow {
        id,
        status,
        version,
        application,
        queue: None,
    }
}

/// Inserts the rows, oldest first (`created_at` in the order given). Without
/// `application_name` for the older schema.
fn seed(database: &TestDb, rows: &[Workflow], with_application_name: bool) {
    let mut client = database.client();
    for (position, row) in rows.iter().enumerate() {
        let created_at = 1_700_000_000_000_i64 + position as i64;
        let result = if with_application_name {
            client.execute(
                "INSERT INTO dbos.workflow_status (workflow_uuid, status, name, executor_id, \
                 application_version, application_id, queue_name, created_at, updated_at, \
                 inputs, application_name) \
                 VALUES ($1, $2, 'checkout', 'local', $3, 'app-id', $4, $5, $5, \
                 '{\"args\":[],\"kwargs\":{}}', $6)",
                &[
                    &row.id,
                    &row.status,
                    &row.version,
                    &row.queue,
                    &created_at,
                    &row.application,
                ],
            )
        } else {
            client.execute(
                "INSERT INTO dbos.workflow_status (workflow_uuid, status, name, executor_id, \
                 application_version, application_id, queue_name, created_at, updated_at) \
                 VALUES ($1, $2, 'checkout', 'local', $3, 'app-id', $4, $5, $5)",
                &[&row.id, &row.status, &row.version, &row.queue, &created_at],
            )
        };
        result.unwrap_or_else(|error| panic!("seeding {}: {error}", row.id));
    }
}

/// `prod` with v1 and v2, v2 active; `app.name` declared when given.
fn two_versions(application_name: Option<&str>) -> TestRepo {
    let repo = TestRepo::prod();
    if let Some(name) = application_name {
        declare_application_name(&repo, name);
    }
    repo.ok(&["version", "add", "v2", "--image", "ghcr.io/acme/app:v2"]);
    repo
}

fn declare_application_name(repo: &TestRepo, name: &str) {
    let env = repo
        .read("environments/prod/env.yaml")
        .replace("  # name: my-app\n", &format!("  name: {name}\n"));
    assert!(env.contains(&format!("  name: {name}\n")));
    repo.write("environments/prod/env.yaml", &env);
    repo.ok(&["build"]);
}

/// Asserts the refusal (exit 1), its reason, and that nothing changed.
fn assert_refused(repo: &TestRepo, arguments: &[&str], reasons: &[&str]) -> Run {
    let before = repo.snapshot();
    let run = repo.fails(arguments, 1);
    for reason in reasons {
        assert!(
            run.stderr.contains(reason),
            "dbos-gitops {arguments:?}: expected `{reason}` in:\n{}",
            run.stderr
        );
    }
    assert_eq!(
        repo.snapshot(),
        before,
        "dbos-gitops {arguments:?} changed the tree"
    );
    run
}

/// After a successful retire of v1: no v1 anywhere in the render, the Service on v2.
fn assert_v1_is_gone(repo: &TestRepo) {
    assert!(!repo.exists("environments/prod/versions/v1"));
    assert!(!repo.read("environments/prod/versions.yaml").contains("v1"));
    assert!(!repo.read(".dbos-gitops.sha256").contains("versions/v1/"));
    assert_eq!(repo.run(&["build", "--check"]).code, 0);
    assert_eq!(
        repo.ok(&["version", "list"]),
        "VERSION  IMAGE                ACTIVE  AUTOSCALED\nv2       ghcr.io/acme/app:v2  yes     no\n"
    );
    if !require_tool("kubectl", &["version", "--client"]) {
        return;
    }
    let objects = repo.kustomize("prod");
    for object in &objects {
        let text = object.to_string();
        assert!(
            !text.contains("dbos-app-v1") && !text.contains("app:v1"),
            "v1 is still rendered: {text}"
        );
        assert_ne!(
            object["metadata"]["labels"]["app.kubernetes.io/version"], "v1",
            "{text}"
        );
    }
    assert_eq!(
        names_of_kind(&objects, "Deployment"),
        ["conductor", "console", "dbos-app-v2"]
    );
    assert_eq!(
        find(&objects, "Service", "dbos-app")["spec"]["selector"],
        serde_json::json!({ "app.kubernetes.io/name": "dbos-app", "app.kubernetes.io/version": "v2" })
    );
    validate_schemas(&objects);
}

#[test]
fn issue_5_retire_refuses_while_v1_has_workflows_in_flight_and_retires_it_once_drained() {
    let Some(server) = server_url("issue_5_retire_refuses_while_v1_has_workflows_in_flight") else {
        return;
    };
    let database = TestDb::with_dbos_schema(&server, "retire");
    let shop = Some("shop");
    seed(
        &database,
        &[
            workflow("v1-success", "SUCCESS", Some("v1"), shop),
            workflow("v1-pending-a", "PENDING", Some("v1"), shop),
            workflow("v1-pending-b", "PENDING", Some("v1"), shop),
            Workflow {
                queue: Some("orders"),
                ..workflow("v1-enqueued", "ENQUEUED", Some("v1"), shop)
            },
            workflow("v1-error", "ERROR", Some("v1"), shop),
            workflow("v1-cancelled", "CANCELLED", Some("v1"), shop),
            workflow(
                "v1-max-recovery",
                "MAX_RECOVERY_ATTEMPTS_EXCEEDED",
                Some("v1"),
                shop,
            ),
            workflow("v2-pending", "PENDING", Some("v2"), shop),
            workflow("v2-delayed", "DELAYED", Some("v2"), shop),
            workflow("unversioned-pending", "PENDING", None, shop),
        ],
        true,
    );
    let repo = two_versions(None);
    let url = with_password(&database.url, "hunter2-not-printed");
    let retire = ["retire", "v1", "--env", "prod", "--database-url", &url];

    let run = assert_refused(
        &repo,
        &retire,
        &[
            "error: refusing to retire `v1`: 3 workflows still in flight (PENDING 2, ENQUEUED 1)\n",
            "oldest: `v1-pending-a`, `v1-pending-b`, `v1-enqueued`\n",
            "hint: wait for them, or fork/cancel them (`dbos workflow list -v v1 -S PENDING`), then retry",
        ],
    );
    assert!(
        !run.stderr.contains("v2-") && !run.stderr.contains("unversioned"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("hunter2"), "{}", run.stderr);
    assert!(run.stdout.is_empty(), "{}", run.stdout);

    // DELAYED counts too (a workflow waiting for its start time).
    seed(
        &database,
        &[workflow("v1-delayed", "DELAYED", Some("v1"), shop)],
        true,
    );
    assert_refused(
        &repo,
        &retire,
        &["4 workflows still in flight (PENDING 2, ENQUEUED 1, DELAYED 1)"],
    );
    // `--force` never skips the drain check.
    let forced: Vec<&str> = retire.iter().copied().chain(["--force"]).collect();
    assert_refused(&repo, &forced, &["4 workflows still in flight"]);

    // The workflows finish; v2's and unversioned ones are still running, and do not matter.
    database.execute(
        "UPDATE dbos.workflow_status SET status = 'SUCCESS' \
         WHERE application_version = 'v1' AND status IN ('PENDING', 'ENQUEUED', 'DELAYED')",
    );
    let stdout = repo.ok(&retire);
    assert!(
        stdout.starts_with(
            "retired `v1` from `prod`: removed environments/prod/versions/v1 (Argo CD prunes it in its own sync wave)\n  \
             drain check: no workflows of `v1` in flight in `postgresql://postgres:***@"
        ),
        "{stdout}"
    );
    assert!(!stdout.contains("hunter2"), "{stdout}");
    assert!(
        stdout.contains("removed environments/prod/versions/v1/deployment.yaml"),
        "{stdout}"
    );
    assert_v1_is_gone(&repo);

    // Gone means unknown: a second retire is bad input.
    let before = repo.snapshot();
    let again = repo.fails(&retire, 2);
    assert!(
        again
            .stderr
            .contains("environment `prod` has no version `v1`"),
        "{}",
        again.stderr
    );
    assert_eq!(repo.snapshot(), before);
}

#[test]
fn issue_5_terminal_v2_and_unversioned_workflows_do_not_hold_v1() {
    let Some(server) = server_url("issue_5_terminal_v2_and_unversioned_workflows_do_not_hold_v1")
    else {
        return;
    };
    let database = TestDb::with_dbos_schema(&server, "retire");
    seed(
        &database,
        &[
            workflow("v1-success", "SUCCESS", Some("v1"), Some("shop")),
            workflow("v1-error", "ERROR", Some("v1"), None),
            workflow("v1-cancelled", "CANCELLED", Some("v1"), Some("billing")),
            workflow("v2-pending", "PENDING", Some("v2"), Some("shop")),
            Workflow {
                queue: Some("orders"),
                ..workflow("v2-enqueued", "ENQUEUED", Some("v2"), None)
            },
            workflow("v2-delayed", "DELAYED", Some("v2"), Some("billing")),
            Workflow {
                queue: Some("orders"),
                ..workflow("unversioned-enqueued", "ENQUEUED", None, Some("shop"))
            },
            workflow("unversioned-pending", "PENDING", None, None),
        ],
        true,
    );
    let repo = two_versions(None);
    // The URL from the environment, as DBOS itself reads it.
    let output = Command::new(binary())
        .args(["retire", "v1", "--env", "prod"])
        .current_dir(repo.path())
        .env("HOME", repo.path().join(".home"))
        .env(
            "DBOS_SYSTEM_DATABASE_URL",
            with_password(&database.url, "hunter2-not-printed"),
        )
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("no workflows of `v1` in flight"),
        "{stdout}"
    );
    assert!(
        stdout.contains("counting every application in this database"),
        "{stdout}"
    );
    assert!(!stdout.contains("hunter2") && !stderr.contains("hunter2"));
    assert_v1_is_gone(&repo);
}

#[test]
fn issue_5_other_applications_count_unless_the_env_declares_its_name() {
    let Some(server) =
        server_url("issue_5_other_applications_count_unless_the_env_declares_its_name")
    else {
        return;
    };
    let database = TestDb::with_dbos_schema(&server, "retire");
    seed(
        &database,
        &[
            workflow("billing-pending", "PENDING", Some("v1"), Some("billing")),
            workflow("unclaimed-enqueued", "ENQUEUED", Some("v1"), None),
            workflow("shop-success", "SUCCESS", Some("v1"), Some("shop")),
        ],
        true,
    );
    let repo = two_versions(None);
    let retire = ["retire", "v1", "--database-url", &database.url];

    // No `app.name`: every application sharing the system database counts.
    let run = assert_refused(
        &repo,
        &retire,
        &[
            "2 workflows still in flight (PENDING 1, ENQUEUED 1)",
            "`billing-pending`",
            "declare `app.name` in env.yaml",
        ],
    );
    assert!(
        run.stderr.contains("`unclaimed-enqueued`"),
        "{}",
        run.stderr
    );

    // `app.name: shop`: billing's workflow is not ours, the unclaimed one may be.
    declare_application_name(&repo, "shop");
    let run = assert_refused(
        &repo,
        &retire,
        &[
            "1 workflow still in flight (ENQUEUED 1)",
            "`unclaimed-enqueued`",
            "counting application `shop` and unclaimed workflows",
            "`dbos workflow list -v v1 -S ENQUEUED`",
        ],
    );
    assert!(!run.stderr.contains("billing"), "{}", run.stderr);

    database.execute(
        "UPDATE dbos.workflow_status SET status = 'SUCCESS' WHERE workflow_uuid = 'unclaimed-enqueued'",
    );
    let stdout = repo.ok(&retire);
    assert!(
        stdout.contains("counting application `shop` and unclaimed workflows"),
        "{stdout}"
    );
    assert_v1_is_gone(&repo);
}

#[test]
fn issue_5_an_older_schema_without_application_name_counts_every_application() {
    let Some(server) =
        server_url("issue_5_an_older_schema_without_application_name_counts_every_application")
    else {
        return;
    };
    let database = TestDb::with_dbos_schema(&server, "retire");
    database.execute("ALTER TABLE dbos.workflow_status DROP COLUMN application_name");
    seed(
        &database,
        &[workflow("someones-pending", "PENDING", Some("v1"), None)],
        false,
    );
    let repo = two_versions(Some("shop"));
    assert_refused(
        &repo,
        &["retire", "v1", "--database-url", &database.url],
        &[
            "1 workflow still in flight (PENDING 1)",
            "predate `application_name`",
        ],
    );
}

#[test]
fn issue_5_the_postgresql_trigger_query_returns_the_queue_depth() {
    let Some(server) = server_url("issue_5_the_postgresql_trigger_query_returns_the_queue_depth")
    else {
        return;
    };
    let database = TestDb::with_dbos_schema(&server, "retire");
    let queued = |id, status, version, queue| Workflow {
        queue: Some(queue),
        ..workflow(id, status, version, Some("shop"))
    };
    seed(
        &database,
        &[
            // Counted: the active version's and unversioned ENQUEUED workflows of the queue,
            // and its PENDING (running) ones, so KEDA never scales a running workflow away.
            queued("v2-running", "PENDING", Some("v2"), "orders"),
            queued("v2-a", "ENQUEUED", Some("v2"), "orders"),
            queued("v2-b", "ENQUEUED", Some("v2"), "orders"),
            queued("v2-c", "ENQUEUED", Some("v2"), "orders"),
            queued("none-a", "ENQUEUED", None, "orders"),
            queued("none-b", "ENQUEUED", None, "orders"),
            // Not counted: an old version's, another queue's, finished and delayed ones.
            queued("v1-a", "ENQUEUED", Some("v1"), "orders"),
            queued("v1-b", "ENQUEUED", Some("v1"), "orders"),
            queued("v2-other-queue", "ENQUEUED", Some("v2"), "emails"),
            queued("v2-done", "SUCCESS", Some("v2"), "orders"),
            queued("v2-delayed", "DELAYED", Some("v2"), "orders"),
        ],
        true,
    );
    let repo = TestRepo::with_env("prod", &["--app-image", "ghcr.io/acme/app:v1"]);
    let env = repo.read("environments/prod/env.yaml").replace(
        "  # autoscaling:                # KEDA on the active version\n",
        "  autoscaling:\n    trigger: postgresql\n    queue: orders\n    worker-concurrency: 2\n",
    );
    repo.write("environments/prod/env.yaml", &env);
    repo.ok(&["version", "add", "v2", "--image", "ghcr.io/acme/app:v2"]);

    // What Argo CD applies: the kustomize render when kubectl is there, else the generated file.
    let objects: Vec<Value> = if require_tool("kubectl", &["version", "--client"]) {
        repo.kustomize("prod")
    } else {
        parse_yaml_stream(&repo.read("environments/prod/autoscaling.yaml"))
    };
    let scaled = find(&objects, "ScaledObject", "dbos-app-v2");
    let query = scaled["spec"]["triggers"][0]["metadata"]["query"]
        .as_str()
        .unwrap();
    let rows = database.client().simple_query(query).unwrap();
    let depth: Vec<&str> = rows
        .iter()
        .filter_map(|message| match message {
            postgres::SimpleQueryMessage::Row(row) => row.get(0),
            _ => None,
        })
        .collect();
    assert_eq!(depth, ["6"], "{query}");
}

#[test]
fn issue_5_database_problems_are_exit_2_and_change_nothing() {
    let repo = two_versions(None);
    let closed_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let mut cases: Vec<(String, &str)> = vec![
        (
            format!("postgresql://dbos:hunter2-not-printed@127.0.0.1:{closed_port}/dbos"),
            "cannot reach the database server at `127.0.0.1:",
        ),
        ("hunter2-not-printed".to_string(), "invalid database url"),
        (
            "postgresql://dbos:hunter2-not-printed@db:notaport/dbos".to_string(),
            "invalid database url",
        ),
        (
            "postgresql://dbos:hunter2-not-printed@db:5432/dbos?sslmode=bogus".to_string(),
            "invalid sslmode `bogus`",
        ),
        (String::new(), "invalid database url"),
    ];
    let server = server_url("issue_5_database_problems_are_exit_2_and_change_nothing");
    let empty = server
        .as_deref()
        .map(|server| TestDb::empty(server, "retire"));
    if let (Some(server), Some(empty)) = (&server, &empty) {
        cases.push((
            with_database(server, "no_such_database_for_dbos_gitops"),
            "database `no_such_database_for_dbos_gitops` does not exist",
        ));
        cases.push((empty.url.clone(), "table `dbos.workflow_status` not found"));
    }
    for (url, reason) in &cases {
        let before = repo.snapshot();
        let run = repo.fails(&["retire", "v1", "--database-url", url], 2);
        // A password in argv is warned about on the first line (issue 20), then the error.
        let warned = run
            .stderr
            .starts_with("warning: the database password is on the command line");
        assert!(!warned || url.contains(":hunter2"), "{url}: {}", run.stderr);
        let error = run
            .stderr
            .lines()
            .skip(usize::from(warned))
            .collect::<Vec<_>>()
            .join("\n");
        assert!(
            error.starts_with(
                "error: could not check whether `v1` is drained, so nothing was changed: "
            ),
            "{url}: {}",
            run.stderr
        );
        assert!(run.stderr.contains(reason), "{url}: {}", run.stderr);
        assert!(run.stderr.contains("\n  hint: "), "{url}: {}", run.stderr);
        assert!(!run.stderr.contains("hunter2"), "{url}: {}", run.stderr);
        assert_eq!(repo.snapshot(), before, "{url}: the tree changed");
    }
}

#[test]
fn issue_5_retire_refuses_the_active_the_newest_an_unknown_version_and_a_missing_url() {
    let repo = two_versions(None);
    repo.ok(&[
        "version",
        "add",
        "v3",
        "--image",
        "ghcr.io/acme/app:v3",
        "--no-activate",
    ]);
    assert_refused(
        &repo,
        &["retire", "v2", "--no-drain-check"],
        &[
            "refusing to retire `v2`: it is the active version of `prod`",
            "dbos-gitops version activate VERSION --env prod",
        ],
    );
    assert_refused(
        &repo,
        &["retire", "v2", "--no-drain-check", "--force"],
        &["it is the active version"],
    );
    assert_refused(
        &repo,
        &["retire", "v3", "--no-drain-check"],
        &[
            "refusing to retire `v3`: it is the newest version of `prod`",
            "--force",
        ],
    );
    assert_refused(
        &repo,
        &["retire", "v1"],
        &[
            "refusing to retire `v1` without checking that it is drained: no database url",
            "DBOS_SYSTEM_DATABASE_URL",
            "--no-drain-check",
        ],
    );
    // `--force` does not stand in for the drain check either.
    assert_refused(&repo, &["retire", "v3", "--force"], &["no database url"]);

    let before = repo.snapshot();
    for (arguments, reason) in [
        (
            &["retire", "v9"][..],
            "environment `prod` has no version `v9`",
        ),
        (&["retire", "V1"][..], "DNS-1123"),
        (
            &["retire", "v1", "--env", "staging"][..],
            "no environment `staging`",
        ),
        (
            &[
                "retire",
                "v1",
                "--database-url",
                "postgresql://x/y",
                "--no-drain-check",
            ][..],
            "cannot be used with",
        ),
    ] {
        let run = repo.fails(arguments, 2);
        assert!(run.stderr.contains(reason), "{arguments:?}: {}", run.stderr);
        assert_eq!(repo.snapshot(), before);
    }

    // An abandoned `--no-activate` canary goes with `--force`; the active version takes over
    // its unversioned work and the newest remaining image runs the migrations.
    let stdout = repo.ok(&["retire", "v3", "--force", "--no-drain-check"]);
    assert!(stdout.contains("retired `v3` from `prod`"), "{stdout}");
    assert!(!repo.exists("environments/prod/versions/v3"));
    let migrate = repo.read("environments/prod/patches/migrate.yaml");
    assert!(migrate.contains("ghcr.io/acme/app:v2"), "{migrate}");

    let run = repo.run(&["retire", "v1", "--no-drain-check"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("warning: retired `v1` without a drain check (`--no-drain-check`)"),
        "{}",
        run.stderr
    );
    assert_v1_is_gone(&repo);
    assert_refused(
        &repo,
        &["retire", "v2", "--no-drain-check", "--force"],
        &["active"],
    );
}

#[test]
fn issue_5_retire_refuses_a_hand_edited_version_file_unless_forced() {
    let repo = two_versions(None);
    let path = "environments/prod/versions/v1/deployment.yaml";
    repo.write(path, &(repo.read(path) + "# tuned by hand\n"));
    assert_refused(
        &repo,
        &["retire", "v1", "--no-drain-check"],
        &[path, "edited by hand"],
    );
    let stdout = repo.ok(&["retire", "v1", "--no-drain-check", "--force"]);
    assert!(stdout.contains(&format!("removed {path}")), "{stdout}");
    assert_v1_is_gone(&repo);
}

#[test]
fn issue_5_files_the_tool_does_not_own_survive_a_retire() {
    let repo = two_versions(None);
    repo.write("environments/prod/versions/v1/NOTES.md", "mine\n");
    let stdout = repo.ok(&["retire", "v1", "--no-drain-check"]);
    assert!(
        stdout.contains(
            "note: environments/prod/versions/v1 still holds files dbos-gitops did not write"
        ),
        "{stdout}"
    );
    assert_eq!(
        repo.read("environments/prod/versions/v1/NOTES.md"),
        "mine\n"
    );
    assert!(!repo.exists("environments/prod/versions/v1/deployment.yaml"));
    assert_eq!(repo.run(&["build", "--check"]).code, 0);
    if require_tool("kubectl", &["version", "--client"]) {
        assert_eq!(
            names_of_kind(&repo.kustomize("prod"), "Deployment"),
            ["conductor", "console", "dbos-app-v2"]
        );
    }
}
