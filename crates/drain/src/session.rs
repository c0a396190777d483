//! One bounded session on the DBOS system database: connected within the timeout, each
//! statement and lock wait bounded in its transaction, read-only unless a caller writes.

use std::time::Duration;

use postgres::{IsolationLevel, Transaction};

use crate::connect;
use crate::ctx::{classify, Ctx};
use crate::error::DrainError;
use crate::url;

pub(crate) struct Session {
    client: postgres::Client,
    ctx: Ctx,
}

impl Session {
    pub(crate) fn open(database_url: &str, timeout: Duration) -> Result<Session, DrainError> {
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
    pub(crate) fn read_only<T>(
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
    pub(crate) fn read_write<T>(
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
pub(crate) enum Failure {
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
pub(crate) fn workflow_status_columns(
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
