//! What this crate relies on of DBOS's system tables (`dbos/_sys_db.py`, `dbos/_migration.py`,
//! as of `dbos` 3.4.0).

/// The `workflow_status.status` values of a workflow that has not finished.
pub const IN_FLIGHT_STATUSES: [&str; 3] = ["PENDING", "ENQUEUED", "DELAYED"];

/// Default schema of the DBOS system tables.
pub const DEFAULT_SCHEMA: &str = "dbos";
