//! DBOS's own view of an environment's versions, for `version activate`, `version list` and
//! `retire`: DBOS routes work by `dbos.application_versions` and `workflow_status`, not by the
//! Kubernetes Service, so a rollback must also make the older version DBOS's *latest*, and work
//! recorded under a version nobody declared (an app that pins `application_version` in its DBOS
//! config, which overrides `DBOS__APPVERSION` in the Python and TypeScript SDKs) must be shown and
//! must stop `retire`, whose per-version drain check cannot see it. The queries live in the drain
//! crate; this module turns their answers into messages.

mod database;
mod source;

use std::collections::BTreeMap;

use dbos_gitops_drain::{LatestOutcome, VersionsReport, IN_FLIGHT_STATUSES};

pub use database::DATABASE_URL_ENV;
pub use source::Source;

use serde_json::{json, Value};

use crate::cli::ListFormat;
use crate::declare::Language;
use crate::declare::VersionName;
use crate::error::Error;
use crate::model::Environment;

/// The version every executor records when a Python or TypeScript app sets the deprecated
/// `enable_patching` (dbos 3.4.0 `_dbos.py`: it replaces `DBOS__APPVERSION`; in Go
/// `processConfig` only uses it when no version is set, and `DBOS__APPVERSION` wins).
pub const PATCHING_VERSION: &str = "PATCHING_ENABLED";

/// Refuses when `app.name` owns no `application_versions` row while other names do: then the
/// name is a typo (DBOS compares names exactly) and every count would cover only unclaimed
/// rows, so a version with work in flight would look drained.
pub fn check_application_name(
    report: &VersionsReport,
    application_name: Option<&str>,
    source: &Source,
    env: &str,
    doing: &str,
) -> Result<(), Error> {
    let Some(name) = application_name else {
        return Ok(());
    };
    if report.owners.is_empty() || report.owners.iter().any(|owner| owner == name) {
        return Ok(());
    }
    let close: Vec<&String> = report
        .owners
        .iter()
        .filter(|owner| owner.eq_ignore_ascii_case(name))
        .collect();
    Err(Error::refused(format!(
        "refusing to {doing}: env.yaml declares `app.name: {name}`, but no application of that name has registered a version in {}; it holds versions of {}",
        source.place(),
        backticked(&report.owners)
    ))
    .hint(format!(
        "set `app.name` in environments/{env}/env.yaml to the `name` in the app's DBOS config, exactly (names are case-sensitive{}), or remove it to count every application",
        match close.first() {
            Some(owner) => format!("; did you mean `{owner}`?"),
            None => String::new(),
        }
    )))
}

/// Work recorded under `PATCHING_ENABLED` (the app enables the deprecated patching): every
/// version's executor records that one string, so no per-version count sees it.
pub fn patching_refusal(report: &VersionsReport, doing: &str) -> Option<Error> {
    let in_flight = report.in_flight_total(Some(PATCHING_VERSION));
    let registered = report
        .registered
        .iter()
        .any(|version| version.name == PATCHING_VERSION);
    if in_flight == 0 && !registered {
        return None;
    }
    Some(
        Error::refused(format!(
            "refusing to {doing}: the database records work under `{PATCHING_VERSION}` ({in_flight} in flight), the version DBOS uses when the app sets the deprecated `enable_patching`: every Deployment then records that one version, so the drain check cannot tell which version's code the work needs"
        ))
        .hint(format!(
            "remove `enable_patching` from the app's DBOS config so each Deployment records its own `DBOS__APPVERSION` (`DBOS.patch` no longer needs it), and wait for the `{PATCHING_VERSION}` work to finish (`dbos workflow list -v {PATCHING_VERSION}`); only if every newer version patches the old workflows, retire with `--no-drain-check`"
        )),
    )
}

/// A warning for a sharded system database (`dbos migrate --sharding`, Transact Enterprise):
/// DBOS then reads versions from its global rows and workflows per shard key.
pub fn sharded_warning(report: &VersionsReport) {
    if report.sharded {
        crate::term::warn("warning: this system database is sharded (`workflow_status.shard_key`, `dbos migrate --sharding`): the counts cover the rows this connection sees, and DBOS disables auto-upgrade there; if shards live in other databases, check each with `dbos workflow list -v VERSION` before retiring");
    }
}

/// Makes `version` DBOS's latest application version; returns the clause to print after
/// "activated `V` in `ENV`: ...". A version the database never registered is refused unless it
/// is the newest declared one (its first pod registers it as the latest when it starts).
pub fn make_latest(
    source: &Source,
    version: &VersionName,
    application_name: Option<&str>,
    is_newest: bool,
) -> Result<String, Error> {
    match source.set_latest(version, application_name)? {
        LatestOutcome::Set {
            previous: Some(previous),
        } => Ok(format!(
            "DBOS's latest version is now `{version}` (was `{previous}`)"
        )),
        LatestOutcome::Set { previous: None } => {
            Ok(format!("DBOS's latest version is now `{version}`"))
        }
        LatestOutcome::AlreadyLatest => Ok(format!("DBOS's latest version already is `{version}`")),
        LatestOutcome::NotRegistered { .. } if is_newest => Ok(format!(
            "DBOS has not registered `{version}` yet: its first pod makes it DBOS's latest version"
        )),
        LatestOutcome::NotRegistered { registered } => {
            let holds = if registered.is_empty() {
                "no versions at all".to_string()
            } else {
                format!("these versions, latest first: {}", backticked(&registered))
            };
            let place = if source.is_conductor() {
                "that `--conductor-url` and `--org` name this environment's Conductor".to_string()
            } else {
                format!(
                    "that the url names this environment's system database{}",
                    match application_name {
                        Some(name) => format!(" and that the app is named `{name}` there"),
                        None => String::new(),
                    }
                )
            };
            Err(Error::refused(format!(
                "refusing to activate `{version}`: {} has never seen it (no `{version}` executor has started); it holds {holds}",
                source.described()
            ))
            .hint(format!(
                "check {place}, and that the app does not set `application_version` in its DBOS config (it overrides `DBOS__APPVERSION`); to move only the Service, rerun with `--traffic-only`"
            )))
        }
    }
}

/// `version activate` with a database: refuses a declared `app.name` that owns no version while
/// others do (it would promote nothing of this app), then makes `version` DBOS's latest.
pub fn activate_with(
    source: &Source,
    version: &VersionName,
    application_name: Option<&str>,
    env: &str,
    is_newest: bool,
) -> Result<String, Error> {
    let report = source.report(
        application_name,
        &format!("could not make `{version}` DBOS's latest version"),
    )?;
    check_application_name(
        &report,
        application_name,
        source,
        env,
        &format!("activate `{version}`"),
    )?;
    make_latest(source, version, application_name, is_newest)
}

/// In-flight work under versions the environment does not declare (version-less rows excluded:
/// DBOS's latest version takes those), by version.
pub fn undeclared<'a>(
    report: &'a VersionsReport,
    declared: &[VersionName],
) -> Vec<(&'a str, &'a BTreeMap<String, u64>)> {
    report
        .in_flight
        .iter()
        .filter_map(|(version, by_status)| {
            let version = version
                .as_deref()
                .filter(|name| *name != PATCHING_VERSION)?;
            let total: u64 = by_status.values().sum();
            (total > 0 && !declared.iter().any(|name| name.as_str() == version))
                .then_some((version, by_status))
        })
        .collect()
}

/// The likely cause of undeclared versions and the fix, for warnings and refusals. In Python and
/// TypeScript a config's `application_version` overrides `DBOS__APPVERSION`; in Go the variable
/// wins (`processConfig` in dbos-transact-golang's `dbos/dbos.go`), so there the config is not
/// the cause.
pub fn undeclared_explanation(versions: &[&str], language: Language) -> String {
    let cause = match language {
        Language::Go => "in Go `DBOS__APPVERSION` overrides the config's `ApplicationVersion`, so these come from executors outside this environment's Deployments (a local run, another environment sharing the database, a Deployment retired with `--no-drain-check`) or from a versions.yaml edited by hand",
        Language::Python | Language::Typescript => "the app most likely sets `application_version` in its DBOS config, which overrides `DBOS__APPVERSION`, so every Deployment records the same version and the drain check cannot tell them apart",
    };
    format!(
        "the database holds work under {}, which versions.yaml does not declare: {cause}",
        backticked(versions)
    )
}

/// The fix for undeclared versions.
pub fn undeclared_fix(language: Language) -> &'static str {
    match language {
        Language::Go => "find the executors of the listed versions (`dbos workflow list -v VERSION` shows their executor ids) and let their work finish or cancel it before retiring",
        Language::Python | Language::Typescript => UNDECLARED_FIX,
    }
}

pub const UNDECLARED_FIX: &str = "remove `application_version` from the app's DBOS config (or set it from `DBOS__APPVERSION`) so each Deployment records its own version; wait for or cancel the listed work (`dbos workflow list -v VERSION`) before retiring";

/// `3 (PENDING 2, ENQUEUED 1)`, statuses in DBOS's order; `0` when none.
pub fn in_flight_cell(by_status: Option<&BTreeMap<String, u64>>) -> String {
    let Some(by_status) = by_status else {
        return "0".to_string();
    };
    let total: u64 = by_status.values().sum();
    if total == 0 {
        return "0".to_string();
    }
    let mut parts: Vec<String> = IN_FLIGHT_STATUSES
        .iter()
        .filter_map(|status| {
            by_status
                .get(*status)
                .map(|count| format!("{status} {count}"))
        })
        .collect();
    for (status, count) in by_status {
        if !IN_FLIGHT_STATUSES.contains(&status.as_str()) {
            parts.push(format!("{status} {count}"));
        }
    }
    format!("{total} ({})", parts.join(", "))
}

fn backticked<S: AsRef<str>>(names: &[S]) -> String {
    names
        .iter()
        .map(|name| format!("`{}`", name.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `version list` with a source: the declared versions with DBOS's latest and in-flight counts
/// (and, from Conductor, the live executors of each), then rows for what DBOS holds under
/// versions nobody declared.
pub fn list(
    env: &Environment,
    source: &Source,
    application_name: Option<&str>,
    language: Language,
    format: ListFormat,
) -> Result<i32, Error> {
    let what = if source.is_conductor() {
        "could not read DBOS's versions from Conductor"
    } else {
        "could not read the DBOS system database"
    };
    let report = source.report(application_name, what)?;
    check_application_name(
        &report,
        application_name,
        source,
        env.name.as_str(),
        "list DBOS's view of the versions",
    )?;
    let executors = source.live_executors()?;
    sharded_warning(&report);
    let declared: Vec<VersionName> = env.versions.iter().map(|v| v.name.clone()).collect();
    let undeclared_work = undeclared(&report, &declared);
    let extra = extra_rows(&report, &declared, &undeclared_work, executors.as_ref());
    let view = ListView {
        env,
        report: &report,
        extra: &extra,
        executors: executors.as_ref(),
    };
    match format {
        ListFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&view.json()).unwrap_or_default()
        ),
        ListFormat::Text => print!("{}", view.text()),
    }
    list_warnings(env, source, &report, &undeclared_work, language);
    Ok(0)
}

/// Undeclared versions worth a row: those with work in flight or live executors, and DBOS's
/// latest.
fn extra_rows<'a>(
    report: &'a VersionsReport,
    declared: &[VersionName],
    undeclared_work: &[(&'a str, &'a BTreeMap<String, u64>)],
    executors: Option<&'a BTreeMap<String, u64>>,
) -> Vec<&'a str> {
    let mut extra: Vec<&str> = undeclared_work.iter().map(|(name, _)| *name).collect();
    let is_declared = |name: &str| declared.iter().any(|declared| declared.as_str() == name);
    let live = executors
        .into_iter()
        .flat_map(|live| live.keys().map(String::as_str));
    for name in report.latest().into_iter().chain(live) {
        if !is_declared(name) && !extra.contains(&name) {
            extra.push(name);
        }
    }
    extra.sort_unstable();
    extra
}

struct ListView<'a> {
    env: &'a Environment,
    report: &'a VersionsReport,
    extra: &'a [&'a str],
    executors: Option<&'a BTreeMap<String, u64>>,
}

impl ListView<'_> {
    fn counts(&self, version: Option<&str>) -> Option<&BTreeMap<String, u64>> {
        self.report.in_flight.get(&version.map(str::to_owned))
    }

    fn live(&self, version: &str) -> Option<u64> {
        self.executors
            .map(|live| live.get(version).copied().unwrap_or(0))
    }

    fn json(&self) -> Value {
        let latest = self.report.latest();
        let count_json =
            |version: Option<&str>| json!(self.counts(version).cloned().unwrap_or_default());
        let with_live = |mut row: Value, name: &str| {
            if let Some(live) = self.live(name) {
                row["live_executors"] = json!(live);
            }
            row
        };
        let mut versions: Vec<Value> = self
            .env
            .versions
            .iter()
            .map(|version| {
                let name = version.name.as_str();
                with_live(
                    json!({
                        "name": name,
                        "image": version.image,
                        "declared": true,
                        "active": version.active,
                        "dbos_latest": latest == Some(name),
                        "in_flight": count_json(Some(name)),
                    }),
                    name,
                )
            })
            .collect();
        versions.extend(self.extra.iter().map(|name| {
            with_live(
                json!({
                    "name": name,
                    "image": Value::Null,
                    "declared": false,
                    "active": false,
                    "dbos_latest": latest == Some(*name),
                    "in_flight": count_json(Some(name)),
                }),
                name,
            )
        }));
        json!({
            "env": self.env.name.as_str(),
            "active": self.env.active.as_ref().map(VersionName::as_str),
            "dbos_latest": latest,
            "filtered_by_application_name": self.report.filtered_by_application_name,
            "versions": versions,
            "version_less_in_flight": count_json(None),
        })
    }

    fn text(&self) -> String {
        let latest = self.report.latest();
        let yes_no = |flag: bool| if flag { "yes" } else { "no" }.to_string();
        let live = |name: &str| {
            self.live(name)
                .map_or_else(|| "-".to_string(), |n| n.to_string())
        };
        let mut rows = vec![[
            "VERSION".to_string(),
            "IMAGE".to_string(),
            "ACTIVE".to_string(),
            "DBOS LATEST".to_string(),
            "IN FLIGHT".to_string(),
            "LIVE EXECUTORS".to_string(),
        ]];
        for version in &self.env.versions {
            let name = version.name.as_str();
            rows.push([
                name.to_string(),
                version.image.clone(),
                yes_no(version.active),
                yes_no(latest == Some(name)),
                in_flight_cell(self.counts(Some(name))),
                live(name),
            ]);
        }
        for name in self.extra {
            rows.push([
                name.to_string(),
                "(not declared)".to_string(),
                "-".to_string(),
                yes_no(latest == Some(*name)),
                in_flight_cell(self.counts(Some(name))),
                live(name),
            ]);
        }
        if let Some(version_less) = self.counts(None) {
            rows.push([
                "(no version)".to_string(),
                "(runs on DBOS's latest)".to_string(),
                "-".to_string(),
                "-".to_string(),
                in_flight_cell(Some(version_less)),
                "-".to_string(),
            ]);
        }
        if self.executors.is_some() {
            return crate::table::format_table(&rows);
        }
        // A database does not know the executors: no column for them.
        let rows: Vec<[String; 5]> = rows
            .into_iter()
            .map(|[a, b, c, d, e, _]| [a, b, c, d, e])
            .collect();
        crate::table::format_table(&rows)
    }
}

fn list_warnings(
    env: &Environment,
    source: &Source,
    report: &VersionsReport,
    undeclared_work: &[(&str, &BTreeMap<String, u64>)],
    language: Language,
) {
    if !undeclared_work.is_empty() {
        let names: Vec<&str> = undeclared_work
            .iter()
            .map(|(version, _)| *version)
            .collect();
        crate::term::warn(&format!(
            "warning: {}\n  hint: {}",
            undeclared_explanation(&names, language),
            undeclared_fix(language)
        ));
    }
    if let Some(patching) = patching_refusal(report, "trust per-version counts") {
        crate::term::warn(&format!(
            "warning: {}",
            patching.report().trim_start_matches("error: ")
        ));
    }
    if let (Some(latest), Some(active)) = (report.latest(), &env.active) {
        if latest != active.as_str() {
            let flag = match source {
                Source::Conductor { access, .. } => format!("--conductor-url {}", access.url),
                Source::Database { .. } => "--database-url URL".to_string(),
            };
            crate::term::note(&format!(
                "note: DBOS's latest version is `{latest}`, not the active `{active}`: enqueued work without a version and scheduled workflows go to `{latest}`; `dbos-gitops version activate {active} --env {} {flag}` moves them",
                env.name
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_flight_cells_list_statuses_in_dbos_order() {
        let counts: BTreeMap<String, u64> = [("ENQUEUED", 1), ("PENDING", 2)]
            .into_iter()
            .map(|(status, count)| (status.to_string(), count))
            .collect();
        assert_eq!(in_flight_cell(Some(&counts)), "3 (PENDING 2, ENQUEUED 1)");
        assert_eq!(in_flight_cell(None), "0");
    }

    #[test]
    fn version_less_and_declared_rows_are_not_undeclared() {
        let mut report = VersionsReport::default();
        for version in [None, Some("v1"), Some("0.1.0")] {
            report.in_flight.insert(
                version.map(str::to_owned),
                [("ENQUEUED".to_string(), 2)].into_iter().collect(),
            );
        }
        let declared = [VersionName::new("v1").unwrap()];
        let found: Vec<&str> = undeclared(&report, &declared)
            .into_iter()
            .map(|(version, _)| version)
            .collect();
        assert_eq!(found, ["0.1.0"]);
    }
}
