//! DBOS's application versions against a real PostgreSQL with the real DBOS system tables
//! (`dbos migrate`): making a version latest the way the SDK's `set_latest_application_version`
//! does, reading what the database holds per version, and the KEDA queue depth counting running
//! (PENDING) work as well as ENQUEUED work (issue 11).
//!
//! Needs `DBOS_GITOPS_TEST_DATABASE_URL` (see `tests/support/postgres.sh`) and the `dbos` CLI.

// Test helpers unwrap: a failure here is a failed test, with the panic's message.
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeMap;

use dbos_gitops_drain::{
    keda_queue_depth_sql, set_latest_version, versions_report, DrainError, LatestOutcome,
    VersionsQuery,
};
use support::{closed_port, seed, server_url, TestDb, Wf};

/// Registers versions as DBOS does (one `application_versions` row each), with fixed timestamps.
fn register(db: &TestDb, rows: &[(&str, Option<&str>, i64)]) {
    let mut client = db.client();
    for (name, application, timestamp) in rows {
        client
            .execute(
                "INSERT INTO dbos.application_versions (version_id, version_name, \
                 version_timestamp, created_at, application_name) VALUES ($1, $2, $3, $3, $4)",
                &[&format!("id-{name}"), name, timestamp, application],
            )
            .unwrap_or_else(|e| panic!("registering {name}: {e}"));
    }
}

fn timestamps(db: &TestDb) -> BTreeMap<String, (i64, Option<String>)> {
    db.client()
        .query(
            "SELECT version_name, version_timestamp, application_name FROM dbos.application_versions",
            &[],
        )
        .unwrap()
        .iter()
        .map(|row| (row.get(0), (row.get(1), row.get(2))))
        .collect()
}

#[test]
fn a_rollback_makes_the_older_version_latest_once() {
    let Some(server) = server_url("a_rollback_makes_the_older_version_latest_once") else {
        return;
    };
    let db = TestDb::with_dbos_schema(&server, "latest");
    // v2's clock ran far ahead: the rollback must still end up newest.
    register(
        &db,
        &[("v1", None, 1_000), ("v2", None, 99_999_999_999_999)],
    );
    let query = VersionsQuery::new(None);
    assert_eq!(
        versions_report(&db.url, &query).unwrap().latest(),
        Some("v2")
    );

    let outcome = set_latest_version(&db.url, "v1", &query).unwrap();
    assert_eq!(
        outcome,
        LatestOutcome::Set {
            previous: Some("v2".into())
        }
    );
    let after = timestamps(&db);
    assert!(after["v1"].0 > after["v2"].0, "{after:?}");
    assert_eq!(after["v2"].0, 99_999_999_999_999, "v2 is not retimed");
    assert_eq!(
        versions_report(&db.url, &query).unwrap().latest(),
        Some("v1")
    );

    // Again: nothing to do, nothing written.
    assert_eq!(
        set_latest_version(&db.url, "v1", &query).unwrap(),
        LatestOutcome::AlreadyLatest
    );
    assert_eq!(timestamps(&db), after);

    // A version no executor ever registered: refused, with what the database holds.
    assert_eq!(
        set_latest_version(&db.url, "v9", &query).unwrap(),
        LatestOutcome::NotRegistered {
            registered: vec!["v1".into(), "v2".into()]
        }
    );
    assert_eq!(timestamps(&db), after);
}

#[test]
fn an_application_name_scopes_and_claims_like_the_sdk() {
    let Some(server) = server_url("an_application_name_scopes_and_claims_like_the_sdk") else {
        return;
    };
    let db = TestDb::with_dbos_schema(&server, "scoped");
    register(
        &db,
        &[
            ("v1", None, 1_000),
            ("v2", Some("shop"), 2_000),
            ("b7", Some("billing"), 9_000),
        ],
    );
    let shop = VersionsQuery::new(Some("shop"));
    // Another application's newer version is not shop's latest (the SDK's scoping).
    assert_eq!(
        versions_report(&db.url, &shop).unwrap().latest(),
        Some("v2")
    );
    assert_eq!(
        versions_report(&db.url, &VersionsQuery::new(None))
            .unwrap()
            .latest(),
        Some("b7")
    );
    // Billing's version is not shop's to promote.
    assert_eq!(
        set_latest_version(&db.url, "b7", &shop).unwrap(),
        LatestOutcome::NotRegistered {
            registered: vec!["v2".into(), "v1".into()]
        }
    );

    set_latest_version(&db.url, "v1", &shop).unwrap();
    let after = timestamps(&db);
    // Retimed above shop's versions and claimed for shop, as promotion does in the SDK; the
    // billing row is untouched.
    assert!(after["v1"].0 > 2_000, "{after:?}");
    assert_eq!(after["v1"].1.as_deref(), Some("shop"));
    assert_eq!(after["b7"], (9_000, Some("billing".into())));
    assert_eq!(
        versions_report(&db.url, &shop).unwrap().latest(),
        Some("v1")
    );
}

#[test]
fn the_report_counts_in_flight_work_per_version() {
    let Some(server) = server_url("the_report_counts_in_flight_work_per_version") else {
        return;
    };
    let db = TestDb::with_dbos_schema(&server, "report");
    register(&db, &[("v1", Some("shop"), 1_000)]);
    let w = |id, status, version, app| Wf {
        id,
        status,
        version,
        app,
        queue: None,
        created_at: 1,
    };
    seed(
        &mut db.client(),
        &[
            w("a", "PENDING", Some("v1"), Some("shop")),
            w("b", "ENQUEUED", Some("0.1.0"), Some("shop")),
            w("c", "ENQUEUED", Some("0.1.0"), None),
            w("d", "DELAYED", None, Some("shop")),
            w("e", "SUCCESS", Some("v1"), Some("shop")),
            w("f", "PENDING", Some("0.1.0"), Some("billing")),
        ],
        true,
    );
    let report = versions_report(&db.url, &VersionsQuery::new(Some("shop"))).unwrap();
    assert!(report.filtered_by_application_name);
    let expected: BTreeMap<Option<String>, BTreeMap<String, u64>> = [
        (None, vec![("DELAYED", 1)]),
        (Some("0.1.0"), vec![("ENQUEUED", 2)]),
        (Some("v1"), vec![("PENDING", 1)]),
    ]
    .into_iter()
    .map(|(version, counts)| {
        (
            version.map(str::to_owned),
            counts
                .into_iter()
                .map(|(status, count)| (status.to_owned(), count))
                .collect(),
        )
    })
    .collect();
    assert_eq!(report.in_flight, expected);
    assert_eq!(report.in_flight_total(Some("0.1.0")), 2);
    // Unnamed: billing's PENDING row counts too.
    let all = versions_report(&db.url, &VersionsQuery::new(None)).unwrap();
    assert_eq!(all.in_flight_total(Some("0.1.0")), 3);
}

#[test]
fn the_keda_query_counts_running_and_enqueued_work_of_the_active_version() {
    let Some(server) =
        server_url("the_keda_query_counts_running_and_enqueued_work_of_the_active_version")
    else {
        return;
    };
    let db = TestDb::with_dbos_schema(&server, "kedapending");
    let w = |id, status, version, queue| Wf {
        id,
        status,
        version,
        app: Some("shop"),
        queue: Some(queue),
        created_at: 1,
    };
    seed(
        &mut db.client(),
        &[
            w("run-1", "PENDING", Some("v2"), "orders"),
            w("run-2", "PENDING", Some("v2"), "orders"),
            w("wait-1", "ENQUEUED", Some("v2"), "orders"),
            w("old", "PENDING", Some("v1"), "orders"),
            w("late", "DELAYED", Some("v2"), "orders"),
            w("done", "SUCCESS", Some("v2"), "orders"),
            w("other", "PENDING", Some("v2"), "emails"),
        ],
        true,
    );
    let sql = keda_queue_depth_sql("dbos", "orders", "v2", None).unwrap();
    let depth: i64 = db.client().query_one(sql.as_str(), &[]).unwrap().get(0);
    assert_eq!(depth, 3, "{sql}");
}

#[test]
fn an_unreachable_database_is_an_error_not_an_answer() {
    let url = format!("postgresql://dbos:hunter2@127.0.0.1:{}/dbos", closed_port());
    let error = set_latest_version(&url, "v1", &VersionsQuery::new(None)).unwrap_err();
    assert!(matches!(error, DrainError::Unreachable { .. }), "{error:?}");
    assert!(!error.to_string().contains("hunter2"), "{error}");
}
