//! What a session knows of its connection (target, user, database, timeout, the table it
//! reads), and how a driver error becomes a `DrainError` with those facts, never showing the
//! password.

use std::time::Duration;

use postgres::error::SqlState;

use crate::dbos::DEFAULT_SCHEMA;
use crate::error::DrainError;
use crate::url;

/// Facts about the connection used to turn driver errors into `DrainError`s.
pub(crate) struct Ctx {
    pub(crate) target: String,
    pub(crate) user: String,
    pub(crate) database: String,
    pub(crate) password: Option<String>,
    pub(crate) timeout: Duration,
    pub(crate) schema: Option<String>,
    /// The table and privilege the statement being run needs, for permission and lock errors.
    pub(crate) access: (&'static str, &'static str),
}

/// Turns a driver error into a `DrainError`, never leaking the password.
pub(crate) fn classify(e: &postgres::Error, ctx: &Ctx) -> DrainError {
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
