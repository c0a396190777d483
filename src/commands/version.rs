//! `version add|list|activate`: the application versions of an environment, each its own
//! Deployment `dbos-app-<v>` with `DBOS__APPVERSION=<v>`. What DBOS itself records about versions
//! (its latest version, work in flight, undeclared versions) is in `dbos_versions`; `version
//! promote` is in `promote`.
//!
//! DBOS recovers a workflow only on an executor of the same application version, and workflows
//! run for weeks, so a new version never replaces the old one: it is added beside it, the Service
//! and the autoscaler move to it, and the old Deployment keeps one replica until `retire` finds
//! it drained. The versions live in the tool-owned `versions.yaml` beside env.yaml (rewritten
//! whole, so env.yaml keeps its human's comments); every change recompiles the environment
//! through the same plan as `build`, so a hand-edited generated file refuses the change and
//! nothing is written on any error.

use serde_json::json;

use crate::cli::{ListFormat, VersionActivateArgs, VersionAddArgs, VersionListArgs};
use crate::declare::{self, Language, VersionName, VersionSpec, VersionsSpec};
use crate::error::Error;
use crate::model::{EnvInput, Environment};
use crate::repo::{Plan, WriteOptions};
use crate::workspace::{Mode, Scope, Workspace};

use super::context::Context;
use super::dbos_versions;

/// The workspace of the environment `--env` names (or the only one), under the repository lock.
pub(super) fn load_env(context: &Context, env: Option<&str>) -> Result<Workspace, Error> {
    context.workspace(env, Mode::Write)
}

/// A version name from the command line: a DNS-1123 label, since it becomes the Deployment
/// `dbos-app-<v>` and a label value.
pub(super) fn parse_version(text: &str) -> Result<VersionName, Error> {
    VersionName::new(text).map_err(|error| {
        error.hint(
            "a version becomes the Deployment `dbos-app-VERSION`, a label and `DBOS__APPVERSION`: \
             use lowercase letters, digits and `-`, such as `v2` or `2024-06-01`",
        )
    })
}

/// The version as declared in the environment, or an error listing the known ones.
pub(super) fn declared<'a>(
    env: &'a EnvInput,
    version: &VersionName,
) -> Result<&'a VersionSpec, Error> {
    env.versions
        .versions
        .iter()
        .find(|declared| &declared.name == version)
        .ok_or_else(|| {
            let hint = if env.versions.versions.is_empty() {
                format!(
                    "`{}` has no versions yet; add one with `dbos-gitops version add {version} --env {} --image IMAGE`",
                    env.name, env.name
                )
            } else {
                format!("known versions: {}", known_versions(env))
            };
            Error::input(format!(
                "environment `{}` has no version `{version}`",
                env.name
            ))
            .hint(hint)
        })
}

fn known_versions(env: &EnvInput) -> String {
    env.versions
        .versions
        .iter()
        .map(|version| format!("`{}`", version.name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Recompiles the environment with `versions` in place of its current ones. The plan writes
/// `versions.yaml` and every generated file that follows from it; it refuses generated files
/// edited by hand unless `force`. Nothing is written until the caller applies it.
/// `--dry-run`: each file the plan would write, how (created, updated, removed, with its
/// lines added and removed), and the change to versions.yaml itself; ends with the line saying
/// nothing was written.
pub(super) fn dry_run_report(
    ws: &Workspace,
    env_name: &crate::declare::EnvName,
    versions_text: &str,
    plan: &Plan,
) -> Result<String, Error> {
    use std::fmt::Write as _;
    let versions_path = crate::layout::versions_file(env_name);
    let old = ws
        .read_on_disk(&versions_path)?
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned());
    let mut out = String::new();
    if old.as_deref() != Some(versions_text) {
        let verb = if old.is_some() { "update" } else { "create" };
        let old = old.unwrap_or_default();
        let _ = writeln!(
            out,
            "  would {verb} {versions_path} ({})",
            line_counts(&old, versions_text)
        );
        let diff = similar::TextDiff::from_lines(old.as_str(), versions_text);
        for change in diff.iter_all_changes() {
            let sign = match change.tag() {
                similar::ChangeTag::Delete => '-',
                similar::ChangeTag::Insert => '+',
                similar::ChangeTag::Equal => continue,
            };
            let _ = write!(out, "      {sign} {change}");
            if change.missing_newline() {
                out.push('\n');
            }
        }
    }
    for change in plan.changes() {
        let verb = match change.kind {
            crate::repo::plan::ChangeKind::Create => "create",
            crate::repo::plan::ChangeKind::Update => "update",
            crate::repo::plan::ChangeKind::Delete => "remove",
        };
        let counts = line_counts(
            change.old.as_deref().unwrap_or(""),
            change.new.as_deref().unwrap_or(""),
        );
        let _ = writeln!(out, "  would {verb} {} ({counts})", change.path);
    }
    if !plan.changes().is_empty() {
        let _ = writeln!(
            out,
            "  would update {} (the record of the files dbos-gitops owns)",
            crate::layout::RECORD_FILE
        );
    }
    out.push_str("nothing was written (--dry-run)\n");
    Ok(out)
}

/// `+3 -1 lines`: the lines a change adds and removes.
fn line_counts(old: &str, new: &str) -> String {
    let diff = similar::TextDiff::from_lines(old, new);
    let (mut added, mut removed) = (0, 0);
    for change in diff.iter_all_changes() {
        match change.tag() {
            similar::ChangeTag::Insert => added += 1,
            similar::ChangeTag::Delete => removed += 1,
            similar::ChangeTag::Equal => {}
        }
    }
    format!("+{added} -{removed} lines")
}

/// Puts `versions` as the selected environment's `versions.yaml` and compiles the environment:
/// the versions the render sees are the file's, read back as the next run reads them.
pub(super) fn plan_versions(
    ws: &mut Workspace,
    versions: &VersionsSpec,
    force: bool,
) -> Result<Plan, Error> {
    let name = ws.selected()?.name.clone();
    ws.put(
        crate::layout::versions_file(&name),
        declare::versions_file_text(versions).into_bytes(),
    );
    let plan = ws.compile(Scope::Env(&name), WriteOptions { force })?;
    plan.ensure_no_conflicts().map_err(|error| {
        if force {
            error
        } else {
            error.hint(format!(
                "move your change into env.yaml, or regenerate the files with `dbos-gitops build --env {name} --force`, then rerun"
            ))
        }
    })?;
    Ok(plan)
}

/// `version add`: decides the new `versions.yaml` (refusing before the password-free checks
/// pass), recompiles the environment with it, then writes it or, with `--dry-run`, reports it.
pub fn add(context: &Context, arguments: VersionAddArgs) -> Result<i32, Error> {
    add_to(load_env(context, arguments.env.as_deref())?, arguments)
}

/// `version add` on a workspace already open for the environment (`promote` opens one for both).
pub(super) fn add_to(mut ws: Workspace, arguments: VersionAddArgs) -> Result<i32, Error> {
    let version = parse_version(&arguments.version)?;
    let addition = Addition::decide(ws.selected()?, version, &arguments)?;
    let versions_text = declare::versions_file_text(&addition.versions);
    let plan = plan_versions(&mut ws, &addition.versions, false)?;
    if arguments.dry_run {
        let report = dry_run_report(&ws, &addition.env_name, &versions_text, &plan)?;
        print!("{}\n{report}", addition.dry_run_line());
        return Ok(0);
    }
    ws.commit(&plan)?;
    addition.report(&plan);
    Ok(0)
}

/// What `version add` decided, and what its report needs to know about the environment.
struct Addition {
    env_name: crate::declare::EnvName,
    version: VersionName,
    image: String,
    no_activate: bool,
    /// The active version before the change.
    previous: Option<VersionName>,
    /// The versions declared before the change, oldest first.
    older: Vec<VersionName>,
    autoscaled: bool,
    language: Language,
    auto_upgrade: bool,
    /// The new content of `versions.yaml`.
    versions: VersionsSpec,
}

impl Addition {
    /// Refuses an existing version name, an image that is not one, and a `--no-activate` that
    /// would leave the environment without an active version; else the new versions.
    fn decide(
        env: &EnvInput,
        version: VersionName,
        arguments: &VersionAddArgs,
    ) -> Result<Addition, Error> {
        refuse_existing(env, &version)?;
        crate::model::check_image(&arguments.image).map_err(|message| {
            Error::input(message)
                .hint("pass `--image REGISTRY/REPOSITORY:TAG` (or `@sha256:DIGEST`)")
        })?;
        let previous = env.versions.active.clone();
        if arguments.no_activate && previous.is_none() {
            return Err(Error::input(format!(
                "`--no-activate` would leave `{}` without an active version: it has none yet",
                env.name
            ))
            .hint("leave out `--no-activate` for the environment's first version"));
        }
        let mut versions = env.versions.clone();
        versions.versions.push(VersionSpec {
            name: version.clone(),
            image: arguments.image.clone(),
        });
        if !arguments.no_activate {
            versions.active = Some(version.clone());
        }
        Ok(Addition {
            env_name: env.name.clone(),
            version,
            image: arguments.image.clone(),
            no_activate: arguments.no_activate,
            previous,
            older: env
                .versions
                .versions
                .iter()
                .map(|declared| declared.name.clone())
                .collect(),
            autoscaled: env.spec.app.autoscaling.is_some(),
            language: env.spec.app.language,
            auto_upgrade: env.spec.app.auto_upgrade,
            versions,
        })
    }

    /// What routes traffic, with its verb's ending: "the Service points", "the Service and the
    /// autoscaler point".
    fn routed(&self) -> (&'static str, &'static str) {
        if self.autoscaled {
            ("the Service and the autoscaler", "")
        } else {
            ("the Service", "s")
        }
    }

    /// The first line of `--dry-run`: the version and where traffic would go.
    fn dry_run_line(&self) -> String {
        let (routed, _) = self.routed();
        let routing = match (&self.previous, self.no_activate) {
            (Some(active), true) => format!("{routed} would stay on `{active}`"),
            (Some(active), false) => {
                format!("{routed} would point at it; `{active}` would keep running")
            }
            (None, _) => "it would be the active version".to_string(),
        };
        let (version, image, env_name) = (&self.version, &self.image, &self.env_name);
        format!(
            "dry run: would add version `{version}` (image `{image}`) to `{env_name}`: {routing}"
        )
    }

    /// After the write: what changed, the files written, the notes, and the next step.
    fn report(&self, plan: &Plan) {
        let (routed, verb_s) = self.routed();
        let (version, env_name) = (&self.version, &self.env_name);
        match (&self.previous, self.no_activate) {
            (Some(active), true) => println!(
                "added version `{version}` to `{env_name}` without activating it: {routed} stay{verb_s} on `{active}`"
            ),
            (Some(active), false) => println!(
                "added version `{version}` to `{env_name}`: {routed} now point{verb_s} at it; `{active}` keeps running to finish its workflows"
            ),
            (None, _) => println!("added version `{version}` to `{env_name}` (active)"),
        }
        print!("{}", plan.summary());
        self.notes();
        if let Some(next) = next_step(version, env_name, &self.older, self.no_activate) {
            println!("{next}");
        }
    }

    /// The notes after the write: an unpinned image, Transact Enterprise, and auto-upgrade
    /// moving work to a version added without traffic.
    fn notes(&self) {
        let version = &self.version;
        if !image_is_pinned(&self.image) {
            crate::term::note(&format!(
                "note: image `{}` has no tag or digest, or the tag `latest`: pin an immutable image so that `{version}` keeps running the code its workflows started with",
                self.image
            ));
        }
        crate::term::note(&format!(
            "note: {}",
            enterprise_note(self.language, version)
        ));
        if let (true, true, Some(active)) = (self.auto_upgrade, self.no_activate, &self.previous) {
            crate::term::note(&format!(
                "note: `app.auto-upgrade: true`: `{version}` becomes DBOS's latest version when its first pod starts, and DBOS then moves `{active}`'s enqueued and delayed work to it at once (its running workflows after `auto_upgrade_grace_sec`), although the Service stays on `{active}`"
            ));
        }
    }
}

/// A version's image never changes, so a name already declared is refused.
fn refuse_existing(env: &EnvInput, version: &VersionName) -> Result<(), Error> {
    let Some(existing) = env
        .versions
        .versions
        .iter()
        .find(|declared| &declared.name == version)
    else {
        return Ok(());
    };
    let env_name = &env.name;
    Err(Error::refused(format!(
        "version `{version}` already exists in `{env_name}` (image `{}`)",
        existing.image
    ))
    .hint(format!(
        "a version's image never changes, so its running workflows keep their code: add the new image under a new name, or route to this one with `dbos-gitops version activate {version} --env {env_name}`"
    )))
}

/// What to run after `version add`: activate the version, or retire the older ones once drained.
fn next_step(
    version: &VersionName,
    env_name: &crate::declare::EnvName,
    older: &[VersionName],
    no_activate: bool,
) -> Option<String> {
    if no_activate {
        return Some(format!(
            "next: dbos-gitops version activate {version} --env {env_name}"
        ));
    }
    let (which, retiree) = match older {
        [] => return None,
        [only] => (format!("`{only}` has"), only.to_string()),
        _ => (
            format!(
                "{} have",
                older
                    .iter()
                    .map(|name| format!("`{name}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            "VERSION".to_string(),
        ),
    };
    Some(format!(
        "next: once {which} no workflows in flight, with `DBOS_SYSTEM_DATABASE_URL` set (or `--conductor-url URL`): dbos-gitops retire {retiree} --env {env_name}"
    ))
}

/// DBOS 3.x moved Conductor access into Transact Enterprise, and every app pod gets
/// `DBOS_CONDUCTOR_KEY`: an image without the enterprise package fails at launch (dbos 3.4.0
/// `_enterprise.py` raises "Connecting to DBOS Conductor requires the dbos-enterprise package").
pub fn enterprise_note(language: Language, version: &VersionName) -> String {
    let package = match language {
        Language::Python => "the `dbos-enterprise` package beside `dbos`",
        Language::Typescript => {
            "`@dbos-inc/dbos-enterprise` of the same minor version as `@dbos-inc/dbos-sdk`"
        }
        Language::Go => "a blank import of `go.dbos.dev/dbos-enterprise-go`",
    };
    format!(
        "the pods of `{version}` get `DBOS_CONDUCTOR_KEY`, and DBOS 3.x connects to Conductor only through Transact Enterprise: build the image with {package}, or its pods crash-loop at launch"
    )
}

/// Whether the image names a tag other than `latest`, or a digest.
fn image_is_pinned(image: &str) -> bool {
    if image.contains('@') {
        return true;
    }
    match image.rsplit_once(':') {
        Some((_, tag)) if !tag.contains('/') => tag != "latest",
        _ => false,
    }
}

/// `version activate`: moves the Service and the autoscaler, and for a rollback also DBOS's latest
/// version (see `dbos_versions`).
///
/// Order: everything that can be refused offline is decided and the plan is complete (hand-edited
/// files refused) before the database is touched; then the database update commits in one short
/// transaction; then the tree is written. If that write fails, DBOS already routes new work to
/// the version (an older one that still runs at least one pod), while Git still points the Service
/// at the other: the error says so and rerunning the same command finishes the job, since it
/// makes the version latest again (a no-op) and writes the tree. The other order would leave a
/// committed rollback whose DBOS work still goes to the version being rolled back from, which is
/// the failure this command exists to prevent.
pub fn activate(context: &Context, arguments: VersionActivateArgs) -> Result<i32, Error> {
    let mut ws = load_env(context, arguments.env.as_deref())?;
    let version = parse_version(&arguments.version)?;
    let activation = Activation::gather(ws.selected()?, version)?;
    let source = activation.source(&arguments)?;
    if !activation.is_newest && !activation.already_active {
        rollback_preconditions(
            ws.selected()?,
            &activation.version,
            activation.newest.as_ref(),
            source.is_some(),
            &arguments,
        )?;
    }
    let (version, env_name) = (&activation.version, &activation.env_name);
    if activation.already_active && source.is_none() {
        println!("`{version}` is already the active version of `{env_name}`; nothing to do");
        return Ok(0);
    }
    let plan = if activation.already_active {
        None
    } else {
        let mut versions = activation.versions.clone();
        versions.active = Some(version.clone());
        Some(plan_versions(&mut ws, &versions, false)?)
    };
    let dbos_line = activation.update_dbos(source.as_ref())?;
    let Some(plan) = plan else {
        println!(
            "`{version}` is already the active version of `{env_name}`; {}",
            dbos_line.unwrap_or_default()
        );
        return Ok(0);
    };
    activation.write(&ws, &plan, dbos_line.is_some())?;
    activation.report(&plan, dbos_line);
    activate_warnings(
        version,
        source.is_some(),
        arguments.traffic_only,
        activation.is_newest,
        activation.auto_upgrade,
    );
    Ok(0)
}

/// What `version activate` needs to know about the environment, read before anything changes.
struct Activation {
    env_name: crate::declare::EnvName,
    version: VersionName,
    /// The versions as declared now.
    versions: VersionsSpec,
    /// The active version before the change.
    previous: Option<VersionName>,
    already_active: bool,
    newest: Option<VersionName>,
    is_newest: bool,
    application_name: Option<String>,
    autoscaled: bool,
    auto_upgrade: bool,
}

impl Activation {
    /// The facts of the environment about `version`, which must be declared in it.
    fn gather(env: &EnvInput, version: VersionName) -> Result<Activation, Error> {
        declared(env, &version)?;
        let previous = env.versions.active.clone();
        let newest = env.versions.versions.last().map(|last| last.name.clone());
        Ok(Activation {
            env_name: env.name.clone(),
            already_active: previous.as_ref() == Some(&version),
            is_newest: newest.as_ref() == Some(&version),
            version,
            versions: env.versions.clone(),
            previous,
            newest,
            application_name: env.spec.app.name.clone(),
            autoscaled: env.spec.app.autoscaling.is_some(),
            auto_upgrade: env.spec.app.auto_upgrade,
        })
    }

    /// Where DBOS's versions are read and changed (the database or Conductor), unless
    /// `--traffic-only`.
    fn source(
        &self,
        arguments: &VersionActivateArgs,
    ) -> Result<Option<dbos_versions::Source>, Error> {
        if arguments.traffic_only {
            return Ok(None);
        }
        dbos_versions::Source::from_args(
            arguments.database_url.as_ref(),
            arguments.database_url_file.as_ref(),
            &arguments.conductor,
            &self.env_name,
            self.application_name.as_deref(),
        )
    }

    /// Makes the version DBOS's latest through `source`: the line saying what was done.
    fn update_dbos(&self, source: Option<&dbos_versions::Source>) -> Result<Option<String>, Error> {
        let Some(source) = source else {
            return Ok(None);
        };
        dbos_versions::activate_with(
            source,
            &self.version,
            self.application_name.as_deref(),
            self.env_name.as_str(),
            self.is_newest,
        )
        .map(Some)
    }

    /// Writes the tree; when DBOS was already changed, a failure says that the two disagree
    /// and how rerunning finishes the job.
    fn write(&self, ws: &Workspace, plan: &Plan, dbos_changed: bool) -> Result<(), Error> {
        let Err(error) = ws.commit(plan) else {
            return Ok(());
        };
        if !dbos_changed {
            return Err(error);
        }
        Err(Error::input(format!(
            "DBOS's latest version is now `{}`, but writing `{}` failed, so the Service still points at `{}`: {}",
            self.version,
            self.env_name,
            self.previous.as_ref().map_or_else(|| "no version".to_string(), |name| name.to_string()),
            error.report().trim_start_matches("error: ")
        ))
        .hint("fix the cause, then rerun the same command: it finds DBOS already on the version and writes the tree"))
    }

    /// After the write: where traffic (and DBOS's new work) goes now, and the files written.
    fn report(&self, plan: &Plan, dbos_line: Option<String>) {
        let routed = if self.autoscaled {
            "the Service and the autoscaler now point at it"
        } else {
            "the Service now points at it"
        };
        let dbos = dbos_line.map_or_else(String::new, |line| format!(", and {line}"));
        let (version, env_name) = (&self.version, &self.env_name);
        match &self.previous {
            Some(previous) => println!(
                "activated `{version}` in `{env_name}`: {routed}{dbos}; `{previous}` keeps running to finish its workflows"
            ),
            None => println!("activated `{version}` in `{env_name}`: {routed}{dbos}"),
        }
        print!("{}", plan.summary());
    }
}

/// A rollback (an older version) needs the database, or `--traffic-only`, and, under
/// auto-upgrade, `--force`.
fn rollback_preconditions(
    env: &EnvInput,
    version: &VersionName,
    newest: Option<&VersionName>,
    with_database: bool,
    arguments: &VersionActivateArgs,
) -> Result<(), Error> {
    let env_name = &env.name;
    if env.spec.app.auto_upgrade && !arguments.force {
        return Err(auto_upgrade_rollback_refusal(
            env_name.as_str(),
            version,
            env.versions.active.as_ref(),
        ));
    }
    if !with_database && !arguments.traffic_only {
        let newest = newest.map_or_else(String::new, |name| name.to_string());
        return Err(Error::refused(format!(
            "refusing to roll `{env_name}` back to `{version}` without the database: DBOS would keep sending enqueued work without a version and every scheduled workflow to its latest version (`{newest}` unless changed)"
        ))
        .hint(format!(
            "set `{}` (or pass `--database-url-file FILE`) to the DBOS system database url, or pass `--conductor-url URL` when the database is private, so `{version}` also becomes DBOS's latest version; or pass `--traffic-only` to move only the Service",
            dbos_versions::DATABASE_URL_ENV
        )));
    }
    Ok(())
}

/// What `activate` leaves DBOS doing when it did not touch DBOS's latest version.
fn activate_warnings(
    version: &VersionName,
    with_database: bool,
    traffic_only: bool,
    is_newest: bool,
    auto_upgrade: bool,
) {
    if !with_database && !traffic_only && is_newest {
        crate::term::warn(&format!(
            "warning: DBOS's latest application version was not checked: after a rollback made with the database it is still the older version, which keeps taking enqueued work without a version and every scheduled workflow{}; set `{}` (or pass `--database-url-file FILE`, or `--conductor-url URL`) and rerun to make `{version}` DBOS's latest",
            if auto_upgrade { ", and auto-upgrade moves work to it" } else { "" },
            dbos_versions::DATABASE_URL_ENV
        ));
    }
    if traffic_only && !is_newest {
        crate::term::warn(&format!(
            "warning: DBOS's latest version was not changed (`--traffic-only`): enqueued work without a version and scheduled workflows still go to it, not to `{version}`"
        ));
    }
}

/// Under Transact Enterprise's auto-upgrade DBOS moves every older version's ENQUEUED and
/// DELAYED work to its latest version at once, and PENDING work after the grace period: making
/// an older version latest again would move the newer version's work, running workflows
/// included, onto code older than the code that started them.
fn auto_upgrade_rollback_refusal(
    env: &str,
    version: &VersionName,
    previous: Option<&VersionName>,
) -> Error {
    let from = previous.map_or_else(
        || "the active version".to_string(),
        |name| format!("`{name}`"),
    );
    Error::refused(format!(
        "refusing to roll `{env}` back to `{version}`: env.yaml declares `app.auto-upgrade: true`, so once `{version}` is DBOS's latest, auto-upgrade moves {from}'s enqueued and delayed work onto `{version}`'s older code at once, and its running workflows after `auto_upgrade_grace_sec`"
    ))
    .hint(format!("fix forward with a new version (`dbos-gitops version add`), or rerun with `--force` if `{version}`'s code can finish the newer version's workflows"))
}

/// `version list`: the declared versions, or with a database url (or `--conductor-url`) also
/// what DBOS records about them (`dbos_versions::list`).
pub fn list(context: &Context, arguments: VersionListArgs) -> Result<i32, Error> {
    let ws = context.workspace(arguments.env.as_deref(), Mode::Read)?;
    let input = ws.selected()?;
    let application_name = input.spec.app.name.clone();
    let language = input.spec.app.language;
    let resolved = crate::workspace::resolve_env(ws.loaded(), input.name.as_str())?;
    let env = &resolved;
    let source = dbos_versions::Source::from_args(
        arguments.database_url.as_ref(),
        arguments.database_url_file.as_ref(),
        &arguments.conductor,
        &env.name,
        application_name.as_deref(),
    )?;
    if let Some(source) = &source {
        return dbos_versions::list(
            env,
            source,
            application_name.as_deref(),
            language,
            arguments.format,
        );
    }
    match arguments.format {
        ListFormat::Json => print_json(env),
        ListFormat::Text => print_text(env),
    }
    Ok(0)
}

/// `version list --format json`: the environment's active and newest versions and each version.
fn print_json(env: &Environment) {
    let versions: Vec<serde_json::Value> = env
        .versions
        .iter()
        .map(|version| {
            json!({
                "name": version.name.as_str(),
                "image": version.image,
                "active": version.active,
                "newest": env.newest.as_ref() == Some(&version.name),
                "autoscaled": version.replicas.is_none(),
                "replicas": version.replicas,
                "deployment": Environment::deployment_name(&version.name),
            })
        })
        .collect();
    let document = json!({
        "env": env.name.as_str(),
        "active": env.active.as_ref().map(VersionName::as_str),
        "newest": env.newest.as_ref().map(VersionName::as_str),
        "versions": versions,
    });
    // `{:#}` of a `Value` is serde_json's pretty form, the same as `to_string_pretty`, without
    // an error case to handle.
    println!("{document:#}");
}

/// `version list`: a table of the versions, or a hint to add the first.
fn print_text(env: &Environment) {
    if env.versions.is_empty() {
        println!("no application versions in `{}` yet", env.name);
        println!(
            "  hint: add one with `dbos-gitops version add v1 --env {} --image IMAGE`",
            env.name
        );
        return;
    }
    let yes_no = |flag: bool| if flag { "yes" } else { "no" };
    let mut rows = vec![[
        "VERSION".to_string(),
        "IMAGE".to_string(),
        "ACTIVE".to_string(),
        "AUTOSCALED".to_string(),
    ]];
    for version in &env.versions {
        rows.push([
            version.name.to_string(),
            version.image.clone(),
            yes_no(version.active).to_string(),
            yes_no(version.replicas.is_none()).to_string(),
        ]);
    }
    print!("{}", crate::table::format_table(&rows));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinned_images_have_a_tag_or_a_digest() {
        assert!(image_is_pinned("ghcr.io/acme/app:v2"));
        assert!(image_is_pinned("localhost:5000/app@sha256:abc"));
        assert!(!image_is_pinned("ghcr.io/acme/app"));
        assert!(!image_is_pinned("localhost:5000/app"));
        assert!(!image_is_pinned("ghcr.io/acme/app:latest"));
    }
}
