//! `retire VERSION`: remove an application version's Deployment once nothing needs it.
//!
//! DBOS recovers a workflow only on an executor of the version that started it, so removing the
//! last pod of a version strands its unfinished workflows. Retire therefore refuses, in this
//! order and before anything is written:
//! - an unknown version (exit 2) and the active one (the Service and the autoscaler point at it);
//! - the newest version, which picks up workflows enqueued without a version, unless `--force`
//!   (for an abandoned `--no-activate` canary; the active version still takes unversioned work);
//! - a generated file of the environment edited by hand, unless `--force`;
//! - with a database URL (`--database-url` or `DBOS_SYSTEM_DATABASE_URL`), a version that still
//!   has PENDING, ENQUEUED or DELAYED workflows in `dbos.workflow_status` (the `drain` crate,
//!   over a read-only connection with a timeout); any database error is exit 2;
//! - with `--conductor-url` instead (a private database), the same checks on the same facts as
//!   Conductor reports them (`dbos_versions::Source`); a 503, no executor connected, means the
//!   drain cannot be told (exit 2), never that it is drained;
//! - without either, everything unless `--no-drain-check`.
//!
//! `--dry-run` runs every check and then prints what would be written instead of writing it.
//!
//! `--force` never skips the drain check. Then `versions.yaml` loses the version and the
//! recompile removes `versions/<v>/` (the ownership record says those files are ours); Argo CD
//! prunes the Deployment in its own sync wave (prunes run in reverse wave order; no `PruneLast`,
//! which would hold every prune behind the routing wave).

use std::fmt::Write as _;

use dbos_gitops_drain::{InFlight, IN_FLIGHT_STATUSES};

use crate::cli::RetireArgs;
use crate::declare::{Language, VersionName};
use crate::error::Error;

use super::context::Context;
use super::version::{declared, load_env, parse_version, plan_versions};

use super::dbos_versions::{self, Source, DATABASE_URL_ENV};

/// How many in-flight workflow ids a refusal names.
const SAMPLE_IDS: usize = 5;

/// `retire`: the offline refusals, the plan without the version, the drain check, then the
/// write (or the `--dry-run` report) and what to do next.
pub fn retire(context: &Context, arguments: RetireArgs) -> Result<i32, Error> {
    let mut ws = load_env(context, arguments.env.as_deref())?;
    let env = ws.selected()?;
    let env_name = env.name.clone();
    let version = parse_version(&arguments.version)?;
    declared(env, &version)?;
    offline_refusals(env, &version, arguments.force)?;
    let facts = Facts::of(env);
    let declared_names: Vec<VersionName> = env
        .versions
        .versions
        .iter()
        .map(|declared| declared.name.clone())
        .collect();
    let mut versions = env.versions.clone();
    versions
        .versions
        .retain(|declared| declared.name != version);
    let versions_text = crate::declare::versions_file_text(&versions);

    // Everything that can be refused without the database is decided before connecting, and the
    // plan is complete before the drain check: after it, only the writes remain.
    let plan = plan_versions(&mut ws, &versions, arguments.force)?;
    let checked = drain_checked(&arguments, &env_name, &version, &facts, &declared_names)?;
    let version_dir = crate::layout::version_dir(&env_name, &version);
    if arguments.dry_run {
        println!("dry run: would retire `{version}` from `{env_name}`: would remove {version_dir}");
        if let Some(line) = &checked {
            println!("  drain check: {line}");
        }
        print!(
            "{}",
            super::version::dry_run_report(&ws, &env_name, &versions_text, &plan)?
        );
        return Ok(0);
    }
    ws.commit(&plan)?;
    report(&arguments, &facts, &version, &version_dir, checked, &plan);
    if ws.root().join(&version_dir).exists() {
        println!(
            "note: {version_dir} still holds files dbos-gitops did not write; they are no longer deployed, delete them when you like"
        );
    }
    Ok(0)
}

/// The drain check the arguments ask for: `None` under `--no-drain-check`, else the checks
/// through the database or Conductor (`source_checks`), refused when neither is given.
fn drain_checked(
    arguments: &RetireArgs,
    env_name: &crate::declare::EnvName,
    version: &VersionName,
    facts: &Facts,
    declared: &[VersionName],
) -> Result<Option<String>, Error> {
    let source = Source::from_args(
        arguments.database_url.as_ref(),
        arguments.database_url_file.as_ref(),
        &arguments.conductor,
        env_name,
        facts.application_name.as_deref(),
    )?;
    match (&source, arguments.no_drain_check) {
        (_, true) => Ok(None),
        (None, false) => Err(Error::refused(format!(
            "refusing to retire `{version}` without checking that it is drained: no database url"
        ))
        .hint(format!(
            "set `{DATABASE_URL_ENV}` (or pass `--database-url-file FILE`) to the DBOS system database url, or `--conductor-url URL` when the database is private; or pass `--no-drain-check` if you know no workflow of `{version}` is in flight"
        ))),
        (Some(source), false) => Ok(Some(source_checks(source, version, facts, declared)?)),
    }
}

/// After the write: the warning of a retire without a drain check, what was removed, the drain
/// check's line and the files written.
fn report(
    arguments: &RetireArgs,
    facts: &Facts,
    version: &VersionName,
    version_dir: &str,
    checked: Option<String>,
    plan: &crate::repo::Plan,
) {
    if arguments.no_drain_check {
        crate::term::warn(&format!(
            "warning: retired `{version}` without a drain check (`--no-drain-check`): workflows still in flight on it stay stranded until a `{version}` executor runs again"
        ));
    }
    println!(
        "retired `{version}` from `{}`: removed {version_dir} (Argo CD prunes it in its own sync wave)",
        facts.env
    );
    if let Some(line) = checked {
        println!("  drain check: {line}");
    }
    print!("{}", plan.summary());
}

/// The refusals that need no database: the active version, and the newest unless `--force`.
fn offline_refusals(
    env: &crate::model::EnvInput,
    version: &VersionName,
    force: bool,
) -> Result<(), Error> {
    let env_name = &env.name;
    if env.versions.active.as_ref() == Some(version) {
        return Err(Error::refused(format!(
            "refusing to retire `{version}`: it is the active version of `{env_name}` (the Service{} point{} at it)",
            if env.spec.app.autoscaling.is_some() { " and the autoscaler" } else { "" },
            if env.spec.app.autoscaling.is_some() { "" } else { "s" },
        ))
        .hint(format!(
            "activate another version first: `dbos-gitops version activate VERSION --env {env_name}`"
        )));
    }
    let newest = env.versions.versions.last().map(|last| &last.name);
    if newest == Some(version) && !force {
        return Err(Error::refused(format!(
            "refusing to retire `{version}`: it is the newest version of `{env_name}`, which runs the migrations and picks up workflows enqueued without a version"
        ))
        .hint(
            "add a newer version first; to drop a `--no-activate` version that never took traffic, rerun with `--force` (the drain check still runs)",
        ));
    }
    Ok(())
}

/// What the database checks need to know about the environment.
struct Facts {
    env: String,
    active: Option<String>,
    application_name: Option<String>,
    language: Language,
    auto_upgrade: bool,
}

impl Facts {
    fn of(env: &crate::model::EnvInput) -> Facts {
        Facts {
            env: env.name.to_string(),
            active: env.versions.active.as_ref().map(|name| name.to_string()),
            application_name: env.spec.app.name.clone(),
            language: env.spec.app.language,
            auto_upgrade: env.spec.app.auto_upgrade,
        }
    }
}

/// Everything `retire` asks its source (the database or Conductor), in order: the declared
/// `app.name` exists there, the version is not DBOS's latest, no work hides under
/// `PATCHING_ENABLED`, nothing of the version is in flight, nothing is in flight under
/// undeclared versions. `Ok` with the line to print. The one decision for both sources.
fn source_checks(
    source: &Source,
    version: &VersionName,
    facts: &Facts,
    declared: &[VersionName],
) -> Result<String, Error> {
    let application_name = facts.application_name.as_deref();
    let doing = format!("retire `{version}`");
    let what = if source.is_conductor() {
        format!("cannot tell whether `{version}` is drained")
    } else {
        format!("could not check whether `{version}` is drained")
    };
    let report = source.report(application_name, &what)?;
    dbos_versions::check_application_name(&report, application_name, source, &facts.env, &doing)?;
    if report.latest() == Some(version.as_str()) {
        return Err(latest_refusal(version, facts, source));
    }
    if let Some(refusal) = dbos_versions::patching_refusal(&report, &doing) {
        return Err(refusal);
    }
    dbos_versions::sharded_warning(&report);
    let line = drain_check(source, version, facts)?;
    undeclared_check(&report, version, declared, facts.language)?;
    Ok(line)
}

/// DBOS sends version-less enqueued work and every scheduled workflow to its latest version
/// (and, under auto-upgrade, every older version's work): retiring it leaves them no executor.
fn latest_refusal(version: &VersionName, facts: &Facts, source: &Source) -> Error {
    let target = facts.active.as_deref().unwrap_or("VERSION");
    Error::refused(format!(
        "refusing to retire `{version}`: it is DBOS's latest application version, so enqueued work without a version and every scheduled workflow{} go to it, and would wait forever once its pods are gone",
        if facts.auto_upgrade { " (and, under auto-upgrade, every older version's work)" } else { "" }
    ))
    .hint(format!(
        "make the active version DBOS's latest first: `dbos-gitops version activate {target} --env {}` {}, then rerun",
        facts.env,
        source.flags()
    ))
}

/// Counts `version`'s in-flight workflows; `Ok` with a line to print when there are none.
fn drain_check(source: &Source, version: &VersionName, facts: &Facts) -> Result<String, Error> {
    let application_name = facts.application_name.as_deref();
    let found = source.in_flight(version, application_name, SAMPLE_IDS)?;
    let scope = if source.is_conductor() {
        "as the application's connected executors report them".to_string()
    } else {
        scope_note(&found, application_name)
    };
    if found.is_drained() {
        return Ok(format!(
            "no workflows of `{version}` in flight in {} ({scope})",
            source.place()
        ));
    }
    let refused = refusal(version, &found, &scope);
    Err(if facts.auto_upgrade {
        refused.hint(format!(
            "under auto-upgrade DBOS moves them to its latest version (ENQUEUED and DELAYED at once, PENDING after `auto_upgrade_grace_sec`): wait for that, then retry; `dbos workflow list -v {version}` shows what is left"
        ))
    } else {
        refused
    })
}

/// Refuses while work is in flight under versions the environment does not declare: then the
/// app pins its version in its DBOS config, every Deployment records that one string, and the
/// per-version drain check above saw nothing of what `version` may still be running. The
/// versions declared (before this retire) count as known, `version` included.
fn undeclared_check(
    report: &dbos_gitops_drain::VersionsReport,
    version: &VersionName,
    declared: &[VersionName],
    language: Language,
) -> Result<(), Error> {
    let undeclared = dbos_versions::undeclared(report, declared);
    if undeclared.is_empty() {
        return Ok(());
    }
    let lines: Vec<String> = undeclared
        .iter()
        .map(|(name, by_status)| {
            format!(
                "  `{name}`: {}",
                dbos_versions::in_flight_cell(Some(by_status))
            )
        })
        .collect();
    let names: Vec<&str> = undeclared.iter().map(|(name, _)| *name).collect();
    Err(Error::refused(format!(
        "refusing to retire `{version}`: workflows are in flight under versions `{}` does not declare\n{}\n  {}",
        crate::declare::VERSIONS_FILE,
        lines.join("\n"),
        dbos_versions::undeclared_explanation(&names, language)
    ))
    .hint(dbos_versions::undeclared_fix(language)))
}

/// Which rows were counted, for humans.
fn scope_note(found: &InFlight, application_name: Option<&str>) -> String {
    match application_name {
        Some(name) if found.filtered_by_application_name => {
            format!("counting application `{name}` and unclaimed workflows")
        }
        Some(name) => format!(
            "these system tables predate `application_name`, so every application's workflows count, not only `{name}`'s"
        ),
        None => "counting every application in this database; declare `app.name` in env.yaml to count only yours".to_string(),
    }
}

fn refusal(version: &VersionName, found: &InFlight, scope: &str) -> Error {
    // PENDING, ENQUEUED, DELAYED first, in that order; anything else after.
    let mut statuses: Vec<(&str, u64)> = IN_FLIGHT_STATUSES
        .iter()
        .filter_map(|status| found.by_status.get(*status).map(|count| (*status, *count)))
        .collect();
    for (status, count) in &found.by_status {
        if !IN_FLIGHT_STATUSES.contains(&status.as_str()) {
            statuses.push((status, *count));
        }
    }
    let counts = statuses
        .iter()
        .map(|(status, count)| format!("{status} {count}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut message = format!(
        "refusing to retire `{version}`: {} workflow{} still in flight ({counts})",
        found.total,
        if found.total == 1 { "" } else { "s" }
    );
    if !found.sample_workflow_ids.is_empty() {
        let ids = found
            .sample_workflow_ids
            .iter()
            .map(|id| format!("`{id}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let more = found
            .total
            .saturating_sub(found.sample_workflow_ids.len() as u64);
        let _ = write!(message, "\n  oldest: {ids}");
        if more > 0 {
            let _ = write!(message, " and {more} more");
        }
    }
    let _ = write!(message, "\n  {scope}");
    let first_status = statuses.first().map_or("PENDING", |(status, _)| status);
    Error::refused(message).hint(format!(
        "wait for them, or fork/cancel them (`dbos workflow list -v {version} -S {first_status}`), then retry"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusal_lists_statuses_in_dbos_order_and_the_oldest_ids() {
        let found = InFlight {
            by_status: [("DELAYED", 1), ("ENQUEUED", 1), ("PENDING", 2)]
                .into_iter()
                .map(|(status, count)| (status.to_string(), count))
                .collect(),
            total: 4,
            sample_workflow_ids: vec!["a".into(), "b".into()],
            filtered_by_application_name: false,
        };
        let version = VersionName::new("v1").unwrap();
        let report = refusal(&version, &found, "scope").report();
        assert!(
            report.starts_with(
                "error: refusing to retire `v1`: 4 workflows still in flight (PENDING 2, ENQUEUED 1, DELAYED 1)\n  oldest: `a`, `b` and 2 more\n  scope\n"
            ),
            "{report}"
        );
        assert!(
            report.ends_with("hint: wait for them, or fork/cancel them (`dbos workflow list -v v1 -S PENDING`), then retry"),
            "{report}"
        );
    }
}
