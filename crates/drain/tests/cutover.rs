//! Issue 20 against a real PostgreSQL with the real DBOS system tables (`dbos migrate`), rows
//! written by the DBOS Python SDK itself (`tests/support/dbos_dequeue.py`: `DBOSClient.enqueue`,
//! `create_application_version`):
//! - the KEDA queue depth counts exactly what the SDK's own dequeue (`start_queued_workflows`)
//!   hands the active version, before and after a rollback, with and without an application name,
//!   and for a version whose first pod has not registered it yet;
//! - the versions report names every application that owns versions (a typo'd `app.name` is
//!   detected from it) and sees a sharded schema the way the SDK's CLI does;
//! - a lock wait and a missing privilege are reported as what they are.
//!
//! Needs `DBOS_GITOPS_TEST_DATABASE_URL` and the `dbos` Python package (test venv).

// Test helpers unwrap: a failure here is a failed test, with the panic's message.
#![allow(clippy::unwrap_used)]

mod support;

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::Duration;

use dbos_gitops_drain::{
    keda_queue_depth_sql, set_latest_version, versions_report, DrainError, VersionsQuery,
};
use dbos_gitops_test_support::skip::require_tool;
use dbos_gitops_test_support::workspace_root;
use support::{server_url, with_dbname, TestDb};

/// Runs `ops` (one operation a line, see the script) through the DBOS SDK as application `app`
/// (or unnamed); one output line per operation.
fn sdk(db: &TestDb, app: Option<&str>, ops: &str) -> Vec<String> {
    let script = workspace_root().join("tests/support/dbos_dequeue.py");
    let mut child = Command::new("python3")
        .arg(&script)
        .arg(&db.url)
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
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn sdk_available() -> bool {
    require_tool("python3", &["-c", "import dbos"])
}

fn depth(db: &TestDb, queue: &str, version: &str, app: Option<&str>) -> i64 {
    let sql = keda_queue_depth_sql("dbos", queue, version, app).unwrap();
    db.client().query_one(sql.as_str(), &[]).unwrap().get(0)
}

/// A copy of a migrated database (`CREATE DATABASE ... TEMPLATE`: one `dbos migrate` per test,
/// not per scenario), dropped with the value.
struct Copy {
    db: TestDb,
}

impl Copy {
    fn of(server: &str, template: &TestDb, tag: &str) -> Copy {
        let db = TestDb::empty(server, tag);
        let mut admin = support::connect(server);
        // One statement per call: DROP and CREATE DATABASE refuse a transaction block.
        for sql in [
            format!("DROP DATABASE \"{}\"", db.name),
            format!(
                "CREATE DATABASE \"{}\" TEMPLATE \"{}\"",
                db.name, template.name
            ),
        ] {
            admin
                .batch_execute(&sql)
                .unwrap_or_else(|error| panic!("{sql}: {error:?}"));
        }
        Copy { db }
    }
}

/// One routing scenario: a fresh copy of `template` (which holds the SDK-written rows), an
/// optional rollback made by us, then for `version` the KEDA depth of `orders`
/// must equal the number of rows the SDK's dequeue claims for a worker of it, and stay the same
/// afterwards (the claimed rows run, PENDING, under that version). Returns the depth.
fn scenario(
    server: &str,
    template: &TestDb,
    rollback_to: Option<(&str, Option<&str>)>,
    version: &str,
    app: Option<&str>,
    register_first: bool,
) -> i64 {
    let copy = Copy::of(server, template, "cutover");
    let db = &copy.db;
    if let Some((older, name)) = rollback_to {
        set_latest_version(&db.url, older, &VersionsQuery::new(name)).unwrap();
    }
    let before = depth(db, "orders", version, app);
    let mut ops = String::new();
    if register_first {
        ops.push_str(&format!("register {version}\n"));
    }
    ops.push_str(&format!("dequeue orders {version}\n"));
    let results = sdk(db, app, &ops);
    let claimed: i64 = results
        .last()
        .and_then(|line| line.split(' ').next())
        .and_then(|count| count.parse().ok())
        .unwrap_or_else(|| panic!("no dequeue result in {results:?}"));
    assert_eq!(
        before, claimed,
        "KEDA depth of `{version}` (app {app:?}) vs the SDK's dequeue"
    );
    assert_eq!(
        depth(db, "orders", version, app),
        before,
        "after the dequeue"
    );
    before
}

/// v1 then v2 registered (v2 DBOS's latest); version-less and versioned work on `orders`, and
/// a version-less row on another queue.
const TWO_VERSIONS: &str = "register v1\nregister v2\nenqueue orders -\nenqueue orders -\n\
    enqueue orders v1\nenqueue orders v2\nenqueue orders v2\nenqueue emails -\n";

#[test]
fn issue_20_keda_depth_is_what_the_sdk_dequeues_before_and_after_a_rollback() {
    let Some(server) =
        server_url("issue_20_keda_depth_is_what_the_sdk_dequeues_before_and_after_a_rollback")
    else {
        return;
    };
    if !sdk_available() {
        return;
    }
    let template = TestDb::with_dbos_schema(&server, "routing");
    let setup = [(None, TWO_VERSIONS)];
    for (owner, ops) in setup {
        sdk(&template, owner, ops);
    }
    // Before: v2 is DBOS's latest and takes the version-less rows; v1 only its own.
    assert_eq!(scenario(&server, &template, None, "v2", None, false), 4);
    assert_eq!(scenario(&server, &template, None, "v1", None, false), 1);
    // After `version activate v1 --database-url`: v1 is latest and takes them; v2 only its own.
    let rollback = Some(("v1", None));
    assert_eq!(scenario(&server, &template, rollback, "v1", None, false), 3);
    assert_eq!(scenario(&server, &template, rollback, "v2", None, false), 2);
}

#[test]
fn issue_20_keda_depth_with_an_application_name_counts_its_rows_and_unclaimed_ones() {
    let Some(server) = server_url(
        "issue_20_keda_depth_with_an_application_name_counts_its_rows_and_unclaimed_ones",
    ) else {
        return;
    };
    if !sdk_available() {
        return;
    }
    let template = TestDb::with_dbos_schema(&server, "routing");
    let setup = [
        (Some("shop"), TWO_VERSIONS),
        // Another application registers later (newer) and queues on the same queue name.
        (
            Some("billing"),
            "register b1\nenqueue orders -\nenqueue orders v2\n",
        ),
        // An unnamed client's work is unclaimed: any application may run it.
        (None, "enqueue orders -\n"),
    ];
    for (owner, ops) in setup {
        sdk(&template, owner, ops);
    }
    let shop = Some("shop");
    // billing's newer version is not shop's latest; shop's v2 takes shop's and unclaimed rows.
    assert_eq!(scenario(&server, &template, None, "v2", shop, false), 5);
    assert_eq!(scenario(&server, &template, None, "v1", shop, false), 1);
    let rollback = Some(("v1", shop));
    assert_eq!(scenario(&server, &template, rollback, "v1", shop, false), 4);
    assert_eq!(scenario(&server, &template, rollback, "v2", shop, false), 2);
}

#[test]
fn issue_20_a_version_not_registered_yet_counts_what_its_first_pod_will_take() {
    let Some(server) =
        server_url("issue_20_a_version_not_registered_yet_counts_what_its_first_pod_will_take")
    else {
        return;
    };
    if !sdk_available() {
        return;
    }
    // v2 was just activated and scaled to zero: it has no row yet. Its first pod registers it
    // (newest timestamp) and then dequeues the version-less rows, so KEDA must start it.
    let template = TestDb::with_dbos_schema(&server, "routing");
    let setup = [(
        Some("shop"),
        "register v1\nenqueue orders -\nenqueue orders -\nenqueue orders v1\n",
    )];
    for (owner, ops) in setup {
        sdk(&template, owner, ops);
    }
    assert_eq!(
        scenario(&server, &template, None, "v2", Some("shop"), true),
        2
    );
}

#[test]
fn issue_20_the_report_names_every_owner_and_sees_sharding() {
    let Some(server) = server_url("issue_20_the_report_names_every_owner_and_sees_sharding") else {
        return;
    };
    if !sdk_available() {
        return;
    }
    let db = TestDb::with_dbos_schema(&server, "owners");
    sdk(&db, Some("appA"), "register v1\n");
    sdk(&db, Some("billing"), "register b1\n");
    // The typo sees no version of its own, but the report still names the real owners.
    let report = versions_report(&db.url, &VersionsQuery::new(Some("appa"))).unwrap();
    assert_eq!(report.owners, ["appA", "billing"]);
    assert!(report.registered.is_empty(), "{report:?}");
    assert!(!report.sharded);
    // `dbos migrate --sharding` (Transact Enterprise) adds `workflow_status.shard_key`: the
    // column the SDK's CLI checks (`holds_sharded_schema`) to tell a sharded schema.
    db.execute("ALTER TABLE dbos.workflow_status ADD COLUMN shard_key TEXT");
    assert!(
        versions_report(&db.url, &VersionsQuery::new(None))
            .unwrap()
            .sharded
    );
}

#[test]
fn issue_20_a_lock_wait_is_not_a_network_problem() {
    let Some(server) = server_url("issue_20_a_lock_wait_is_not_a_network_problem") else {
        return;
    };
    let db = TestDb::with_dbos_schema(&server, "lockwait");
    db.execute(
        "INSERT INTO dbos.application_versions (version_id, version_name, version_timestamp, created_at) \
         VALUES ('a', 'v1', 1, 1), ('b', 'v2', 2, 2)",
    );
    // Another session (a running `dbos migrate`, say) holds the table.
    let mut holder = db.client();
    let mut tx = holder.transaction().unwrap();
    tx.batch_execute("LOCK TABLE dbos.application_versions IN ACCESS EXCLUSIVE MODE")
        .unwrap();
    let query = VersionsQuery {
        timeout: Duration::from_secs(2),
        ..VersionsQuery::new(None)
    };
    let error = set_latest_version(&db.url, "v1", &query).unwrap_err();
    assert!(
        matches!(&error, DrainError::LockTimeout { table, .. } if table == "application_versions"),
        "{error:?}"
    );
    let text = format!("{error} {}", error.hint().unwrap());
    assert!(
        text.contains("lock on `dbos.application_versions`"),
        "{text}"
    );
    assert!(!text.contains("network"), "{text}");
    tx.rollback().unwrap();
    // Once the other session is gone the same call works.
    set_latest_version(&db.url, "v1", &query).unwrap();
}

#[test]
fn issue_20_a_permission_error_names_the_table_and_privilege_missing() {
    let Some(server) =
        server_url("issue_20_a_permission_error_names_the_table_and_privilege_missing")
    else {
        return;
    };
    let db = TestDb::with_dbos_schema(&server, "privileges");
    db.execute(
        "INSERT INTO dbos.application_versions (version_id, version_name, version_timestamp, created_at) \
         VALUES ('a', 'v1', 1, 1), ('b', 'v2', 2, 2)",
    );
    let role = format!("r_{}", db.name);
    db.execute(&format!(
        "CREATE ROLE \"{role}\" LOGIN PASSWORD 'pw-priv-1'"
    ));
    let url = {
        let base = with_dbname(&server, &db.name);
        let (scheme, rest) = base.split_once("://").unwrap();
        let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
        format!("{scheme}://{role}:pw-priv-1@{host}")
    };
    let denied = |error: DrainError| match error {
        DrainError::PermissionDenied {
            ref table,
            privilege,
            ..
        } => {
            let text = format!("{error} {}", error.hint().unwrap());
            assert!(!text.contains("pw-priv-1"), "{text}");
            (table.clone(), privilege, text)
        }
        other => panic!("{other:?}"),
    };
    let query = VersionsQuery::new(None);
    // No USAGE on the schema.
    let (_, privilege, text) = denied(versions_report(&url, &query).unwrap_err());
    assert_eq!(privilege, "USAGE", "{text}");
    assert!(text.contains("on schema `dbos`"), "{text}");
    // USAGE and SELECT on workflow_status only: application_versions is what is missing.
    db.execute(&format!(
        "GRANT USAGE ON SCHEMA dbos TO \"{role}\"; GRANT SELECT ON dbos.workflow_status TO \"{role}\""
    ));
    let (table, privilege, text) = denied(versions_report(&url, &query).unwrap_err());
    assert_eq!(
        (table.as_str(), privilege),
        ("application_versions", "SELECT")
    );
    assert!(
        text.contains("GRANT SELECT ON dbos.application_versions"),
        "{text}"
    );
    // Reading is enough for the report, not for a rollback: UPDATE is missing.
    db.execute(&format!(
        "GRANT SELECT ON dbos.application_versions TO \"{role}\""
    ));
    versions_report(&url, &query).unwrap();
    let (table, privilege, text) = denied(set_latest_version(&url, "v1", &query).unwrap_err());
    assert_eq!(
        (table.as_str(), privilege),
        ("application_versions", "UPDATE")
    );
    assert!(
        text.contains("GRANT SELECT, UPDATE ON dbos.application_versions"),
        "{text}"
    );
    db.execute(&format!(
        "GRANT UPDATE ON dbos.application_versions TO \"{role}\""
    ));
    set_latest_version(&url, "v1", &query).unwrap();
    db.execute(&format!(
        "REVOKE ALL ON ALL TABLES IN SCHEMA dbos FROM \"{role}\"; \
         REVOKE ALL ON SCHEMA dbos FROM \"{role}\"; DROP ROLE \"{role}\""
    ));
}
