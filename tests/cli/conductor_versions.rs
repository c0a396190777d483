//! `version list|activate` and `retire` with `--conductor-url` (#22 item 3) against the
//! specification server: every request validates against Conductor's OpenAPI file (the server
//! records each violation and `assert_valid` fails on it), the decisions are the database path's
//! (same refusals, same words, same files written), a 503 is "cannot tell" and never "drained",
//! each error status has its own message, and the token appears in no output.

use super::{named_repo, Server};
use crate::support::*;
use serde_json::{json, Value};

const TOKEN: &str = "caller-token-not-printed-7f3a";

fn executor(version: &str, id: &str, status: &str) -> Value {
    json!({"executorId": id, "appId": "app-1", "appVersion": version, "status": status,
           "hostId": null, "hostname": format!("pod-{id}"), "createdAt": "2026-11-01T00:00:00Z",
           "updatedAt": "2026-12-01T00:00:00Z", "language": "python", "dbosVersion": "3.4.0",
           "executorMetadata": null})
}

fn version(name: &str, stamp: &str) -> Value {
    json!({"versionId": format!("id-{name}"), "versionName": name, "versionTimestamp": stamp,
           "createdAt": "2026-11-01T00:00:00Z"})
}

/// A `Workflow` with every field the specification requires.
fn workflow(id: &str, status: &str, version: Option<&str>, minute: u32) -> Value {
    let created = format!("2026-12-01T00:{minute:02}:00Z");
    let mut row = json!({"workflowId": id, "status": status, "appVersion": version,
        "createdAt": created, "updatedAt": created, "priority": 0, "wasForkedFrom": false});
    for field in [
        "workflowName",
        "workflowClass",
        "workflowConfig",
        "user",
        "assumedRole",
        "roles",
        "input",
        "output",
        "error",
        "queueName",
        "executorId",
        "timeoutMs",
        "deadline",
        "deduplicationId",
        "queuePartitionKey",
        "forkedFrom",
        "parentWorkflowId",
        "dequeuedAt",
        "delayUntil",
        "completedAt",
        "attributes",
        "scheduleName",
        "applicationName",
    ] {
        row[field] = Value::Null;
    }
    row
}

/// Conductor's state for `my-app`: v1 older, v2 DBOS's latest, executors of both, the given
/// workflows; `token` may call everything (OAuth mode).
fn state(workflows: Vec<Value>, executors: Vec<Value>) -> Value {
    json!({
        "apps": {"my-app": {"privateMode": false}},
        "versions": {"my-app": [version("v1", "2026-11-01T00:00:00Z"), version("v2", "2026-11-20T08:00:00.250Z")]},
        "executors": {"my-app": executors},
        "workflows": {"my-app": workflows},
        "callers": {TOKEN: ["*"], "reader-only": ["token.read"]},
    })
}

fn live() -> Vec<Value> {
    vec![
        executor("v1", "e1", "HEALTHY"),
        executor("v2", "e2", "HEALTHY"),
        executor("v2", "e3", "HEALTHY"),
        executor("v1", "e4", "DEAD"),
    ]
}

/// `prod` with `app.name: my-app`, v1 and v2, v2 active.
fn two_versions() -> TestRepo {
    let repo = named_repo();
    repo.ok(&["version", "add", "v2", "--image", "ghcr.io/acme/app:v2"]);
    repo
}

fn start(repo: &TestRepo, state: Value) -> Option<Server> {
    Server::start(repo, "oauth", state)
}

/// Runs with the token in `DBOS_CONDUCTOR_TOKEN` (`None`: without any token).
fn run(repo: &TestRepo, server: &Server, arguments: &[&str], token: Option<&str>) -> Run {
    let mut arguments: Vec<&str> = arguments.to_vec();
    arguments.extend(["--env", "prod", "--conductor-url", &server.url]);
    let mut command = repo.command(&arguments);
    command.env_remove("DBOS_CONDUCTOR_TOKEN");
    command.env_remove("DBOS_SYSTEM_DATABASE_URL");
    if let Some(token) = token {
        command.env("DBOS_CONDUCTOR_TOKEN", token);
    }
    let run = Run::from(pipe(&mut command, b""));
    assert!(
        !run.stdout.contains(TOKEN) && !run.stderr.contains(TOKEN),
        "the token was printed"
    );
    assert!(!arguments.contains(&TOKEN));
    run
}

/// Every request of the run carried the token as a bearer and validated.
fn assert_bearer_and_valid(server: &Server) {
    server.assert_valid();
    for record in server.log() {
        assert_eq!(
            record["authorization"],
            format!("Bearer {TOKEN}"),
            "{record}"
        );
    }
}

fn searches(server: &Server) -> Vec<Value> {
    server
        .log()
        .into_iter()
        .filter(|record| record["operationId"] == "searchWorkflows")
        .map(|record| record["body"].clone())
        .collect()
}

#[test]
fn version_list_through_conductor_shows_dbos_latest_work_in_flight_and_live_executors() {
    let repo = two_versions();
    let workflows = vec![
        workflow("a", "PENDING", Some("v1"), 1),
        workflow("b", "SUCCESS", Some("v1"), 2),
        workflow("c", "ENQUEUED", Some("v2"), 3),
        workflow("d", "DELAYED", Some("v2"), 4),
        workflow("e", "PENDING", Some("0.9.0"), 5),
        workflow("f", "ENQUEUED", None, 6),
    ];
    let Some(server) = start(&repo, state(workflows, live())) else {
        return;
    };
    let list = run(&repo, &server, &["version", "list"], Some(TOKEN));
    assert_eq!(list.code, 0, "{}", list.stderr);
    assert_eq!(
        list.stdout,
        "VERSION       IMAGE                    ACTIVE  DBOS LATEST  IN FLIGHT                  LIVE EXECUTORS\n\
         v1            ghcr.io/acme/app:v1      no      no           1 (PENDING 1)              1\n\
         v2            ghcr.io/acme/app:v2      yes     yes          2 (ENQUEUED 1, DELAYED 1)  2\n\
         0.9.0         (not declared)           -       no           1 (PENDING 1)              0\n\
         (no version)  (runs on DBOS's latest)  -       -            1 (ENQUEUED 1)             -\n"
    );
    assert!(list.stderr.contains("`0.9.0`"), "{}", list.stderr);
    assert_bearer_and_valid(&server);
    assert_eq!(
        searches(&server),
        [
            json!({"status": ["PENDING", "ENQUEUED", "DELAYED"], "limit": 500, "offset": 0,
                "sortDesc": false, "loadInput": false, "loadOutput": false})
        ]
    );

    let json_run = run(
        &repo,
        &server,
        &["version", "list", "--format", "json"],
        Some(TOKEN),
    );
    let document: Value = serde_json::from_str(&json_run.stdout).unwrap();
    assert_eq!(document["dbos_latest"], "v2");
    assert_eq!(document["versions"][0]["live_executors"], 1);
    assert_eq!(document["versions"][1]["live_executors"], 2);
    assert_eq!(
        document["versions"][1]["in_flight"],
        json!({"DELAYED": 1, "ENQUEUED": 1})
    );
}

#[test]
fn activate_rolls_dbos_latest_back_through_conductor_and_refuses_a_version_it_never_saw() {
    let repo = two_versions();
    let Some(server) = start(&repo, state(vec![], live())) else {
        return;
    };
    let rollback = run(&repo, &server, &["version", "activate", "v1"], Some(TOKEN));
    assert_eq!(rollback.code, 0, "{}", rollback.stderr);
    assert!(
        rollback
            .stdout
            .contains("DBOS's latest version is now `v1` (was `v2`)"),
        "{}",
        rollback.stdout
    );
    assert_bearer_and_valid(&server);
    let patch = server
        .log()
        .into_iter()
        .find(|record| record["operationId"] == "setLatestAppVersion")
        .expect("the rollback went through PATCH .../versions/latest");
    assert_eq!(patch["body"], json!({"versionName": "v1"}));
    assert_eq!(patch["path"], "/v2/orgs/local/apps/my-app/versions/latest");
    let stamps: Vec<(String, String)> = server.state()["versions"]["my-app"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["versionName"].as_str().unwrap().into(),
                v["versionTimestamp"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(
        stamps[0].1 > stamps[1].1,
        "v1 is not Conductor's newest: {stamps:?}"
    );
    assert!(repo
        .read("environments/prod/versions.yaml")
        .contains("active: v1"));

    // Again: already latest, nothing patched.
    let again = run(&repo, &server, &["version", "activate", "v1"], Some(TOKEN));
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(
        again
            .stdout
            .contains("DBOS's latest version already is `v1`"),
        "{}",
        again.stdout
    );

    // Conductor has never seen v0: refused like the database path, nothing written or patched.
    let repo = two_versions();
    repo.ok(&["version", "add", "v3", "--image", "ghcr.io/acme/app:v3"]);
    let state = json!({"apps": {"my-app": {}}, "versions": {"my-app": [version("v3", "2026-11-30T00:00:00Z")]},
                       "executors": {"my-app": [executor("v3", "e9", "HEALTHY")]}, "callers": {TOKEN: ["*"]}});
    let Some(server) = start(&repo, state) else {
        return;
    };
    let before = repo.snapshot();
    let refused = run(&repo, &server, &["version", "activate", "v1"], Some(TOKEN));
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("error: refusing to activate `v1`: Conductor at `")
            && refused.stderr.contains("has never seen it (no `v1` executor has started); it holds these versions, latest first: `v3`"),
        "{}",
        refused.stderr
    );
    assert_eq!(repo.snapshot(), before);
    assert!(!server
        .operations()
        .contains(&"setLatestAppVersion".to_string()));
    server.assert_valid();
}

#[test]
fn retire_through_conductor_refuses_work_in_flight_and_dbos_latest_then_writes_what_the_database_path_writes(
) {
    let repo = two_versions();
    let workflows = vec![
        workflow("v1-done", "SUCCESS", Some("v1"), 1),
        workflow("v1-delayed", "DELAYED", Some("v1"), 5),
        workflow("v1-pending", "PENDING", Some("v1"), 2),
        workflow("v1-enqueued", "ENQUEUED", Some("v1"), 3),
        workflow("v2-pending", "PENDING", Some("v2"), 4),
    ];
    let Some(server) = start(&repo, state(workflows, live())) else {
        return;
    };
    let before = repo.snapshot();
    let refused = run(&repo, &server, &["retire", "v1"], Some(TOKEN));
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(
        refused.stderr.starts_with(
            "error: refusing to retire `v1`: 3 workflows still in flight (PENDING 1, ENQUEUED 1, DELAYED 1)\n  oldest: `v1-pending`, `v1-enqueued`, `v1-delayed`\n"
        ),
        "{}",
        refused.stderr
    );
    assert!(refused.stderr.contains("hint: wait for them, or fork/cancel them (`dbos workflow list -v v1 -S PENDING`), then retry"));
    assert_eq!(repo.snapshot(), before);
    assert_bearer_and_valid(&server);
    let bodies = searches(&server);
    assert!(
        bodies.contains(
            &json!({"appVersion": ["v1"], "status": ["PENDING", "ENQUEUED", "DELAYED"],
            "limit": 500, "offset": 0, "sortDesc": false, "loadInput": false, "loadOutput": false})
        ),
        "{bodies:?}"
    );

    // v1 as DBOS's latest: refused with the database path's words, the hint naming Conductor.
    let mut latest = state(vec![], live());
    latest["versions"]["my-app"][0]["versionTimestamp"] = json!("2026-11-30T00:00:00+01:00");
    let Some(server) = start(&repo, latest) else {
        return;
    };
    let refused = run(&repo, &server, &["retire", "v1"], Some(TOKEN));
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains("error: refusing to retire `v1`: it is DBOS's latest application version"),
        "{}",
        refused.stderr
    );
    assert!(
        refused
            .stderr
            .contains(&format!("with `--conductor-url {}`", server.url)),
        "{}",
        refused.stderr
    );
    assert_eq!(repo.snapshot(), before);

    // Drained (terminal v1 work, v2 busy): retired; the dry run first writes nothing.
    let drained = vec![
        workflow("v1-done", "SUCCESS", Some("v1"), 1),
        workflow("v2-pending", "PENDING", Some("v2"), 4),
    ];
    let Some(server) = start(&repo, state(drained, live())) else {
        return;
    };
    let dry = run(&repo, &server, &["retire", "v1", "--dry-run"], Some(TOKEN));
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(
        dry.stdout
            .contains("would remove environments/prod/versions/v1/deployment.yaml"),
        "{}",
        dry.stdout
    );
    assert_eq!(repo.snapshot(), before, "--dry-run wrote");
    let retired = run(&repo, &server, &["retire", "v1"], Some(TOKEN));
    assert_eq!(retired.code, 0, "{}", retired.stderr);
    assert!(
        retired.stdout.contains(&format!(
            "  drain check: no workflows of `v1` in flight in Conductor at `{}` (organization `local`, application `my-app`)",
            server.url
        )),
        "{}",
        retired.stdout
    );
    assert_bearer_and_valid(&server);
    let after = repo.snapshot();

    // The same retire through the database path, on a twin repository, writes the same files.
    let twin = two_versions();
    let twin_before = twin.snapshot();
    let database = database_twin_retire(&twin);
    let changes = |before: &Snapshot, after: &Snapshot| -> Vec<(String, Option<Vec<u8>>)> {
        let mut paths: Vec<&String> = before.keys().chain(after.keys()).collect();
        paths.sort();
        paths.dedup();
        paths
            .into_iter()
            .filter(|path| path.as_str() != ".dbos-gitops.sha256")
            .filter(|path| before.get(*path).map(|(b, _)| b) != after.get(*path).map(|(b, _)| b))
            .map(|path| {
                (
                    path.clone(),
                    after.get(path).map(|(bytes, _)| bytes.clone()),
                )
            })
            .collect()
    };
    let ours = changes(&before, &after);
    assert!(
        ours.iter().any(
            |(path, gone)| path == "environments/prod/versions/v1/deployment.yaml"
                && gone.is_none()
        ),
        "{ours:?}"
    );
    assert_eq!(
        ours,
        changes(&twin_before, &twin.snapshot()),
        "through {database}"
    );
}

type Snapshot = std::collections::BTreeMap<String, (Vec<u8>, std::time::SystemTime)>;

/// Retires v1 from `twin` through the database path when a test PostgreSQL is there, else
/// with `--no-drain-check` (the same plan); says which.
fn database_twin_retire(twin: &TestRepo) -> &'static str {
    use dbos_gitops_test_support::postgres::{server_url, TestDb};
    let Some(server) = server_url("retire_through_conductor_writes_what_the_database_path_writes")
    else {
        twin.ok(&["retire", "v1", "--env", "prod", "--no-drain-check"]);
        return "--no-drain-check";
    };
    let database = TestDb::with_dbos_schema(&server, "conductor_twin");
    database.execute(
        "INSERT INTO dbos.application_versions (version_id, version_name, version_timestamp, created_at, application_name) \
         VALUES ('1', 'v1', 1, 1, 'my-app'), ('2', 'v2', 2, 2, 'my-app')",
    );
    let mut command = twin.command(&["retire", "v1", "--env", "prod"]);
    command.env("DBOS_SYSTEM_DATABASE_URL", &database.url);
    let run = Run::from(pipe(&mut command, b""));
    assert_eq!(run.code, 0, "{}", run.stderr);
    "the database"
}

#[test]
fn a_503_means_retire_cannot_tell_and_never_drained() {
    let repo = two_versions();
    let disconnected = vec![
        executor("v1", "e1", "DISCONNECTED"),
        executor("v2", "e2", "DEAD"),
    ];
    let Some(server) = start(&repo, state(vec![], disconnected)) else {
        return;
    };
    let before = repo.snapshot();
    let retire = run(&repo, &server, &["retire", "v1"], Some(TOKEN));
    assert_eq!(retire.code, 2, "{}", retire.stderr);
    assert!(
        retire.stderr.starts_with("error: cannot tell whether `v1` is drained, so nothing was changed: no executor of the application is connected to Conductor (503)"),
        "{}",
        retire.stderr
    );
    assert!(retire.stdout.is_empty(), "{}", retire.stdout);
    assert!(
        !retire.stderr.contains("no workflows of"),
        "{}",
        retire.stderr
    );
    assert_eq!(repo.snapshot(), before);
    server.assert_valid();
    assert!(server.log().iter().any(|record| record["status"] == 503));
}

/// Status, server state, token, arguments, exit status, message.
type Case<'a> = (&'a str, Value, Option<&'a str>, &'a [&'a str], i32, &'a str);

#[test]
fn each_conductor_error_status_has_its_own_message_and_exit_status_and_writes_nothing() {
    let repo = two_versions();
    let cases: Vec<Case> = vec![
        ("401", state(vec![], live()), None, &["retire", "v1"], 2, "Conductor did not accept the token (401)"),
        ("403", state(vec![], live()), Some("reader-only"), &["retire", "v1"], 2, "the token lacks a permission this needs (403)"),
        ("404", json!({"apps": {}, "callers": {TOKEN: ["*"]}}), Some(TOKEN), &["version", "list"], 2, "Conductor has no such organization, application or operation (404)"),
        ("409", {
            let mut s = state(vec![], live());
            s["faults"] = json!({"setLatestAppVersion": 409});
            s
        }, Some(TOKEN), &["version", "activate", "v1"], 1, "error: could not make `v1` DBOS's latest version, so nothing was changed: Conductor refused a conflicting change (409)"),
        ("503", state(vec![], vec![]), Some(TOKEN), &["version", "list"], 2, "no executor of the application is connected to Conductor (503)"),
    ];
    let mut messages = Vec::new();
    for (status, state, token, arguments, code, message) in cases {
        let Some(server) = start(&repo, state) else {
            return;
        };
        let before = repo.snapshot();
        let failed = run(&repo, &server, arguments, token);
        assert_eq!(failed.code, code, "{status}: {}", failed.stderr);
        assert!(
            failed.stderr.contains(message),
            "{status}: {}",
            failed.stderr
        );
        assert!(
            failed.stderr.contains("hint: "),
            "{status}: {}",
            failed.stderr
        );
        assert!(failed.stdout.is_empty(), "{status}: {}", failed.stdout);
        assert_eq!(repo.snapshot(), before, "{status} changed the tree");
        server.assert_valid();
        assert!(
            server
                .log()
                .iter()
                .any(|r| r["status"].as_u64() == status.parse().ok()),
            "{status}"
        );
        messages.push(failed.stderr.lines().next().unwrap_or_default().to_string());
    }
    let mut distinct = messages.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), messages.len(), "{messages:?}");
}

#[test]
fn conductor_flags_conflict_with_the_database_ones_and_need_the_url() {
    let repo = two_versions();
    for arguments in [
        &[
            "retire",
            "v1",
            "--conductor-url",
            "http://127.0.0.1:9",
            "--database-url",
            "postgresql://x/y",
        ][..],
        &[
            "retire",
            "v1",
            "--conductor-url",
            "http://127.0.0.1:9",
            "--no-drain-check",
        ],
        &[
            "version",
            "list",
            "--conductor-url",
            "http://127.0.0.1:9",
            "--database-url-file",
            "f",
        ],
        &[
            "version",
            "activate",
            "v1",
            "--conductor-url",
            "http://127.0.0.1:9",
            "--traffic-only",
        ],
        &["version", "activate", "v1", "--token-file", "t"],
        &["retire", "v1", "--org", "acme"],
    ] {
        let before = repo.snapshot();
        let failed = repo.fails(arguments, 2);
        assert!(
            failed.stderr.contains("cannot be used with")
                || failed
                    .stderr
                    .contains("required arguments were not provided"),
            "{arguments:?}: {}",
            failed.stderr
        );
        assert_eq!(repo.snapshot(), before);
    }
}

#[test]
fn the_token_file_is_read_and_sent_as_bearer_and_app_name_is_required() {
    let repo = two_versions();
    let Some(server) = start(&repo, state(vec![], live())) else {
        return;
    };
    let token_file = repo.home.path().join("conductor-token");
    std::fs::write(&token_file, format!("{TOKEN}\n")).unwrap();
    let token_path = token_file.to_str().unwrap();
    let list = run(
        &repo,
        &server,
        &["version", "list", "--token-file", token_path],
        None,
    );
    assert_eq!(list.code, 0, "{}", list.stderr);
    assert_bearer_and_valid(&server);

    let unnamed = TestRepo::prod();
    let failed = run(&unnamed, &server, &["version", "list"], Some(TOKEN));
    assert_eq!(failed.code, 2, "{}", failed.stderr);
    assert!(
        failed
            .stderr
            .contains("has no `app.name`, the application's name in Conductor"),
        "{}",
        failed.stderr
    );
}

#[test]
fn retire_through_conductor_refuses_work_under_undeclared_versions_and_patching_as_the_database_path_does(
) {
    let repo = two_versions();
    let before = repo.snapshot();
    let undeclared = vec![
        workflow("v1-done", "SUCCESS", Some("v1"), 1),
        workflow("pinned", "ENQUEUED", Some("0.9.0"), 2),
    ];
    let Some(server) = start(&repo, state(undeclared, live())) else {
        return;
    };
    let refused = run(&repo, &server, &["retire", "v1"], Some(TOKEN));
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(
        refused.stderr.starts_with(
            "error: refusing to retire `v1`: workflows are in flight under versions `versions.yaml` does not declare\n  `0.9.0`: 1 (ENQUEUED 1)\n"
        ),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("`application_version`"),
        "{}",
        refused.stderr
    );
    assert_eq!(repo.snapshot(), before);
    server.assert_valid();

    let patching = vec![workflow("patched", "PENDING", Some("PATCHING_ENABLED"), 1)];
    let Some(server) = start(&repo, state(patching, live())) else {
        return;
    };
    let refused = run(&repo, &server, &["retire", "v1"], Some(TOKEN));
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains("records work under `PATCHING_ENABLED` (1 in flight)"),
        "{}",
        refused.stderr
    );
    assert_eq!(repo.snapshot(), before);
}
