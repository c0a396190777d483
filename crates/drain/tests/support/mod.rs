//! Shared fixtures for the drain tests: every test gets its own fresh PostgreSQL database with
//! the real DBOS system tables (created by `tests/support/dbos_schema.sh`, i.e. `dbos migrate`),
//! so tests run in parallel without seeing each other's workflows.

#![allow(dead_code)]

// The database itself comes from the workspace's test-support crate (one copy for every suite).
#[allow(unused_imports)]
pub use dbos_gitops_test_support::postgres::{
    closed_port, connect, server_url, with_database, with_dbname, with_password, TestDb, ENV,
};

/// One `dbos.workflow_status` row to seed.
pub struct Wf<'a> {
    pub id: &'a str,
    pub status: &'a str,
    pub version: Option<&'a str>,
    pub app: Option<&'a str>,
    pub queue: Option<&'a str>,
    pub created_at: i64,
}

/// Inserts workflows the way DBOS records them (real columns; NOT NULL ones filled).
pub fn seed(client: &mut postgres::Client, rows: &[Wf], with_application_name: bool) {
    for w in rows {
        if with_application_name {
            client
                .execute(
                    "INSERT INTO dbos.workflow_status (workflow_uuid, status, name, class_name, \
                     config_name, executor_id, application_version, application_id, queue_name, \
                     created_at, updated_at, recovery_attempts, priority, inputs, \
                     application_name) \
                     VALUES ($1, $2, 'checkout', NULL, NULL, 'local', $3, 'app-id', $4, $5, $5, \
                     0, 0, '{\"args\":[],\"kwargs\":{}}', $6)",
                    &[
                        &w.id,
                        &w.status,
                        &w.version,
                        &w.queue,
                        &w.created_at,
                        &w.app,
                    ],
                )
                .unwrap_or_else(|e| panic!("seeding {}: {e}", w.id));
        } else {
            client
                .execute(
                    "INSERT INTO dbos.workflow_status (workflow_uuid, status, name, executor_id, \
                     application_version, application_id, queue_name, created_at, updated_at) \
                     VALUES ($1, $2, 'checkout', 'local', $3, 'app-id', $4, $5, $5)",
                    &[&w.id, &w.status, &w.version, &w.queue, &w.created_at],
                )
                .unwrap_or_else(|e| panic!("seeding {}: {e}", w.id));
        }
    }
}
