//! Drain check for retiring a DBOS application version.
//!
//! Each DBOS application version runs in its own Kubernetes Deployment, and `dbos-gitops
//! retire VERSION` may only remove a version's Deployment once no workflow of that version is
//! still in flight: DBOS recovers and dequeues a workflow only on an executor running the same
//! `application_version`, so removing the last such executor strands its workflows. This crate
//! answers "what is still in flight for version X" by reading the DBOS system table
//! `<schema>.workflow_status` over a strictly read-only connection, and also builds the queue
//! depth query used by KEDA to scale the active version's workers. The `versions` module reads
//! DBOS's registered versions and per-version in-flight counts, and makes a version DBOS's latest
//! for a rollback (the only write, in its own short read-write transaction).
//!
//! The DBOS rules encoded here (checked against `dbos` 3.4.0, `dbos/_sys_db.py` and
//! `dbos/_migration.py`):
//! - in flight means `status` is `PENDING`, `ENQUEUED` or `DELAYED` (`workflow_is_active`);
//! - a row with a NULL `application_version` is taken by the newest version, so it never keeps
//!   an older version alive;
//! - `application_name` (added by migration 100) scopes rows to one application; NULL means
//!   unclaimed, which every application may run, so it counts for every application.

mod connect;
mod ctx;
mod dbos;
mod error;
mod keda;
mod session;
mod tls;
mod url;
mod versions;

use std::collections::BTreeMap;
use std::time::Duration;

use postgres::Transaction;

use crate::ctx::Ctx;
use crate::session::{workflow_status_columns, Failure, Session};

pub use crate::dbos::{DEFAULT_SCHEMA, IN_FLIGHT_STATUSES};
pub use crate::error::DrainError;
pub use crate::keda::{keda_queue_depth_sql, QUEUE_DEPTH_RULE};
pub use crate::tls::{RootCert, SslMode, TlsError};
pub use crate::url::redact as redact_database_url;

/// Parses a database URL the way every command does, connecting to nothing: for the fuzz
/// target (`fuzz/fuzz_targets/database_url.rs`), which holds that no error shows the password.
#[doc(hidden)]
pub fn parse_database_url(database_url: &str) -> Result<(), DrainError> {
    url::parse(database_url).map(|_| ())
}
pub use crate::versions::{
    set_latest_version, versions_report, LatestOutcome, RegisteredVersion, VersionsQuery,
    VersionsReport,
};

/// What to check.
#[derive(Debug, Clone)]
pub struct DrainQuery<'a> {
    /// The `application_version` being retired.
    pub version: &'a str,
    /// Only count this application's rows (plus unclaimed ones); `None` counts every
    /// application sharing the system database.
    pub application_name: Option<&'a str>,
    /// Schema of the DBOS system tables, normally `dbos`.
    pub schema: &'a str,
    /// Bound on connecting and on each statement.
    pub timeout: Duration,
    /// How many workflow ids to return as examples.
    pub sample_limit: usize,
}

impl<'a> DrainQuery<'a> {
    /// A query for `version` with the defaults: every application, schema `dbos`, a 10 s
    /// timeout and up to 5 sample ids.
    pub fn new(version: &'a str) -> Self {
        DrainQuery {
            version,
            application_name: None,
            schema: DEFAULT_SCHEMA,
            timeout: Duration::from_secs(10),
            sample_limit: 5,
        }
    }
}

/// The workflows of a version that are still in flight.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InFlight {
    /// Count per status; only statuses with at least one workflow appear.
    pub by_status: BTreeMap<String, u64>,
    /// Sum of `by_status`.
    pub total: u64,
    /// Up to `sample_limit` ids of in-flight workflows, oldest first.
    pub sample_workflow_ids: Vec<String>,
    /// Whether the `application_name` filter was applied. False when no name was asked for, and
    /// when the system tables predate the `application_name` column (every row then counts).
    pub filtered_by_application_name: bool,
}

impl InFlight {
    /// True when nothing of the version is in flight.
    pub fn is_drained(&self) -> bool {
        self.total == 0
    }
}

/// Counts the in-flight workflows of `query.version` in the DBOS system database.
///
/// Runs inside one `READ ONLY`, `REPEATABLE READ` transaction (so counts and samples agree)
/// with `statement_timeout` set to `query.timeout` (and `lock_timeout` to four fifths of it) for
/// that transaction only
/// (`SET LOCAL`, so nothing leaks through a transaction-pooling PgBouncer). The version and the
/// application name are bound as parameters.
pub fn in_flight(database_url: &str, query: &DrainQuery) -> Result<InFlight, DrainError> {
    let schema = keda::validate_schema(query.schema)?;
    if query.version.is_empty() {
        return Err(DrainError::InvalidName {
            what: "application version",
            value: String::new(),
            reason: "it is empty",
        });
    }
    let mut session = Session::open(database_url, query.timeout)?;
    session.read_only(|tx, ctx| count_in_flight(tx, ctx, schema, query))
}

/// Runs `sql` in exactly the session `in_flight` uses and returns the first column of each
/// row as text. For tests proving the session is read-only and bounded; not a stable API.
#[doc(hidden)]
pub fn run_in_drain_session(
    database_url: &str,
    timeout: Duration,
    sql: &str,
) -> Result<Vec<Option<String>>, DrainError> {
    let mut session = Session::open(database_url, timeout)?;
    session.read_only(|tx, _| {
        let mut out = Vec::new();
        for msg in tx.simple_query(sql)? {
            if let postgres::SimpleQueryMessage::Row(row) = msg {
                out.push(row.get(0).map(str::to_owned));
            }
        }
        Ok(out)
    })
}

fn count_in_flight(
    tx: &mut Transaction<'_>,
    ctx: &mut Ctx,
    schema: &str,
    query: &DrainQuery,
) -> Result<InFlight, Failure> {
    ctx.schema = Some(schema.to_owned());
    let columns = workflow_status_columns(tx, ctx, schema)?;
    for required in [
        "workflow_uuid",
        "status",
        "application_version",
        "created_at",
    ] {
        if !columns.iter().any(|c| c == required) {
            return Err(DrainError::UnexpectedSchema {
                schema: schema.to_owned(),
                column: required.to_owned(),
            }
            .into());
        }
    }
    let has_application_name = columns.iter().any(|c| c == "application_name");
    let name_filter = match query.application_name {
        Some(name) if has_application_name => Some(name),
        _ => None,
    };

    let table = format!("{}.\"workflow_status\"", keda::quote_ident(schema));
    let statuses: Vec<&str> = IN_FLIGHT_STATUSES.to_vec();
    let mut predicate =
        String::from("\"status\" = ANY($1::text[]) AND \"application_version\" = $2");
    if name_filter.is_some() {
        predicate.push_str(" AND (\"application_name\" = $3 OR \"application_name\" IS NULL)");
    }
    let mut params: Vec<&(dyn postgres::types::ToSql + Sync)> = vec![&statuses, &query.version];
    if let Some(name) = &name_filter {
        params.push(name);
    }

    let mut result = InFlight {
        filtered_by_application_name: name_filter.is_some(),
        ..InFlight::default()
    };
    let rows = tx.query(
        &format!(
            "SELECT \"status\", COUNT(*)::bigint FROM {table} WHERE {predicate} \
             GROUP BY \"status\" ORDER BY \"status\""
        ),
        &params,
    )?;
    for row in rows {
        let status: String = row.get(0);
        let count = u64::try_from(row.get::<_, i64>(1)).unwrap_or(0);
        result.total += count;
        result.by_status.insert(status, count);
    }

    if query.sample_limit > 0 && result.total > 0 {
        let limit = i64::try_from(query.sample_limit).unwrap_or(i64::MAX);
        let limit_param = format!("${}", params.len() + 1);
        params.push(&limit);
        let rows = tx.query(
            &format!(
                "SELECT \"workflow_uuid\" FROM {table} WHERE {predicate} \
                 ORDER BY \"created_at\", \"workflow_uuid\" LIMIT {limit_param}"
            ),
            &params,
        )?;
        result.sample_workflow_ids = rows.iter().map(|r| r.get(0)).collect();
    }
    Ok(result)
}
