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
mod error;
mod keda;
mod tls;
mod url;
mod versions;

use std::collections::BTreeMap;
use std::time::Duration;

use postgres::error::SqlState;
use postgres::{IsolationLevel, Transaction};

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

/// The `workflow_status.status` values of a workflow that has not finished.
pub const IN_FLIGHT_STATUSES: [&str; 3] = ["PENDING", "ENQUEUED", "DELAYED"];

/// Default schema of the DBOS system tables.
pub const DEFAULT_SCHEMA: &str = "dbos";

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

/// Facts about the connection used to turn driver errors into `DrainError`s.
struct Ctx {
    target: String,
    user: String,
    database: String,
    password: Option<String>,
    timeout: Duration,
    schema: Option<String>,
    /// The table and privilege the statement being run needs, for permission and lock errors.
    access: (&'static str, &'static str),
}

struct Session {
    client: postgres::Client,
    ctx: Ctx,
}

impl Session {
    fn open(database_url: &str, timeout: Duration) -> Result<Session, DrainError> {
        let parsed = url::parse(database_url)?;
        let mut config = parsed.config;
        if !timeout.is_zero() {
            config.connect_timeout(timeout);
            if config.get_tcp_user_timeout().is_none() {
                config.tcp_user_timeout(timeout);
            }
        }
        if config.get_application_name().is_none() {
            config.application_name("dbos-gitops-drain");
        }
        let ctx = Ctx {
            target: parsed.target,
            user: parsed.user,
            database: parsed.database,
            password: parsed.password,
            timeout,
            schema: None,
            access: ("workflow_status", "SELECT"),
        };
        let client = connect::connect_within(config, &parsed.tls, &ctx)?;
        Ok(Session { client, ctx })
    }

    /// Runs `f` in a read-only transaction and rolls it back.
    fn read_only<T>(
        &mut self,
        f: impl FnOnce(&mut Transaction<'_>, &mut Ctx) -> Result<T, Failure>,
    ) -> Result<T, DrainError> {
        let ctx = &mut self.ctx;
        let mut tx = bounded_transaction(&mut self.client, ctx, true)?;
        let result = f(&mut tx, ctx);
        let rollback = tx.rollback();
        let value = result.map_err(|f| match f {
            Failure::Drain(d) => d,
            Failure::Pg(e) => classify(&e, ctx),
        })?;
        rollback.map_err(|e| classify(&e, ctx))?;
        Ok(value)
    }

    /// Runs `f` in one short read-write transaction, bounded like `read_only`, and commits it
    /// only when `f` succeeds (dropping the transaction rolls it back).
    fn read_write<T>(
        &mut self,
        f: impl FnOnce(&mut Transaction<'_>, &mut Ctx) -> Result<T, Failure>,
    ) -> Result<T, DrainError> {
        let ctx = &mut self.ctx;
        let mut tx = bounded_transaction(&mut self.client, ctx, false)?;
        let value = f(&mut tx, ctx).map_err(|f| match f {
            Failure::Drain(d) => d,
            Failure::Pg(e) => classify(&e, ctx),
        })?;
        tx.commit().map_err(|e| classify(&e, ctx))?;
        Ok(value)
    }
}

/// Starts a transaction whose every statement and lock wait is bounded by the session timeout:
/// read-only at repeatable read (one snapshot for a report), or read-write at read committed.
fn bounded_transaction<'a>(
    client: &'a mut postgres::Client,
    ctx: &Ctx,
    read_only: bool,
) -> Result<Transaction<'a>, DrainError> {
    let isolation = if read_only {
        IsolationLevel::RepeatableRead
    } else {
        IsolationLevel::ReadCommitted
    };
    let mut tx = client
        .build_transaction()
        .read_only(read_only)
        .isolation_level(isolation)
        .start()
        .map_err(|e| classify(&e, ctx))?;
    let ms = ctx.timeout.as_millis().clamp(1, i32::MAX as u128);
    // A lock wait gives up first (at four fifths of the bound), so that waiting for another
    // session's lock is reported as that (SQLSTATE 55P03), never as a slow server.
    let lock_ms = (ms * 4 / 5).max(1);
    tx.batch_execute(&format!(
        "SET LOCAL statement_timeout = {ms}; SET LOCAL lock_timeout = {lock_ms}"
    ))
    .map_err(|e| classify(&e, ctx))?;
    Ok(tx)
}

/// An error inside the transaction, classified once the context is known.
enum Failure {
    Drain(DrainError),
    Pg(postgres::Error),
}

impl From<postgres::Error> for Failure {
    fn from(e: postgres::Error) -> Self {
        Failure::Pg(e)
    }
}

impl From<DrainError> for Failure {
    fn from(e: DrainError) -> Self {
        Failure::Drain(e)
    }
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

/// The columns of `<schema>.<table>` from the catalog, empty when there is no such table.
pub(crate) fn table_columns(
    tx: &mut Transaction<'_>,
    schema: &str,
    table: &str,
) -> Result<Vec<String>, Failure> {
    let rows = tx.query(
        "SELECT a.attname::text FROM pg_catalog.pg_attribute a \
         JOIN pg_catalog.pg_class c ON c.oid = a.attrelid \
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = $1 AND c.relname = $2 \
         AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND a.attnum > 0 AND NOT a.attisdropped",
        &[&schema, &table],
    )?;
    Ok(rows.iter().map(|row| row.get(0)).collect())
}

/// The columns of `<schema>.workflow_status`, read from the catalog (which, unlike
/// `information_schema`, does not hide columns the user lacks privileges on, so a missing
/// grant shows up as "permission denied" rather than as "table not found").
fn workflow_status_columns(
    tx: &mut Transaction<'_>,
    ctx: &Ctx,
    schema: &str,
) -> Result<Vec<String>, Failure> {
    let columns = table_columns(tx, schema, "workflow_status")?;
    if columns.is_empty() {
        let schema_exists: bool = tx
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1)",
                &[&schema],
            )?
            .get(0);
        return Err(DrainError::MissingTable {
            schema: schema.to_owned(),
            database: ctx.database.clone(),
            schema_exists,
        }
        .into());
    }
    Ok(columns)
}

/// Turns a driver error into a `DrainError`, never leaking the password.
fn classify(e: &postgres::Error, ctx: &Ctx) -> DrainError {
    let scrub = |s: &str| url::scrub(s, ctx.password.as_deref());
    if let Some(db) = e.as_db_error() {
        let reason = scrub(db.message());
        let code = db.code();
        return if *code == SqlState::INVALID_PASSWORD
            || *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION
        {
            DrainError::Authentication {
                target: ctx.target.clone(),
                user: ctx.user.clone(),
                reason,
            }
        } else if *code == SqlState::INVALID_CATALOG_NAME {
            DrainError::DatabaseNotFound {
                target: ctx.target.clone(),
                database: ctx.database.clone(),
            }
        } else if *code == SqlState::LOCK_NOT_AVAILABLE {
            DrainError::LockTimeout {
                target: ctx.target.clone(),
                schema: ctx.schema.clone().unwrap_or_else(|| DEFAULT_SCHEMA.into()),
                table: ctx.access.0.to_string(),
                timeout: ctx.timeout,
            }
        } else if *code == SqlState::QUERY_CANCELED {
            DrainError::Timeout {
                target: ctx.target.clone(),
                timeout: ctx.timeout,
            }
        } else if *code == SqlState::UNDEFINED_TABLE || *code == SqlState::INVALID_SCHEMA_NAME {
            DrainError::MissingTable {
                schema: ctx.schema.clone().unwrap_or_else(|| DEFAULT_SCHEMA.into()),
                database: ctx.database.clone(),
                schema_exists: *code == SqlState::UNDEFINED_TABLE,
            }
        } else if *code == SqlState::INSUFFICIENT_PRIVILEGE {
            DrainError::PermissionDenied {
                schema: ctx.schema.clone().unwrap_or_else(|| DEFAULT_SCHEMA.into()),
                table: ctx.access.0.to_string(),
                // PostgreSQL says "permission denied for schema X" when USAGE is missing.
                privilege: if db.message().contains("for schema") {
                    "USAGE"
                } else {
                    ctx.access.1
                },
                user: ctx.user.clone(),
                reason,
            }
        } else if *code == SqlState::TOO_MANY_CONNECTIONS
            || *code == SqlState::CANNOT_CONNECT_NOW
            || *code == SqlState::ADMIN_SHUTDOWN
        {
            DrainError::Unreachable {
                target: ctx.target.clone(),
                reason,
            }
        } else {
            DrainError::Other {
                reason: format!("{reason} (sqlstate `{}`)", code.code()),
            }
        };
    }

    let chain = scrub(&url::error_chain(e));
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            return if io.kind() == std::io::ErrorKind::TimedOut {
                DrainError::Timeout {
                    target: ctx.target.clone(),
                    timeout: ctx.timeout,
                }
            } else {
                DrainError::Unreachable {
                    target: ctx.target.clone(),
                    reason: chain,
                }
            };
        }
        source = cause.source();
    }
    if chain.starts_with("authentication error") || chain.contains("password missing") {
        DrainError::Authentication {
            target: ctx.target.clone(),
            user: ctx.user.clone(),
            reason: chain,
        }
    } else if chain.starts_with("timeout waiting for server") {
        DrainError::Timeout {
            target: ctx.target.clone(),
            timeout: ctx.timeout,
        }
    } else if chain.starts_with("connection closed") || chain.starts_with("error connecting") {
        DrainError::Unreachable {
            target: ctx.target.clone(),
            reason: chain,
        }
    } else {
        DrainError::Other { reason: chain }
    }
}
