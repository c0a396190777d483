//! `check`: every mistake in the repository that we can know about before the commit, found
//! offline. Argo CD only shows a wrong namespace, a missing key or a stale overlay after the
//! push, as a Degraded SealedSecret or a failed sync; this finds them on the laptop and in CI.
//!
//! The runner loads the repository once, resolves each environment on its own (one broken
//! environment does not hide the others' findings), then runs one family of checks per file in
//! this module. Every finding names a repository-relative file, says what is wrong, and carries
//! the fix as a hint. Codes are stable kebab-case ids: tools and the JSON output rely on them.
//! A check that could not run (no `kubectl`, an environment that does not resolve) is reported
//! as skipped, never as passed.
//!
//! Only `render` spawns processes (one `kubectl kustomize` per environment, in parallel
//! threads); everything else is in-process, so `check --no-render` of a hundred environments
//! costs less than one kustomize run.

pub mod cache;
mod certificates;
mod env_check;
mod finding;
mod generated;
pub mod inputs;
pub mod kubectl;
mod links;
pub mod plaintext;
pub mod pool;
mod render;
mod repo_url;
mod routing;
mod sealed;
mod sealed_objects;
mod secrets;
mod stack;
mod unreadable;
mod versions;

use std::fmt::Write as _;

use serde_json::{json, Value};

use crate::error::Error;
use crate::model::{EnvInput, Environment};
use crate::repo::LoadedRepo;

pub(crate) use env_check::EnvCheck;
/// Version of the `--format json` document; bumped only on incompatible changes.
pub use env_check::EXPIRY_WARNING_SECONDS;
pub use finding::{Finding, Severity};

pub const JSON_VERSION: u32 = 1;

#[derive(Clone, Debug)]
pub struct Options {
    /// Only this environment's checks (repository-wide checks always run).
    pub only_env: Option<String>,
    /// Run `kubectl kustomize` on every overlay (when `kubectl` is on PATH).
    pub render: bool,
    /// Reuse renders of unchanged environments (`check/cache.rs`); `--no-cache` turns it off.
    pub cache: bool,
    /// The current time, Unix seconds (certificate expiry).
    pub now_unix: i64,
}

#[derive(Debug, Default)]
pub struct Report {
    pub findings: Vec<Finding>,
}

/// Resolves each environment on its own (one broken environment does not hide the others'
/// findings); returns the selected ones with their model, and whether all of them resolve.
/// A version rule's finding stands for the resolve error it causes (the same words).
fn resolve_each<'a>(
    loaded: &'a LoadedRepo,
    failed: &[(String, Error)],
    options: &Options,
    findings: &mut Vec<Finding>,
) -> (Vec<(&'a EnvInput, Option<Environment>)>, bool) {
    let selected_name = |name: &str| options.only_env.as_deref().is_none_or(|only| only == name);
    let selected = |input: &EnvInput| selected_name(input.name.as_str());
    // Environments whose declarations did not load: one finding each, and nothing else of
    // theirs can be checked.
    for (name, error) in failed {
        if selected_name(name) {
            findings.push(load_finding(&loaded.root, name, error));
        }
    }
    let mut environments = Vec::new();
    let mut all_resolve = failed.is_empty();
    for input in &loaded.environments {
        let version_findings = versions::check_declarations(input);
        let declared_broken = version_findings
            .iter()
            .any(|finding| finding.severity == Severity::Error);
        let resolved = match crate::model::resolve(&loaded.spec, vec![input.clone()]) {
            Ok(mut repo) => repo.environments.pop(),
            Err(error) => {
                if !declared_broken && selected(input) {
                    findings.push(declaration_finding(input, &error));
                }
                None
            }
        };
        all_resolve &= resolved.is_some();
        if selected(input) {
            findings.extend(version_findings);
            environments.push((input, resolved));
        }
    }
    (environments, all_resolve)
}

/// Whether a link in the tracked tree leads out of the repository (then `run` reports only
/// those links).
pub fn leaves_repository(tree: &crate::workspace::Tree) -> Result<bool, Error> {
    Ok(links::refused(tree)?.is_some())
}

/// Runs every check and returns the findings in a stable order. `failed` are the environments
/// whose declarations did not load (`repo::load::load_repo_for_check`), reported as
/// `invalid-declaration` findings while the others are checked.
pub fn run(
    ws: &crate::workspace::Workspace,
    failed: &[(String, Error)],
    options: &Options,
) -> Result<Report, Error> {
    let loaded = ws.loaded();
    // Links out of the repository first: nothing else may read through them.
    if let Some(findings) = links::refused(ws.tree())? {
        return Ok(Report { findings });
    }
    let mut findings = repo_url::check(ws.tree(), &loaded.spec.repo_url);
    let (environments, all_resolve) = resolve_each(loaded, failed, options, &mut findings);

    // The two largest offline checks read the whole tree independently (the generated files
    // rendered and compared; every file scanned for plaintext): one on another thread.
    let tree = ws.tree();
    let (generated, plaintext) = std::thread::scope(|scope| {
        let plaintext =
            scope.spawn(|| plaintext::check(tree, options.only_env.as_deref(), &loaded.record));
        let generated = if all_resolve {
            generated::check(loaded, options.only_env.as_deref(), ws.writer_active())
        } else {
            Ok(vec![Finding::skipped(
                "generated-skipped",
                "",
                "generated-files check skipped: an environment does not resolve",
            )
            .hint("fix the environment's declaration errors first")])
        };
        let plaintext = plaintext
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (generated, plaintext)
    });
    findings.extend(generated?);
    let (plaintext_findings, known_files) = plaintext?;
    findings.extend(plaintext_findings);

    let mut checks = Vec::new();
    for (input, env) in environments {
        let dir = crate::layout::env_dir(&input.name);
        let (cert, cert_findings) = certificates::sealing_cert(ws, &dir, options.now_unix)?;
        findings.extend(cert_findings);
        let (sealed, sealed_findings) = sealed::load(ws, &dir, input)?;
        findings.extend(sealed_findings);
        checks.push(EnvCheck {
            input,
            env,
            dir,
            cert,
            sealed,
        });
    }
    for check in &checks {
        findings.extend(sealed::check(check));
        findings.extend(secrets::check(check));
        findings.extend(stack::check(check));
        findings.extend(routing::check(check));
        findings.extend(certificates::tls_cert(ws, check, options.now_unix)?);
        findings.extend(versions::check_generated(ws, check)?);
    }
    // The tree has been read: writers may go on while kubectl renders (`repo::lock`).
    ws.release_shared();
    findings.extend(render::check(
        ws.tree(),
        &checks,
        options.render,
        &findings,
        options.cache,
        known_files,
    ));

    findings.sort_by(|left, right| {
        (
            left.severity == Severity::Skipped,
            &left.file,
            left.code,
            &left.message,
        )
            .cmp(&(
                right.severity == Severity::Skipped,
                &right.file,
                right.code,
                &right.message,
            ))
    });
    findings.dedup();
    Ok(Report { findings })
}

/// A declaration that does not resolve: the finding's file, message and hint are the error's.
fn declaration_finding(input: &EnvInput, error: &Error) -> Finding {
    let location = error.location();
    let field = location
        .as_ref()
        .and_then(|location| location.field.clone());
    let (file, message) = match location {
        Some(location) if crate::layout::env_of(&location.file).is_some() => {
            (location.file, error.message())
        }
        _ => (crate::layout::env_file(&input.name), error.to_string()),
    };
    let hint = error
        .hint_text()
        .unwrap_or_else(|| "fix the declaration; `dbos-gitops build` shows the same error".into());
    let finding = Finding::error("invalid-declaration", file, message).hint(hint);
    match field {
        Some(field) => finding.field(field),
        None => finding,
    }
}

/// A declaration that does not load (YAML that does not parse, a misspelt or mistyped key, a
/// file that cannot be read or is not UTF-8): `invalid-declaration` at its file (and the
/// parser's line, column and field). `None` for any other error (the record): `check` could
/// not run.
pub fn declaration_load_finding(root: &std::path::Path, error: &Error) -> Option<Finding> {
    let is_declaration =
        |file: &str| file == crate::layout::REPO_FILE || crate::layout::env_of(file).is_some();
    if let Some(finding) = unreadable::finding(root, error) {
        return is_declaration(&finding.file).then_some(finding);
    }
    if !matches!(error, Error::Declare(_) | Error::Declaration { .. }) {
        return None;
    }
    let location = error.location()?;
    is_declaration(&location.file).then(|| located_finding(location, error))
}

/// `invalid-declaration` for environment `name`'s declarations that did not load, or could
/// not be read.
fn load_finding(root: &std::path::Path, name: &str, error: &Error) -> Finding {
    if let Some(finding) = unreadable::finding(root, error) {
        return finding;
    }
    match error.location() {
        Some(location) if crate::layout::env_of(&location.file).is_some() => {
            located_finding(location, error)
        }
        _ => Finding::error(
            "invalid-declaration",
            crate::layout::env_dir(name),
            error.to_string(),
        )
        .hint(load_hint(error)),
    }
}

fn located_finding(location: crate::error::Location, error: &Error) -> Finding {
    let mut finding = Finding::error("invalid-declaration", location.file, error.message())
        .hint(load_hint(error));
    finding.field = location.field;
    finding.line = location.line;
    finding.column = location.column;
    finding
}

fn load_hint(error: &Error) -> String {
    error
        .hint_text()
        .unwrap_or_else(|| "fix the declaration; `dbos-gitops build` shows the same error".into())
}

impl Report {
    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|finding| finding.severity == severity)
            .count()
    }

    /// Exit 1 on errors, and with `strict` on warnings and on a render that could not run
    /// (no kubectl, kubectl failed to start): `--strict` promises the renders were checked.
    /// A render skipped on request (`--no-render`) is not a failure.
    pub fn exit_code(&self, strict: bool) -> i32 {
        let unrendered = self.findings.iter().any(|finding| {
            finding.code == "render-skipped" && !finding.message.ends_with("--no-render")
        });
        let failing = self.count(Severity::Error) > 0
            || (strict && (self.count(Severity::Warning) > 0 || unrendered));
        i32::from(failing)
    }

    /// One block per finding (`file: message`, then `  hint: ...`), then the summary line.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for finding in &self.findings {
            if finding.severity == Severity::Skipped {
                continue;
            }
            let prefix = if finding.file.is_empty() {
                String::new()
            } else {
                format!("{}: ", finding.place())
            };
            let severity = match finding.severity {
                Severity::Warning => "warning: ",
                _ => "",
            };
            let _ = writeln!(out, "{prefix}{severity}{}", finding.message);
            if let Some(hint) = &finding.hint {
                let _ = writeln!(out, "  hint: {hint}");
            }
        }
        let plural = |count: usize, word: &str| {
            format!("{count} {word}{}", if count == 1 { "" } else { "s" })
        };
        let mut summary = format!(
            "{}, {}",
            plural(self.count(Severity::Error), "error"),
            plural(self.count(Severity::Warning), "warning")
        );
        for finding in &self.findings {
            if finding.severity == Severity::Skipped {
                let _ = write!(summary, "; {}", finding.message);
            }
        }
        let _ = writeln!(out, "{summary}");
        out
    }

    /// The stable `--format json` document (see README: "check output").
    pub fn json(&self) -> Value {
        let findings: Vec<Value> = self
            .findings
            .iter()
            .map(|finding| {
                let mut object = json!({
                    "severity": finding.severity.as_str(),
                    "code": finding.code,
                    "file": finding.file,
                    "message": finding.message,
                    "hint": finding.hint,
                });
                // Added in JSON version 1 without a bump: an optional key, present when known.
                if let Some(field) = &finding.field {
                    object["field"] = json!(field);
                }
                // Also optional: where in `file`, when the parser said.
                if finding.line > 0 {
                    object["line"] = json!(finding.line);
                    object["column"] = json!(finding.column);
                }
                object
            })
            .collect();
        let skipped: Vec<&str> = self
            .findings
            .iter()
            .filter(|finding| finding.severity == Severity::Skipped)
            .map(|finding| finding.code)
            .collect();
        json!({
            "version": JSON_VERSION,
            "findings": findings,
            "summary": {
                "errors": self.count(Severity::Error),
                "warnings": self.count(Severity::Warning),
                "skipped": skipped,
            }
        })
    }
}
