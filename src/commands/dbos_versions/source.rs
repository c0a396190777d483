//! Where DBOS's view of an environment's versions comes from: the system database (read through
//! the drain crate) or Conductor's API (`--conductor-url`, for a database with no route from
//! here). Both answer with the same facts (`VersionsReport`, `InFlight`, `LatestOutcome`), so
//! every decision about them (DBOS's latest, unknown versions, work in flight, undeclared
//! versions) is made once, in `dbos_versions` and `retire`, whatever the source.
//!
//! Conductor's side, read in its OpenAPI 3.1 specification and the API docs: versions from
//! `listAppVersions` (DBOS's latest is the newest `versionTimestamp`, as in the SDK's
//! `application_versions` table), the rollback through `setLatestAppVersion`, work in flight
//! through `searchWorkflows` with a `status` filter of PENDING, ENQUEUED and DELAYED (oldest
//! first, without inputs or outputs), live executors from `listExecutors`. Conductor answers
//! version and workflow operations by asking a connected executor: a 503 there means "no
//! executor connected", an error here, never an empty answer.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use dbos_gitops_conductor::{ConductorError, Workflow, WorkflowSearchBody};
use dbos_gitops_drain::{
    redact_database_url, InFlight, LatestOutcome, RegisteredVersion, VersionsReport,
    IN_FLIGHT_STATUSES,
};

use crate::cli::ConductorSourceArgs;
use crate::commands::conductor::{app_name, Access, Purpose};
use crate::declare::{EnvName, VersionName};
use crate::error::Error;

use super::database::{self, DATABASE_URL_ENV};

/// Workflows per page of the search, and the most pages read (a bound, not a real limit:
/// a version with this much in flight is far from drained).
const PAGE: u32 = 500;
const MAX_PAGES: u32 = 200;

/// The source of DBOS's facts about versions.
pub enum Source {
    Database { url: String },
    Conductor { access: Access, app: String },
}

impl Source {
    /// `--conductor-url` when given (clap keeps it apart from the database flags, and the
    /// database variable is then not read), else the database url, else `None`.
    pub fn from_args(
        database_url: Option<&String>,
        database_url_file: Option<&PathBuf>,
        conductor: &ConductorSourceArgs,
        env: &EnvName,
        application_name: Option<&str>,
    ) -> Result<Option<Source>, Error> {
        if let Some(url) = &conductor.conductor_url {
            let app = app_name(env, application_name)?;
            let access = Access::open(
                url,
                conductor.org.as_deref(),
                conductor.token_file.as_deref(),
                conductor.ca_file.as_deref(),
                Purpose::Versions,
            )?;
            return Ok(Some(Source::Conductor { access, app }));
        }
        Ok(database::database_url(database_url, database_url_file)?
            .map(|url| Source::Database { url }))
    }

    pub fn is_conductor(&self) -> bool {
        matches!(self, Source::Conductor { .. })
    }

    /// Where the facts come from, short: the redacted url, or Conductor and the application.
    pub fn place(&self) -> String {
        match self {
            Source::Database { url } => format!("`{}`", redact_database_url(url)),
            Source::Conductor { access, app } => format!(
                "Conductor at `{}` (organization `{}`, application `{app}`)",
                access.url, access.org
            ),
        }
    }

    /// Where the facts come from, as the subject of a sentence.
    pub fn described(&self) -> String {
        match self {
            Source::Database { .. } => format!("the DBOS system database at {}", self.place()),
            Source::Conductor { .. } => self.place(),
        }
    }

    /// How to name the same source again on a command line, for hints.
    pub fn flags(&self) -> String {
        match self {
            Source::Database { .. } => {
                format!("with `{DATABASE_URL_ENV}` set (or `--database-url-file FILE`)")
            }
            Source::Conductor { access, .. } => format!("with `--conductor-url {}`", access.url),
        }
    }

    /// What is registered and in flight per version. `what` says what could not be done.
    pub fn report(
        &self,
        application_name: Option<&str>,
        what: &str,
    ) -> Result<VersionsReport, Error> {
        match self {
            Source::Database { url } => database::report(url, application_name, what),
            Source::Conductor { access, app } => conductor_report(access, app).map_err(|error| {
                access.error_while(&format!("{what}, so nothing was changed"), &error)
            }),
        }
    }

    /// `version`'s in-flight work (PENDING, ENQUEUED, DELAYED), oldest ids first.
    pub fn in_flight(
        &self,
        version: &VersionName,
        application_name: Option<&str>,
        sample_limit: usize,
    ) -> Result<InFlight, Error> {
        match self {
            Source::Database { url } => {
                let query = dbos_gitops_drain::DrainQuery {
                    version: version.as_str(),
                    application_name,
                    schema: dbos_gitops_drain::DEFAULT_SCHEMA,
                    timeout: database::DATABASE_TIMEOUT,
                    sample_limit,
                };
                dbos_gitops_drain::in_flight(url, &query).map_err(|error| {
                    database::failure(
                        format!(
                            "could not check whether `{version}` is drained, so nothing was changed"
                        ),
                        error,
                    )
                })
            }
            Source::Conductor { access, app } => {
                let rows = search(access, app, Some(version.as_str())).map_err(|error| {
                    access.error_while(
                        &format!(
                            "cannot tell whether `{version}` is drained, so nothing was changed"
                        ),
                        &error,
                    )
                })?;
                Ok(in_flight_of(&rows, version.as_str(), sample_limit))
            }
        }
    }

    /// Makes `version` DBOS's latest, unless it already is or was never registered.
    pub fn set_latest(
        &self,
        version: &VersionName,
        application_name: Option<&str>,
    ) -> Result<LatestOutcome, Error> {
        let what =
            format!("could not make `{version}` DBOS's latest version, so nothing was changed");
        match self {
            Source::Database { url } => {
                let query = dbos_gitops_drain::VersionsQuery {
                    timeout: database::DATABASE_TIMEOUT,
                    ..dbos_gitops_drain::VersionsQuery::new(application_name)
                };
                dbos_gitops_drain::set_latest_version(url, version.as_str(), &query)
                    .map_err(|error| database::failure(what, error))
            }
            Source::Conductor { access, app } => {
                conductor_set_latest(access, app, version.as_str())
                    .map_err(|error| access.error_while(&what, &error))
            }
        }
    }

    /// Live (HEALTHY) executors per version, from Conductor; `None` from a database, which
    /// does not know them.
    pub fn live_executors(&self) -> Result<Option<BTreeMap<String, u64>>, Error> {
        let Source::Conductor { access, app } = self else {
            return Ok(None);
        };
        let executors = access
            .client
            .list_executors(&access.org, app)
            .map_err(|error| {
                access.error_while("could not list the application's executors", &error)
            })?;
        let mut live: BTreeMap<String, u64> = BTreeMap::new();
        for executor in executors.iter().filter(|e| e.status == "HEALTHY") {
            *live.entry(executor.app_version.clone()).or_default() += 1;
        }
        Ok(Some(live))
    }
}

fn conductor_report(access: &Access, app: &str) -> Result<VersionsReport, ConductorError> {
    let registered = registered(access, app)?;
    let mut in_flight: BTreeMap<Option<String>, BTreeMap<String, u64>> = BTreeMap::new();
    for row in search(access, app, None)? {
        *in_flight
            .entry(row.app_version.clone().filter(|name| !name.is_empty()))
            .or_default()
            .entry(row.status.clone())
            .or_default() += 1;
    }
    Ok(VersionsReport {
        registered,
        in_flight,
        // Conductor scopes every answer to the application in the path.
        filtered_by_application_name: true,
        owners: Vec::new(),
        sharded: false,
    })
}

/// The registered versions, latest first (newest timestamp, then name, as the database path).
fn registered(access: &Access, app: &str) -> Result<Vec<RegisteredVersion>, ConductorError> {
    let mut registered = Vec::new();
    for version in access.client.list_versions(&access.org, app)? {
        let timestamp =
            unix_millis(&version.version_timestamp).ok_or_else(|| ConductorError::Decode {
                operation: "listAppVersions",
                reason: format!(
                    "`versionTimestamp` `{}` of `{}` is not an RFC 3339 date-time",
                    version.version_timestamp, version.version_name
                ),
            })?;
        registered.push(RegisteredVersion {
            name: version.version_name,
            timestamp,
        });
    }
    registered.sort_by(|a, b| b.timestamp.cmp(&a.timestamp).then(a.name.cmp(&b.name)));
    Ok(registered)
}

fn conductor_set_latest(
    access: &Access,
    app: &str,
    version: &str,
) -> Result<LatestOutcome, ConductorError> {
    let registered = registered(access, app)?;
    if registered.first().map(|row| row.name.as_str()) == Some(version) {
        return Ok(LatestOutcome::AlreadyLatest);
    }
    if !registered.iter().any(|row| row.name == version) {
        return Ok(LatestOutcome::NotRegistered {
            registered: registered.into_iter().map(|row| row.name).collect(),
        });
    }
    access
        .client
        .set_latest_version(&access.org, app, version)?;
    Ok(LatestOutcome::Set {
        previous: registered.first().map(|row| row.name.clone()),
    })
}

/// Every in-flight workflow (of `version`, when given), oldest first, page by page; a workflow
/// seen on two pages (the list moved under the paging) counts once.
fn search(
    access: &Access,
    app: &str,
    version: Option<&str>,
) -> Result<Vec<Workflow>, ConductorError> {
    let mut rows: Vec<Workflow> = Vec::new();
    let mut seen = BTreeSet::new();
    for page in 0..MAX_PAGES {
        let body = WorkflowSearchBody {
            app_version: version.map(|name| vec![name.to_string()]),
            status: Some(IN_FLIGHT_STATUSES.iter().map(|s| s.to_string()).collect()),
            limit: Some(PAGE),
            offset: Some(page * PAGE),
            sort_desc: Some(false),
            load_input: Some(false),
            load_output: Some(false),
        };
        let found = access.client.search_workflows(&access.org, app, &body)?;
        let full = found.len() >= PAGE as usize;
        for row in found {
            if seen.insert(row.workflow_id.clone()) {
                rows.push(row);
            }
        }
        if !full {
            return Ok(rows);
        }
    }
    Err(ConductorError::Decode {
        operation: "searchWorkflows",
        reason: format!("more than {} workflows in flight", PAGE * MAX_PAGES),
    })
}

/// The drain facts of `version` from its search rows (only in-flight rows of that version
/// count, whatever else an answer holds).
fn in_flight_of(rows: &[Workflow], version: &str, sample_limit: usize) -> InFlight {
    let mut found = InFlight {
        filtered_by_application_name: true,
        ..InFlight::default()
    };
    for row in rows.iter().filter(|row| {
        row.app_version.as_deref() == Some(version)
            && IN_FLIGHT_STATUSES.contains(&row.status.as_str())
    }) {
        *found.by_status.entry(row.status.clone()).or_default() += 1;
        found.total += 1;
        if found.sample_workflow_ids.len() < sample_limit {
            found.sample_workflow_ids.push(row.workflow_id.clone());
        }
    }
    found
}

/// Milliseconds since the epoch of an RFC 3339 date-time (`2026-12-01T10:00:00.123Z`,
/// `...+02:00`); `None` when it is not one.
fn unix_millis(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = text.get(range)?;
        part.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    if bytes.len() < 20 || bytes[4] != b'-' || bytes[7] != b'-' || bytes[13] != b':' {
        return None;
    }
    if !matches!(bytes[10], b'T' | b't' | b' ') || bytes[16] != b':' {
        return None;
    }
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut rest = &text[19..];
    let mut millis = 0;
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let padded = format!("{:0<3}", &fraction[..digits.min(3)]);
        millis = padded.parse::<i64>().ok()?;
        rest = &fraction[digits..];
    }
    let offset_minutes = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            if rest.len() != 6 || rest.as_bytes()[3] != b':' {
                return None;
            }
            let hours: i64 = rest[1..3].parse().ok()?;
            let minutes: i64 = rest[4..6].parse().ok()?;
            sign * (hours * 60 + minutes)
        }
    };
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second - offset_minutes * 60;
    Some(seconds * 1_000 + millis)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let shifted_month = (month + 9) % 12;
    let day_of_year = (153 * shifted_month + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_times_become_epoch_milliseconds() {
        assert_eq!(unix_millis("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            unix_millis("2026-12-01T00:00:00.5Z"),
            Some(1_796_083_200_500)
        );
        assert_eq!(
            unix_millis("2026-12-01T02:00:00+02:00"),
            unix_millis("2026-12-01T00:00:00Z")
        );
        assert_eq!(
            unix_millis("2000-03-01T00:00:00.123456Z"),
            Some(951_868_800_123)
        );
        for bad in [
            "2026-12-01",
            "2026-13-01T00:00:00Z",
            "2026-12-01T00:00:00",
            "x026-12-01T00:00:00Z",
            "2026-12-01T00:00:00.Z",
        ] {
            assert_eq!(unix_millis(bad), None, "{bad}");
        }
    }

    #[test]
    fn only_the_versions_in_flight_rows_count() {
        let row = |id: &str, status: &str, version: Option<&str>| Workflow {
            workflow_id: id.to_string(),
            status: status.to_string(),
            workflow_name: None,
            app_version: version.map(str::to_string),
            queue_name: None,
        };
        let rows = [
            row("a", "PENDING", Some("v1")),
            row("b", "SUCCESS", Some("v1")),
            row("c", "ENQUEUED", Some("v2")),
            row("d", "DELAYED", Some("v1")),
            row("e", "ENQUEUED", Some("v1")),
        ];
        let found = in_flight_of(&rows, "v1", 2);
        assert_eq!(found.total, 3);
        assert_eq!(found.sample_workflow_ids, ["a", "d"]);
        assert_eq!(found.by_status.get("DELAYED"), Some(&1));
    }
}
