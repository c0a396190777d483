//! Errors of the drain check, kept apart from the query code so that every way a drain check
//! can fail has one place with a lowercase message, backticked values and a hint telling the
//! operator what to do next. Messages never contain the database password.

use std::time::Duration;

/// Why a drain check could not tell whether a version is drained.
///
/// A retire must never proceed on any of these: "could not check" is not "drained".
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DrainError {
    /// The database URL could not be parsed. `url` is redacted.
    #[error("invalid database url `{url}`: {reason}")]
    BadUrl { url: String, reason: String },

    /// TLS to the server could not be set up or failed (`sslmode`, `sslrootcert`, the
    /// server's certificate, or a server that insists on TLS); see [`crate::tls::TlsError`].
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),

    /// A schema, queue or version name is not a plain name and cannot be used safely.
    #[error("invalid {what} `{value}`: {reason}")]
    InvalidName {
        what: &'static str,
        value: String,
        reason: &'static str,
    },

    /// The server could not be reached (refused, no route, DNS failure, closed connection).
    #[error("cannot reach the database server at `{target}`: {reason}")]
    Unreachable { target: String, reason: String },

    /// Connecting or a query took longer than the configured timeout.
    #[error("timed out after {}s talking to the database server at `{target}`", timeout_secs(.timeout))]
    Timeout { target: String, timeout: Duration },

    /// The server rejected the credentials.
    #[error("authentication failed for user `{user}` at `{target}`: {reason}")]
    Authentication {
        target: String,
        user: String,
        reason: String,
    },

    /// The database named in the URL does not exist on the server.
    #[error("database `{database}` does not exist on `{target}`")]
    DatabaseNotFound { target: String, database: String },

    /// The DBOS system table is not there: the schema (or only the table) is missing.
    #[error("table `{schema}.workflow_status` not found in database `{database}`")]
    MissingTable {
        schema: String,
        database: String,
        schema_exists: bool,
    },

    /// The system tables predate `application_versions` (added by DBOS migration 13).
    #[error("table `{schema}.application_versions` not found in database `{database}`")]
    MissingVersionsTable { schema: String, database: String },

    /// The table exists but lacks a column the drain check relies on.
    #[error("table `{schema}.workflow_status` has no column `{column}`")]
    UnexpectedSchema { schema: String, column: String },

    /// The database user lacks a privilege: `privilege` (`SELECT`, `UPDATE`, or `USAGE` on the
    /// schema) on `schema.table`, the table the failing statement needed.
    #[error(
        "permission denied: user `{user}` lacks `{privilege}` on {}: {reason}",
        on(schema, table, privilege)
    )]
    PermissionDenied {
        schema: String,
        table: String,
        privilege: &'static str,
        user: String,
        reason: String,
    },

    /// A statement waited longer than the timeout for a lock another session holds (SQLSTATE
    /// 55P03 under `lock_timeout`): the server answered, so this is not a network problem.
    #[error("waited more than {}s for a lock on `{schema}.{table}` at `{target}`: another session holds it", timeout_secs(.timeout))]
    LockTimeout {
        target: String,
        schema: String,
        table: String,
        timeout: Duration,
    },

    /// Anything else the server or driver reported.
    #[error("database query failed: {reason}")]
    Other { reason: String },
}

/// `schema \`dbos\`` for a missing `USAGE`, else `` `dbos.table` ``.
fn on(schema: &str, table: &str, privilege: &str) -> String {
    if privilege == "USAGE" {
        format!("schema `{schema}`")
    } else {
        format!("`{schema}.{table}`")
    }
}

fn timeout_secs(d: &Duration) -> String {
    let ms = d.as_millis();
    if ms.is_multiple_of(1000) {
        (ms / 1000).to_string()
    } else {
        format!("{:.1}", d.as_secs_f64())
    }
}

impl DrainError {
    /// What the operator can do about it, when there is something useful to say.
    pub fn hint(&self) -> Option<String> {
        match self {
            DrainError::BadUrl { .. } => Some(
                "use a url like `postgresql://USER:PASSWORD@HOST:5432/DBNAME` pointing at the \
                 DBOS system database (percent-encode special characters in the password)"
                    .into(),
            ),
            DrainError::Tls(tls) => Some(tls.hint()),
            DrainError::InvalidName { .. } => Some(
                "names may contain only ASCII letters, digits and `_ - . : / @ +` \
                 (schemas: letters, digits and `_`, not starting with a digit)"
                    .into(),
            ),
            DrainError::Unreachable { .. } => Some(
                "check host and port; from outside the cluster use `kubectl port-forward` \
                 to the database service and point the url at `127.0.0.1`"
                    .into(),
            ),
            DrainError::Timeout { .. } => Some(
                "the server did not answer in time; check network reachability (firewalls \
                 drop packets silently) or raise the timeout"
                    .into(),
            ),
            DrainError::Authentication { .. } => Some(
                "check the user and password in the url (the password must be percent-encoded) \
                 and that `pg_hba.conf` allows this client"
                    .into(),
            ),
            DrainError::DatabaseNotFound { .. } => Some(
                "point the url at the DBOS system database: the one the application is \
                 configured with as `system_database_url` (or `DBOS_SYSTEM_DATABASE_URL`)"
                    .into(),
            ),
            DrainError::MissingTable { schema_exists, .. } => Some(if *schema_exists {
                "the schema exists but has no `workflow_status` table: run `dbos migrate` \
                 against this database, or check that the url names the DBOS system database"
                    .into()
            } else {
                "this does not look like a DBOS system database: check that the url names the \
                 DBOS system database (wrong database?) and the schema name, or run `dbos migrate`"
                    .into()
            }),
            DrainError::MissingVersionsTable { .. } => Some(
                "these DBOS system tables predate application versions: run `dbos migrate` \
                 with a current DBOS version"
                    .into(),
            ),
            DrainError::UnexpectedSchema { .. } => Some(
                "the DBOS system tables are older or newer than expected; run `dbos migrate` \
                 with a current DBOS version"
                    .into(),
            ),
            DrainError::PermissionDenied {
                schema,
                table,
                privilege,
                user,
                ..
            } => Some(format!(
                "grant it, e.g. `GRANT USAGE ON SCHEMA {schema} TO \"{user}\"; GRANT {} ON {schema}.{table} TO \"{user}\";`",
                if *privilege == "UPDATE" { "SELECT, UPDATE" } else { "SELECT" }
            )),
            DrainError::LockTimeout { .. } => Some(
                "a running `dbos migrate` or a transaction left open holds a conflicting lock; \
                 find it with `SELECT pid, state, query FROM pg_stat_activity WHERE state <> 'idle'` \
                 and retry once it has finished (nothing was changed)"
                    .into(),
            ),
            DrainError::Other { .. } => None,
        }
    }
}
