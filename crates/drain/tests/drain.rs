//! Drain check against a real PostgreSQL holding the real DBOS system tables (`dbos migrate`):
//! these prove that `retire` counts exactly the workflows DBOS would still run on the version
//! being retired, that it copes with older schemas and wrong databases, that it never writes,
//! and that the KEDA queue-depth query matches DBOS's dequeue rule.
//!
//! Needs `DBOS_GITOPS_TEST_DATABASE_URL` (see `tests/support/postgres.sh`) and the `dbos` CLI.

// Test helpers unwrap: a failure here is a failed test, with the panic's message.
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use dbos_gitops_drain::{
    in_flight, keda_queue_depth_sql, run_in_drain_session, DrainError, DrainQuery, InFlight,
};
use support::{closed_port, seed, server_url, with_dbname, TestDb, Wf};

fn q(version: &str) -> DrainQuery<'_> {
    DrainQuery {
        version,
        application_name: None,
        schema: "dbos",
        timeout: Duration::from_secs(10),
        sample_limit: 10,
    }
}

fn counts(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(s, n)| (s.to_string(), *n)).collect()
}

const A: Option<&str> = Some("shop");
const B: Option<&str> = Some("billing");

/// Two applications share one system database; versions v1 and v2; some rows are unclaimed
/// (NULL application) and some have no version yet.
fn fixture() -> Vec<Wf<'static>> {
    let w = |id, status, version, app, created_at| Wf {
        id,
        status,
        version,
        app,
        queue: None,
        created_at,
    };
    vec![
        // v1 of shop: in flight
        w("v1-pending-1", "PENDING", Some("v1"), A, 1_000),
        w("v1-pending-2", "PENDING", Some("v1"), A, 1_001),
        Wf {
            queue: Some("orders"),
            ..w("v1-enqueued-1", "ENQUEUED", Some("v1"), A, 1_002)
        },
        // v1, unclaimed (NULL application): counts for every application
        w("v1-delayed-unclaimed", "DELAYED", Some("v1"), None, 999),
        // v1 of shop: finished, never counts
        w("v1-success", "SUCCESS", Some("v1"), A, 500),
        w("v1-error", "ERROR", Some("v1"), A, 501),
        w("v1-cancelled", "CANCELLED", Some("v1"), A, 502),
        w(
            "v1-maxrec",
            "MAX_RECOVERY_ATTEMPTS_EXCEEDED",
            Some("v1"),
            A,
            503,
        ),
        // v1 of another application
        w("v1-billing-pending", "PENDING", Some("v1"), B, 2_000),
        Wf {
            queue: Some("orders"),
            ..w("v1-billing-enqueued", "ENQUEUED", Some("v1"), B, 2_001)
        },
        // v2 and version-less rows: never count against v1
        w("v2-pending", "PENDING", Some("v2"), A, 3_000),
        Wf {
            queue: Some("orders"),
            ..w("v2-enqueued", "ENQUEUED", Some("v2"), A, 3_001)
        },
        Wf {
            queue: Some("orders"),
            ..w("noversion-enqueued", "ENQUEUED", None, A, 4_000)
        },
        w("noversion-pending", "PENDING", None, None, 4_001),
        Wf {
            queue: Some("other-queue"),
            ..w("v2-enqueued-other-queue", "ENQUEUED", Some("v2"), A, 3_002)
        },
        w("v2-success", "SUCCESS", Some("v2"), A, 3_003),
    ]
}

#[test]
fn counts_in_flight_workflows_of_the_version() {
    let Some(server) = server_url("counts_in_flight_workflows_of_the_version") else {
        return;
    };
    let db = TestDb::with_dbos_schema(&server, "counts");
    seed(&mut db.client(), &fixture(), true);

    // Every application: shop, billing and unclaimed rows of v1.
    let all = in_flight(&db.url, &q("v1")).unwrap();
    assert_eq!(
        all.by_status,
        counts(&[("PENDING", 3), ("ENQUEUED", 2), ("DELAYED", 1)])
    );
    assert_eq!(all.total, 6);
    assert!(!all.filtered_by_application_name);
    assert!(!all.is_drained());
    assert_eq!(
        all.sample_workflow_ids,
        [
            "v1-delayed-unclaimed",
            "v1-pending-1",
            "v1-pending-2",
            "v1-enqueued-1",
            "v1-billing-pending",
            "v1-billing-enqueued"
        ]
    );

    // One application: its own rows plus unclaimed ones.
    let shop = in_flight(
        &db.url,
        &DrainQuery {
            application_name: Some("shop"),
            ..q("v1")
        },
    )
    .unwrap();
    assert_eq!(
        shop.by_status,
        counts(&[("PENDING", 2), ("ENQUEUED", 1), ("DELAYED", 1)])
    );
    assert_eq!(shop.total, 4);
    assert!(shop.filtered_by_application_name);
    assert_eq!(
        shop.sample_workflow_ids,
        [
            "v1-delayed-unclaimed",
            "v1-pending-1",
            "v1-pending-2",
            "v1-enqueued-1"
        ]
    );

    let billing = in_flight(
        &db.url,
        &DrainQuery {
            application_name: Some("billing"),
            ..q("v1")
        },
    )
    .unwrap();
    assert_eq!(
        billing.by_status,
        counts(&[("PENDING", 1), ("ENQUEUED", 1), ("DELAYED", 1)])
    );
    assert_eq!(billing.total, 3);

    // An application with nothing of its own still sees the unclaimed row.
    let other = in_flight(
        &db.url,
        &DrainQuery {
            application_name: Some("nobody"),
            ..q("v1")
        },
    )
    .unwrap();
    assert_eq!(other.by_status, counts(&[("DELAYED", 1)]));

    // v2 has its own rows only; version-less rows belong to no version here.
    let v2 = in_flight(&db.url, &q("v2")).unwrap();
    assert_eq!(v2.by_status, counts(&[("PENDING", 1), ("ENQUEUED", 2)]));
    assert_eq!(v2.total, 3);

    // A version with nothing in flight is drained.
    let v0 = in_flight(&db.url, &q("v0")).unwrap();
    assert_eq!(v0, InFlight::default());
    assert!(v0.is_drained());

    // Sample limit: oldest first, cut at the limit; zero means none.
    let limited = in_flight(
        &db.url,
        &DrainQuery {
            sample_limit: 2,
            ..q("v1")
        },
    )
    .unwrap();
    assert_eq!(
        limited.sample_workflow_ids,
        ["v1-delayed-unclaimed", "v1-pending-1"]
    );
    assert_eq!(limited.total, 6);
    let none = in_flight(
        &db.url,
        &DrainQuery {
            sample_limit: 0,
            ..q("v1")
        },
    )
    .unwrap();
    assert!(none.sample_workflow_ids.is_empty());
    assert_eq!(none.total, 6);
}

#[test]
fn version_is_bound_not_spliced() {
    let Some(server) = server_url("version_is_bound_not_spliced") else {
        return;
    };
    let db = TestDb::with_dbos_schema(&server, "inject");
    seed(&mut db.client(), &fixture(), true);
    let nasty = "v1' OR '1'='1";
    let r = in_flight(&db.url, &q(nasty)).unwrap();
    assert!(r.is_drained(), "{r:?}");
    let r = in_flight(
        &db.url,
        &DrainQuery {
            application_name: Some("x' OR 'a'='a"),
            ..q("v1")
        },
    )
    .unwrap();
    assert_eq!(r.by_status, counts(&[("DELAYED", 1)]));
}

#[test]
fn older_schema_without_application_name_counts_every_row() {
    let Some(server) = server_url("older_schema_without_application_name_counts_every_row") else {
        return;
    };
    let db = TestDb::with_dbos_schema(&server, "oldschema");
    let mut client = db.client();
    client
        .batch_execute("ALTER TABLE dbos.workflow_status DROP COLUMN application_name CASCADE")
        .unwrap();
    seed(&mut client, &fixture(), false);

    for name in [None, Some("shop"), Some("billing")] {
        let r = in_flight(
            &db.url,
            &DrainQuery {
                application_name: name,
                ..q("v1")
            },
        )
        .unwrap();
        assert_eq!(
            r.by_status,
            counts(&[("PENDING", 3), ("ENQUEUED", 2), ("DELAYED", 1)]),
            "{name:?}"
        );
        assert!(!r.filtered_by_application_name);
    }
}

#[test]
fn wrong_database_is_reported_as_missing_table() {
    let Some(server) = server_url("wrong_database_is_reported_as_missing_table") else {
        return;
    };
    // A database without any DBOS tables.
    let plain = TestDb::empty(&server, "plain");
    let err = in_flight(&plain.url, &q("v1")).unwrap_err();
    match &err {
        DrainError::MissingTable {
            schema,
            database,
            schema_exists,
        } => {
            assert_eq!(schema, "dbos");
            assert_eq!(database, &plain.name);
            assert!(!schema_exists);
        }
        other => panic!("expected MissingTable, got {other:?}"),
    }
    assert_eq!(
        err.to_string(),
        format!(
            "table `dbos.workflow_status` not found in database `{}`",
            plain.name
        )
    );
    let hint = err.hint().unwrap();
    assert!(
        hint.contains("dbos migrate") && hint.contains("wrong database"),
        "{hint}"
    );

    // The schema is there but not the table.
    plain.client().batch_execute("CREATE SCHEMA dbos").unwrap();
    let err = in_flight(&plain.url, &q("v1")).unwrap_err();
    assert!(
        matches!(
            err,
            DrainError::MissingTable {
                schema_exists: true,
                ..
            }
        ),
        "{err:?}"
    );

    // The tables live in another schema than the one asked for.
    let real = TestDb::with_dbos_schema(&server, "otherschema");
    let err = in_flight(
        &real.url,
        &DrainQuery {
            schema: "dbos_custom",
            ..q("v1")
        },
    )
    .unwrap_err();
    assert!(matches!(err, DrainError::MissingTable { .. }), "{err:?}");

    // The database does not exist at all.
    let missing = with_dbname(&server, "no_such_database_for_drain");
    let err = in_flight(&missing, &q("v1")).unwrap_err();
    assert!(
        matches!(err, DrainError::DatabaseNotFound { .. }),
        "{err:?}"
    );
    assert!(err.hint().is_some());
}

#[test]
fn custom_schema_name_works() {
    let Some(server) = server_url("custom_schema_name_works") else {
        return;
    };
    let db = TestDb::empty(&server, "customschema");
    let script = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/support/dbos_schema.sh");
    let status = std::process::Command::new("bash")
        .arg(script)
        .arg(&db.url)
        .arg("dbos_custom")
        .status()
        .unwrap();
    assert!(status.success());
    db.client()
        .batch_execute(
            "INSERT INTO dbos_custom.workflow_status (workflow_uuid, status, \
             application_version) VALUES ('a', 'PENDING', 'v1'), ('b', 'SUCCESS', 'v1')",
        )
        .unwrap();
    let r = in_flight(
        &db.url,
        &DrainQuery {
            schema: "dbos_custom",
            ..q("v1")
        },
    )
    .unwrap();
    assert_eq!(r.by_status, counts(&[("PENDING", 1)]));
    assert_eq!(r.sample_workflow_ids, ["a"]);
}

#[test]
fn unreachable_server_fails_fast_without_leaking_the_password() {
    // Needs no database: it connects to a closed port, so it always runs.
    let url = format!(
        "postgresql://app:sup3rs3cret@127.0.0.1:{}/sys",
        closed_port()
    );
    let start = Instant::now();
    let err = in_flight(
        &url,
        &DrainQuery {
            timeout: Duration::from_secs(3),
            ..q("v1")
        },
    )
    .unwrap_err();
    assert!(
        start.elapsed() < Duration::from_secs(4),
        "{:?}",
        start.elapsed()
    );
    assert!(matches!(err, DrainError::Unreachable { .. }), "{err:?}");
    let shown = format!("{err} {err:?} {}", err.hint().unwrap_or_default());
    assert!(!shown.contains("sup3rs3cret"), "{shown}");
    assert!(err.to_string().contains("127.0.0.1"), "{err}");
}

#[test]
fn silent_server_times_out() {
    // Needs no database: the "server" is a listener of our own, so it always runs.
    // Accepts TCP connections but never speaks: connecting must still give up in time.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let url = format!("postgresql://app:pw12345@127.0.0.1:{port}/sys");
    let start = Instant::now();
    let err = in_flight(
        &url,
        &DrainQuery {
            timeout: Duration::from_millis(1500),
            ..q("v1")
        },
    )
    .unwrap_err();
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(1400) && took < Duration::from_secs(4),
        "{took:?}"
    );
    assert!(matches!(err, DrainError::Timeout { .. }), "{err:?}");
    assert!(err.to_string().contains("1.5s"), "{err}");
    drop(listener);
}

#[test]
fn authentication_failure_is_reported() {
    let Some(server) = server_url("authentication_failure_is_reported") else {
        return;
    };
    let db = TestDb::with_dbos_schema(&server, "auth");
    // The test cluster trusts local connections, so provoke the failure server-side: a role
    // that may not log in.
    let role = format!("nologin_{}", db.name);
    db.client()
        .batch_execute(&format!("CREATE ROLE \"{role}\" NOLOGIN"))
        .unwrap();
    let url = strip_userinfo_and_set(&server, &role, &db.name);
    let err = in_flight(&url, &q("v1")).unwrap_err();
    assert!(matches!(err, DrainError::Authentication { .. }), "{err:?}");
    assert!(!format!("{err} {err:?}").contains("pw-xyz-123"), "{err:?}");
    assert!(err.hint().is_some());
    db.client()
        .batch_execute(&format!("DROP ROLE \"{role}\""))
        .unwrap();
}

/// `postgresql://ROLE:pw-xyz-123@host:port/DB` from a server url that may carry userinfo.
fn strip_userinfo_and_set(server: &str, role: &str, db: &str) -> String {
    let url = with_dbname(server, db);
    let scheme_end = url.find("://").unwrap() + 3;
    let rest = &url[scheme_end..];
    let host_start = rest.rfind('@').map_or(0, |i| i + 1);
    format!(
        "{}{role}:pw-xyz-123@{}",
        &url[..scheme_end],
        &rest[host_start..]
    )
}

#[test]
fn permission_denied_is_reported() {
    let Some(server) = server_url("permission_denied_is_reported") else {
        return;
    };
    let db = TestDb::with_dbos_schema(&server, "perm");
    let role = format!("reader_{}", db.name);
    db.client()
        .batch_execute(&format!(
            "CREATE ROLE \"{role}\" LOGIN PASSWORD 'pw-perm-1'; \
             GRANT USAGE ON SCHEMA dbos TO \"{role}\";"
        ))
        .unwrap();
    let url = strip_userinfo_and_set(&server, &role, &db.name).replace("pw-xyz-123", "pw-perm-1");
    let err = in_flight(&url, &q("v1")).unwrap_err();
    assert!(
        matches!(err, DrainError::PermissionDenied { .. }),
        "{err:?}"
    );
    assert!(err.hint().unwrap().contains("GRANT SELECT"));

    // With the grant the same user can check the drain.
    db.client()
        .batch_execute(&format!(
            "GRANT SELECT ON dbos.workflow_status TO \"{role}\""
        ))
        .unwrap();
    assert!(in_flight(&url, &q("v1")).unwrap().is_drained());
    db.client()
        .batch_execute(&format!(
            "REVOKE ALL ON dbos.workflow_status FROM \"{role}\"; \
             REVOKE ALL ON SCHEMA dbos FROM \"{role}\"; DROP ROLE \"{role}\";"
        ))
        .unwrap();
}

#[test]
fn session_is_read_only_and_bounded() {
    let Some(server) = server_url("session_is_read_only_and_bounded") else {
        return;
    };
    let db = TestDb::with_dbos_schema(&server, "readonly");
    let timeout = Duration::from_secs(7);
    let show = |sql: &str| run_in_drain_session(&db.url, timeout, sql).unwrap();
    assert_eq!(show("SHOW transaction_read_only"), [Some("on".to_string())]);
    assert_eq!(
        show("SHOW transaction_isolation"),
        [Some("repeatable read".to_string())]
    );
    assert_eq!(show("SHOW statement_timeout"), [Some("7s".to_string())]);
    // A lock wait gives up before the statement does, so it is reported as a lock wait.
    assert_eq!(show("SHOW lock_timeout"), [Some("5600ms".to_string())]);

    // Writes are refused by the server.
    let err = run_in_drain_session(
        &db.url,
        timeout,
        "INSERT INTO dbos.workflow_status (workflow_uuid, status) VALUES ('x', 'PENDING')",
    )
    .unwrap_err();
    assert!(err.to_string().contains("read-only transaction"), "{err:?}");
    let mut c = db.client();
    let n: i64 = c
        .query_one("SELECT COUNT(*) FROM dbos.workflow_status", &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 0);

    // The settings are transaction-local (SET LOCAL): nothing sticks to the session, which
    // matters behind a transaction-pooling PgBouncer.
    assert_eq!(
        show("SHOW default_transaction_read_only"),
        [Some("off".to_string())]
    );

    // statement_timeout bounds a slow query.
    let start = Instant::now();
    let err =
        run_in_drain_session(&db.url, Duration::from_secs(1), "SELECT pg_sleep(5)").unwrap_err();
    assert!(matches!(err, DrainError::Timeout { .. }), "{err:?}");
    assert!(start.elapsed() < Duration::from_secs(4));
}

#[test]
fn keda_query_counts_the_active_versions_queue() {
    let Some(server) = server_url("keda_query_counts_the_active_versions_queue") else {
        return;
    };
    let db = TestDb::with_dbos_schema(&server, "keda");
    let mut client = db.client();
    seed(&mut client, &fixture(), true);
    let mut depth = |queue: &str, version: &str| -> i64 {
        let sql = keda_queue_depth_sql("dbos", queue, version, None).unwrap();
        client.query_one(sql.as_str(), &[]).unwrap().get(0)
    };
    // orders queue, ENQUEUED or PENDING: v2-enqueued (v2) + noversion-enqueued (NULL); not v1's rows,
    // not other queues (the PENDING rows here run outside any queue; see tests/versions.rs).
    assert_eq!(depth("orders", "v2"), 2);
    // If v1 were active: its two ENQUEUED rows on `orders` + the version-less one.
    assert_eq!(depth("orders", "v1"), 3);
    assert_eq!(depth("other-queue", "v2"), 1);
    assert_eq!(depth("other-queue", "v1"), 0);
    assert_eq!(depth("no-such-queue", "v2"), 0);

    // Values needing quoting are rejected, never spliced.
    assert!(matches!(
        keda_queue_depth_sql("dbos", "orders' OR ''='", "v2", None),
        Err(DrainError::InvalidName { .. })
    ));
}
