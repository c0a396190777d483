//! The SQL that KEDA's `postgresql` scaler runs to size a DBOS queue worker Deployment.
//!
//! It lives next to the drain check because both encode the same DBOS routing rules, read in
//! dbos 3.4.0's `_sys_db.py` (`start_queued_workflows`, `_is_latest_version`,
//! `_latest_application_version`, `create_application_version`):
//! - a worker of version V claims the ENQUEUED rows of its queue whose `application_version` is
//!   V, and also the version-less ones when V is the application's latest version: the
//!   `application_versions` row with the highest `version_timestamp` among the application's own
//!   rows and the unclaimed ones (every row when the application has no name), or when no version
//!   is registered at all;
//! - a version's first executor registers it with `version_timestamp` = now, so a version that
//!   has not registered yet becomes the latest as soon as its first pod starts: its version-less
//!   rows count too, or a scaled-to-zero new version would never start to take them;
//! - with an application name the worker sees only that application's rows and unclaimed ones.
//!
//! Which version is the latest changes at run time (a rollback with `version activate
//! --database-url` retimes a row), so the query does not bake it in: it compares against
//! `application_versions` each time KEDA polls. KEDA cannot bind parameters, so the values are
//! inlined as SQL literals; they are validated and quoted, and the result is a single line (its
//! rule stated in a leading SQL comment) that is safe inside a YAML string.
//!
//! Queue depth counts the active version's `PENDING` rows as well as ENQUEUED ones (issue 11): a
//! dequeued workflow turns PENDING (claimed under the worker's version) while a worker runs it,
//! so counting only ENQUEUED would let KEDA scale to zero under a running workflow, killing the
//! only executor that can finish it. DBOS's own Kubernetes operator sizes workers by ENQUEUED +
//! PENDING the same way, and the SDK keeps a partial index on exactly those two statuses
//! (`idx_workflow_status_in_flight` on `queue_name, status, ...`, created in dbos 3.4.0's
//! `_migration.py`), so the query stays an index scan.

use crate::error::DrainError;

/// The rule the query follows, as the comment it starts with.
pub const QUEUE_DEPTH_RULE: &str = "dbos-gitops queue depth: the active version's ENQUEUED and \
PENDING rows of the queue, plus the version-less ENQUEUED rows while the active version is DBOS's \
latest (or has not registered yet), as DBOS's dequeue routes them";

/// The `query` for a KEDA `postgresql` trigger: the number of workflows of `queue` that the
/// `active_version` runs or will be handed by DBOS's dequeue (see the module doc), counting only
/// `application_name`'s rows and unclaimed ones when it is given.
///
/// `schema` must be an SQL identifier (`[A-Za-z_][A-Za-z0-9_]*`); `queue` and
/// `active_version` may use ASCII letters, digits and `_ - . : / @ +`; the application name any
/// printable text without a backslash.
pub fn keda_queue_depth_sql(
    schema: &str,
    queue: &str,
    active_version: &str,
    application_name: Option<&str>,
) -> Result<String, DrainError> {
    let schema = quote_ident(validate_schema(schema)?);
    let queue = quote_literal(validate_value("queue name", queue)?);
    let version = quote_literal(validate_value("application version", active_version)?);
    let scope = match application_name {
        Some(name) => format!(
            "(\"application_name\" = {} OR \"application_name\" IS NULL)",
            quote_literal(validate_application_name(name)?)
        ),
        None => "TRUE".to_string(),
    };
    let versions = format!("{schema}.\"application_versions\"");
    let latest = format!(
        "(NOT EXISTS (SELECT 1 FROM {versions} WHERE {scope} AND \"version_name\" = {version}) \
         OR (SELECT \"version_name\" FROM {versions} WHERE {scope} \
         ORDER BY \"version_timestamp\" DESC LIMIT 1) = {version})"
    );
    Ok(format!(
        "/* {QUEUE_DEPTH_RULE} */ SELECT COUNT(*) FROM {schema}.\"workflow_status\" \
         WHERE \"queue_name\" = {queue} AND {scope} \
         AND ((\"application_version\" = {version} AND \"status\" IN ('ENQUEUED', 'PENDING')) \
         OR (\"application_version\" IS NULL AND \"status\" = 'ENQUEUED' AND {latest}))"
    ))
}

/// An application name as DBOS records it: any text, but not blank, without control
/// characters or backslashes (it is inlined as a literal), at most 255 bytes.
fn validate_application_name(name: &str) -> Result<&str, DrainError> {
    let invalid = |reason| DrainError::InvalidName {
        what: "application name",
        value: name.to_owned(),
        reason,
    };
    if name.trim().is_empty() {
        return Err(invalid("it is empty"));
    }
    if name.len() > 255 {
        return Err(invalid("it is longer than 255 characters"));
    }
    if name.chars().any(|c| c.is_control() || c == '\\') {
        return Err(invalid("control characters and `\\` are not allowed"));
    }
    Ok(name)
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
    fn the_rule_is_in_the_query_and_the_query_is_one_line() {
        let sql = keda_queue_depth_sql("dbos", "orders-queue", "a1b2c3", Some("it's")).unwrap();
        assert!(sql.starts_with(&format!("/* {QUEUE_DEPTH_RULE} */ SELECT COUNT(*)")));
        assert!(!sql.contains('\n'));
        assert!(sql.contains("'it''s'"), "{sql}");
        assert!(!QUEUE_DEPTH_RULE.contains("*/"));
        let unnamed = keda_queue_depth_sql("dbos", "q", "v1", None).unwrap();
        assert!(!unnamed.contains("application_name"), "{unnamed}");
    }

    #[test]
    fn rejects_non_plain_names() {
        for (schema, queue, version, app) in [
            ("dbos", "q'; DROP TABLE x; --", "v1", None),
            ("dbos", "q", "v1' OR '1'='1", None),
            ("dbos\"; --", "q", "v1", None),
            ("1dbos", "q", "v1", None),
            ("", "q", "v1", None),
            ("dbos", "", "v1", None),
            ("dbos", "q", "", None),
            ("dbos", "q q", "v1", None),
            ("dbos", "q", "v1\\", None),
            ("dbos", "q\n", "v1", None),
            ("dbos", "q", "v1", Some(" ")),
            ("dbos", "q", "v1", Some("a\\' OR 1=1 --")),
            ("dbos", "q", "v1", Some("a\nb")),
        ] {
            let err = keda_queue_depth_sql(schema, queue, version, app).unwrap_err();
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
