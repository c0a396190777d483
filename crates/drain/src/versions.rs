//! DBOS's own view of application versions: which versions the system database has registered,
//! which one is its *latest*, and how much work is in flight under each `application_version`.
//!
//! DBOS routes work by these rows, not by Kubernetes Services (read in dbos 3.4.0,
//! `dbos/_sys_db.py`): a version registers itself in `application_versions` when its first
//! executor starts and registering again never retimes it; version-less enqueued work and every
//! scheduled workflow go to the row with the highest `version_timestamp` that the application can
//! see (its own rows and unclaimed ones, `_latest_application_version`); and
//! `update_application_version_timestamp` (behind `DBOSClient.set_latest_application_version`)
//! makes a version latest by retiming its row, claiming it for the caller when it is unclaimed.
//! A rollback has to do the same, or DBOS keeps feeding the version being rolled back from.

use std::collections::BTreeMap;
use std::time::Duration;

use postgres::Transaction;

use crate::ctx::Ctx;
use crate::dbos::IN_FLIGHT_STATUSES;
use crate::error::DrainError;
use crate::keda;
use crate::session::{table_columns, workflow_status_columns, Failure, Session};

/// Which application's rows to look at.
#[derive(Debug, Clone)]
pub struct VersionsQuery<'a> {
    /// `app.name` when declared: its rows plus unclaimed ones, as DBOS scopes them.
    pub application_name: Option<&'a str>,
    /// Schema of the DBOS system tables, normally `dbos`.
    pub schema: &'a str,
    /// Bound on connecting and on each statement.
    pub timeout: Duration,
}

impl<'a> VersionsQuery<'a> {
    pub fn new(application_name: Option<&'a str>) -> Self {
        VersionsQuery {
            application_name,
            schema: crate::dbos::DEFAULT_SCHEMA,
            timeout: Duration::from_secs(10),
        }
    }
}

/// One row of `application_versions`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisteredVersion {
    pub name: String,
    /// Milliseconds since the epoch; the highest is DBOS's latest version.
    pub timestamp: i64,
}

/// What the system database says about versions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VersionsReport {
    /// Registered versions, latest first (DBOS's own order).
    pub registered: Vec<RegisteredVersion>,
    /// In-flight workflows (PENDING, ENQUEUED, DELAYED) per `application_version` and status;
    /// the `None` key holds the version-less rows, which the latest version takes.
    pub in_flight: BTreeMap<Option<String>, BTreeMap<String, u64>>,
    /// Whether rows were limited to `application_name` (and unclaimed ones).
    pub filtered_by_application_name: bool,
    /// Every application name that owns an `application_versions` row, whatever the filter:
    /// a declared name missing here while others are present is a typo, not an empty app.
    pub owners: Vec<String>,
    /// Whether the system tables are sharded (`dbos migrate --sharding`, Transact Enterprise):
    /// `workflow_status` has a `shard_key` column, the SDK's own test (`holds_sharded_schema`).
    pub sharded: bool,
}

impl VersionsReport {
    /// DBOS's latest application version, if any version registered.
    pub fn latest(&self) -> Option<&str> {
        self.registered.first().map(|version| version.name.as_str())
    }

    /// Total in-flight workflows under `version`.
    pub fn in_flight_total(&self, version: Option<&str>) -> u64 {
        self.in_flight
            .get(&version.map(str::to_owned))
            .map_or(0, |by_status| by_status.values().sum())
    }
}

/// The outcome of making a version DBOS's latest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LatestOutcome {
    /// The version is now the latest; `previous` was before.
    Set { previous: Option<String> },
    /// It already was; nothing was written.
    AlreadyLatest,
    /// The database has never registered it (no executor of it ever started); nothing was
    /// written. `registered` lists what it holds, latest first.
    NotRegistered { registered: Vec<String> },
}

/// Reads registered versions and in-flight counts in one read-only snapshot.
pub fn versions_report(
    database_url: &str,
    query: &VersionsQuery,
) -> Result<VersionsReport, DrainError> {
    let schema = keda::validate_schema(query.schema)?;
    let mut session = Session::open(database_url, query.timeout)?;
    session.read_only(|tx, ctx| read_report(tx, ctx, schema, query.application_name))
}

/// Makes `version` DBOS's latest application version in one short read-write transaction,
/// as the SDK's `set_latest_application_version` does, unless it already is or was never
/// registered. The new timestamp is the server's clock in milliseconds, raised above every
/// visible row so that a skewed clock cannot leave another version newer.
pub fn set_latest_version(
    database_url: &str,
    version: &str,
    query: &VersionsQuery,
) -> Result<LatestOutcome, DrainError> {
    let schema = keda::validate_schema(query.schema)?;
    let mut session = Session::open(database_url, query.timeout)?;
    session.read_write(|tx, ctx| {
        let scope = Scope::read(tx, ctx, schema, query.application_name)?;
        ctx.access = ("application_versions", "SELECT");
        let registered = scope.registered(tx)?;
        if registered.first().map(|row| row.name.as_str()) == Some(version) {
            return Ok(LatestOutcome::AlreadyLatest);
        }
        if !registered.iter().any(|row| row.name == version) {
            return Ok(LatestOutcome::NotRegistered {
                registered: registered.into_iter().map(|row| row.name).collect(),
            });
        }
        let table = scope.versions_table();
        let filter = scope.filter(2);
        let sql = format!(
            "UPDATE {table} SET \"version_timestamp\" = GREATEST(\
             (EXTRACT(epoch FROM clock_timestamp()) * 1000)::bigint, \
             (SELECT MAX(\"version_timestamp\") + 1 FROM {table} WHERE {filter})){claim} \
             WHERE \"version_name\" = $1 AND {filter}",
            claim = if scope.name.is_some() {
                ", \"application_name\" = COALESCE(\"application_name\", $2)"
            } else {
                ""
            },
        );
        ctx.access = ("application_versions", "UPDATE");
        match scope.name.as_deref() {
            Some(name) => tx.execute(&sql, &[&version, &name])?,
            None => tx.execute(&sql, &[&version])?,
        };
        Ok(LatestOutcome::Set {
            previous: registered.first().map(|row| row.name.clone()),
        })
    })
}

/// The rows visible to one application, once the columns are known.
struct Scope {
    schema: String,
    /// The application name when declared and the tables have the column.
    name: Option<String>,
    /// Whether `application_versions` has `application_name` (migration 100).
    has_name_column: bool,
}

impl Scope {
    fn read(
        tx: &mut Transaction<'_>,
        ctx: &mut Ctx,
        schema: &str,
        application_name: Option<&str>,
    ) -> Result<Scope, Failure> {
        ctx.schema = Some(schema.to_owned());
        let columns = table_columns(tx, schema, "application_versions")?;
        if columns.is_empty() {
            return Err(DrainError::MissingVersionsTable {
                schema: schema.to_owned(),
                database: ctx.database.clone(),
            }
            .into());
        }
        let has_name = columns.iter().any(|column| column == "application_name");
        Ok(Scope {
            schema: schema.to_owned(),
            name: application_name.filter(|_| has_name).map(str::to_owned),
            has_name_column: has_name,
        })
    }

    fn versions_table(&self) -> String {
        format!(
            "{}.\"application_versions\"",
            keda::quote_ident(&self.schema)
        )
    }

    /// The rows the application sees, with its name bound as parameter `$index`.
    fn filter(&self, index: usize) -> String {
        if self.name.is_some() {
            format!("(\"application_name\" = ${index} OR \"application_name\" IS NULL)")
        } else {
            "TRUE".to_string()
        }
    }

    fn registered(&self, tx: &mut Transaction<'_>) -> Result<Vec<RegisteredVersion>, Failure> {
        let table = self.versions_table();
        let sql = format!(
            "SELECT \"version_name\", \"version_timestamp\" FROM {table} WHERE {} \
             ORDER BY \"version_timestamp\" DESC, \"version_name\"",
            self.filter(1)
        );
        let rows = match &self.name {
            Some(name) => tx.query(&sql, &[name])?,
            None => tx.query(&sql, &[])?,
        };
        Ok(rows
            .iter()
            .map(|row| RegisteredVersion {
                name: row.get(0),
                timestamp: row.get(1),
            })
            .collect())
    }
}

fn read_report(
    tx: &mut Transaction<'_>,
    ctx: &mut Ctx,
    schema: &str,
    application_name: Option<&str>,
) -> Result<VersionsReport, Failure> {
    let status_columns = workflow_status_columns(tx, ctx, schema)?;
    let scope = Scope::read(tx, ctx, schema, application_name)?;
    ctx.access = ("application_versions", "SELECT");
    let registered = scope.registered(tx)?;
    let owners = if scope.has_name_column {
        let sql = format!(
            "SELECT DISTINCT \"application_name\" FROM {} \
             WHERE \"application_name\" IS NOT NULL ORDER BY 1",
            scope.versions_table()
        );
        tx.query(&sql, &[])?.iter().map(|row| row.get(0)).collect()
    } else {
        Vec::new()
    };
    ctx.access = ("workflow_status", "SELECT");
    // The two tables gained `application_name` in the same migration; filter each by its own.
    let status_name = application_name.filter(|_| {
        status_columns
            .iter()
            .any(|column| column == "application_name")
    });
    let table = format!("{}.\"workflow_status\"", keda::quote_ident(schema));
    let statuses: Vec<&str> = IN_FLIGHT_STATUSES.to_vec();
    let sql = format!(
        "SELECT \"application_version\", \"status\", COUNT(*)::bigint FROM {table} \
         WHERE \"status\" = ANY($1::text[]){} \
         GROUP BY 1, 2 ORDER BY 1, 2",
        if status_name.is_some() {
            " AND (\"application_name\" = $2 OR \"application_name\" IS NULL)"
        } else {
            ""
        }
    );
    let rows = match status_name {
        Some(name) => tx.query(&sql, &[&statuses, &name])?,
        None => tx.query(&sql, &[&statuses])?,
    };
    let mut in_flight: BTreeMap<Option<String>, BTreeMap<String, u64>> = BTreeMap::new();
    for row in rows {
        let count = u64::try_from(row.get::<_, i64>(2)).unwrap_or(0);
        in_flight
            .entry(row.get(0))
            .or_default()
            .insert(row.get(1), count);
    }
    Ok(VersionsReport {
        registered,
        in_flight,
        filtered_by_application_name: scope.name.is_some() && status_name.is_some(),
        owners,
        sharded: status_columns.iter().any(|column| column == "shard_key"),
    })
}
