//! The SQL that KEDA's `postgresql` scaler runs to size a DBOS queue worker Deployment.
//!
//! It lives next to the drain check because both encode the same DBOS rule: a workflow with a
//! NULL `application_version` is dequeued only by the newest (latest registered) version (read
//! in dbos 3.4's `_sys_db.py`, where the dequeue filter adds `IS NULL` only for the latest
//! version), so the active version's queue depth includes the version-less rows only when it is
//! also the newest; after a rollback to an older version they are not its work. KEDA cannot bind
//! parameters, so the values are inlined as SQL literals; they are validated as plain names and
//! quoted anyway, and the result is a single line that is safe inside a YAML string.
//!
//! Queue depth counts `PENDING` as well as `ENQUEUED` rows (issue 11): a dequeued workflow turns
//! PENDING while a worker runs it, so counting only ENQUEUED would let KEDA scale to zero under a
//! running workflow, killing the only executor that can finish it. DBOS's own Kubernetes operator
//! sizes workers by ENQUEUED + PENDING the same way, and the SDK keeps a partial index on exactly
//! those two statuses (`idx_workflow_status_in_flight` on `queue_name, status, ...`, created in dbos 3.4.0's
//! `_migration.py`), so the query stays an index scan.

use crate::DrainError;

/// The `query` for a KEDA `postgresql` trigger: the number of ENQUEUED and PENDING workflows of
/// `queue` that the `active_version` runs or will run (its own plus those with no version).
///
/// `schema` must be an SQL identifier (`[A-Za-z_][A-Za-z0-9_]*`); `queue` and
/// `active_version` may use ASCII letters, digits and `_ - . : / @ +`.
pub fn keda_queue_depth_sql(
    schema: &str,
    queue: &str,
    active_version: &str,
) -> Result<String, DrainError> {
    queue_depth_sql(schema, queue, active_version, true)
}

/// Like [`keda_queue_depth_sql`], counting the version-less rows only when
/// `active_is_newest` (only the newest version dequeues them).
pub fn queue_depth_sql(
    schema: &str,
    queue: &str,
    active_version: &str,
    active_is_newest: bool,
) -> Result<String, DrainError> {
    let schema = quote_ident(validate_schema(schema)?);
    let queue = quote_literal(validate_value("queue name", queue)?);
    let version = quote_literal(validate_value("application version", active_version)?);
    let versions = if active_is_newest {
        format!("(\"application_version\" = {version} OR \"application_version\" IS NULL)")
    } else {
        format!("\"application_version\" = {version}")
    };
    Ok(format!(
        "SELECT COUNT(*) FROM {schema}.\"workflow_status\" \
         WHERE \"queue_name\" = {queue} AND \"status\" IN ('ENQUEUED', 'PENDING') \
         AND {versions}"
    ))
}

/// Checks that a schema name is a plain SQL identifier.
pub(crate) fn validate_schema(schema: &str) -> Result<&str, DrainError> {
    let invalid = |reason| DrainError::InvalidName {
        what: "schema name",
        value: schema.to_owned(),
        reason,
    };
    let mut chars = schema.chars();
    match chars.next() {
        None => return Err(invalid("it is empty")),
        Some(c) if !(c.is_ascii_alphabetic() || c == '_') => {
            return Err(invalid("it must start with a letter or `_`"))
        }
        _ => {}
    }
    if !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(invalid("only ASCII letters, digits and `_` are allowed"));
    }
    if schema.len() > 63 {
        return Err(invalid("it is longer than 63 characters"));
    }
    Ok(schema)
}

/// Checks that a queue or version name is a plain name.
fn validate_value<'a>(what: &'static str, value: &'a str) -> Result<&'a str, DrainError> {
    let invalid = |reason| DrainError::InvalidName {
        what,
        value: value.to_owned(),
        reason,
    };
    if value.is_empty() {
        return Err(invalid("it is empty"));
    }
    if value.len() > 255 {
        return Err(invalid("it is longer than 255 characters"));
    }
    if !value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_-.:/@+".contains(c))
    {
        return Err(invalid(
            "only ASCII letters, digits and `_ - . : / @ +` are allowed",
        ));
    }
    Ok(value)
}

/// `"name"` with embedded double quotes doubled.
pub(crate) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `'value'` with embedded single quotes doubled (standard_conforming_strings is on since
/// PostgreSQL 9.1, so backslashes are literal; validation rejects them anyway).
fn quote_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unversioned_rows_count_only_for_the_newest_version() {
        let newest = queue_depth_sql("dbos", "q", "v2", true).unwrap();
        let older = queue_depth_sql("dbos", "q", "v1", false).unwrap();
        assert!(
            newest.contains("IS NULL") && newest.contains("'v2'"),
            "{newest}"
        );
        assert!(
            !older.contains("IS NULL") && older.contains("\"application_version\" = 'v1'"),
            "{older}"
        );
        assert_eq!(keda_queue_depth_sql("dbos", "q", "v2").unwrap(), newest);
    }

    #[test]
    fn builds_the_query() {
        let sql = keda_queue_depth_sql("dbos", "orders-queue", "a1b2c3").unwrap();
        assert_eq!(
            sql,
            "SELECT COUNT(*) FROM \"dbos\".\"workflow_status\" WHERE \"queue_name\" = \
             'orders-queue' AND \"status\" IN ('ENQUEUED', 'PENDING') AND (\"application_version\" = \
             'a1b2c3' OR \"application_version\" IS NULL)"
        );
        assert!(!sql.contains('\n'));
    }

    #[test]
    fn rejects_non_plain_names() {
        for (schema, queue, version) in [
            ("dbos", "q'; DROP TABLE x; --", "v1"),
            ("dbos", "q", "v1' OR '1'='1"),
            ("dbos\"; --", "q", "v1"),
            ("1dbos", "q", "v1"),
            ("", "q", "v1"),
            ("dbos", "", "v1"),
            ("dbos", "q", ""),
            ("dbos", "q q", "v1"),
            ("dbos", "q", "v1\\"),
            ("dbos", "q\n", "v1"),
        ] {
            let err = keda_queue_depth_sql(schema, queue, version).unwrap_err();
            assert!(matches!(err, DrainError::InvalidName { .. }), "{err}");
            assert!(err.hint().is_some());
        }
    }

    #[test]
    fn quoting_doubles_quotes() {
        assert_eq!(quote_literal("it's"), "'it''s'");
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
    }
}
