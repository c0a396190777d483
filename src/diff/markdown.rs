//! `diff --format markdown`: a pull-request comment that reads first what it says at a glance.
//!
//! Shaped after the two review bots people know (read in their sources, nothing copied):
//! argocd-diff-preview (`pkg/diff/markdown.go`) puts a summary of added, modified and deleted
//! applications first, then one collapsible `<details>` block per application with a fenced
//! `diff`, the whole manifest `+`-prefixed for an added one and `-`-prefixed for a deleted one,
//! and caps the file at `--max-diff-length` (65 536 characters by default) with a warning that
//! says it was truncated; Atlantis (`server/events/vcs/github/client.go`) takes GitHub's
//! comment limit to be 65 536 characters and wraps each plan's output in `<details>` under a
//! one-line summary. Here, in that order:
//!
//! 1. a hidden marker ([`MARKER`]) a CI job finds its own comment by, to update it in place;
//! 2. the counts of environments and objects added, changed and removed;
//! 3. what keeps running although Git no longer has it (a removed environment);
//! 4. one table row per object with a short change (digests shortened, at most
//!    [`FIELDS_IN_ROW`] fields, no JSON): it must fit GitHub's column;
//! 5. one `<details>` block per object whose change is more than the row says: the YAML diff,
//!    or the whole object for an added or removed one; every object is redacted
//!    (`compare::redact`), so no ciphertext or Secret value can appear.
//!
//! The whole text stays under the cap (in bytes, so under as many characters too): table rows
//! and then details blocks that do not fit are left out, and a note after the summary says how
//! many, and which command prints everything.

use std::fmt::Write as _;

use serde_json::Value;

use super::compare::{ChangeKind, FieldChange, ObjectChange};
use super::content::{env_name, Environments, Objects};

/// The hidden first line a CI job finds its sticky comment by.
pub const MARKER: &str = "<!-- dbos-gitops diff -->";
/// GitHub refuses an issue or pull-request comment longer than this (characters).
pub const GITHUB_LIMIT: usize = 65_536;
/// The default cap: GitHub's limit less room for a job's own additions.
pub const DEFAULT_CAP: usize = 60_000;
/// Removed environments named in the warning; the rest are counted.
const NAMED_REMOVED: usize = 10;
/// Fields named in a changed object's row; the rest are in its details block.
pub const FIELDS_IN_ROW: usize = 3;

/// Everything one Markdown report is made of.
pub struct Review<'a> {
    pub changes: &'a [ObjectChange],
    pub revision: &'a str,
    pub objects: &'a Objects,
    pub environments: &'a Environments,
    /// The most bytes the report may have.
    pub cap: usize,
}

pub fn render(review: &Review<'_>) -> String {
    let mut head = format!(
        "{MARKER}\n### dbos-gitops diff against {}\n\n",
        code(review.revision)
    );
    if review.changes.is_empty() {
        head.push_str("No changes: Argo CD would apply the same objects.\n");
        return head;
    }
    head.push_str(&summary(review));
    if !review.environments.removed.is_empty() {
        head.push_str(&removed_warning(&review.environments.removed));
    }
    let table_head = "\n| environment | object | change | what changes |\n|---|---|---|---|\n";
    let rows: Vec<String> = review.changes.iter().map(|c| row(review, c)).collect();
    let sections: Vec<String> = review
        .changes
        .iter()
        .filter_map(|change| section(review, change))
        .collect();
    let reserve = notice(review, usize::MAX / 2, usize::MAX / 2, usize::MAX / 2).len();
    let mut used = head.len() + table_head.len() + reserve;
    let mut table = String::new();
    let mut rows_left_out = 0;
    for row in &rows {
        if rows_left_out == 0 && used + row.len() <= review.cap {
            used += row.len();
            table.push_str(row);
        } else {
            rows_left_out += 1;
        }
    }
    let mut details = String::new();
    let mut sections_left_out = 0;
    for section in &sections {
        if used + section.len() <= review.cap {
            used += section.len();
            details.push_str(section);
        } else {
            sections_left_out += 1;
        }
    }
    if rows_left_out + sections_left_out > 0 {
        head.push_str(&notice(
            review,
            rows_left_out,
            sections_left_out,
            sections.len(),
        ));
    }
    format!("{head}{table_head}{table}{details}")
}

/// Counts first: environments (as a whole) and objects, added, changed, removed.
fn summary(review: &Review<'_>) -> String {
    let count = |kind: ChangeKind| {
        review
            .changes
            .iter()
            .filter(|change| change.change == kind)
            .count()
    };
    let environments = &review.environments;
    let mut touched: Vec<&str> = review
        .changes
        .iter()
        .filter_map(|change| env_name(&change.unit))
        .collect();
    touched.dedup();
    let changed = touched
        .iter()
        .filter(|name| {
            !environments.added.contains(**name) && !environments.removed.contains(**name)
        })
        .count();
    format!(
        "| | added | changed | removed |\n|---|---:|---:|---:|\n\
         | environments | {} | {changed} | {} |\n| objects | {} | {} | {} |\n",
        environments.added.len(),
        environments.removed.len(),
        count(ChangeKind::Added),
        count(ChangeKind::Changed),
        count(ChangeKind::Removed),
    )
}

/// What really happens to an environment whose directory is gone (the root Application prunes
/// only an Application marked for the cascade, `render::argocd`): one block, naming at most [`NAMED_REMOVED`] of them.
fn removed_warning(names: &std::collections::BTreeSet<String>) -> String {
    let mut listed: Vec<String> = names.iter().take(NAMED_REMOVED).map(|n| code(n)).collect();
    if names.len() > NAMED_REMOVED {
        listed.push(format!("{} more", names.len() - NAMED_REMOVED));
    }
    let (subject, application) = match names.iter().next() {
        Some(name) if names.len() == 1 => (
            format!("Environment {} is", listed.join(", ")),
            format!("`Application/dbos-{name}`"),
        ),
        _ => (
            format!("Environments {} are", listed.join(", ")),
            "their Applications (`Application/dbos-NAME`)".to_string(),
        ),
    };
    format!(
        "\n> [!WARNING]\n> {subject} removed from Git but **stays running**: the root \
         Application prunes only an Application marked for the cascade, so Argo CD keeps \
         {application} and everything deployed \
         until the Application is deleted in the cluster, with or without its workloads \
         (README, \"Removing an environment\"; `dbos-gitops env remove` prints the steps while \
         the environment is still there).\n"
    )
}

fn notice(review: &Review<'_>, rows: usize, sections: usize, all_sections: usize) -> String {
    format!(
        "\n> [!NOTE]\n> Capped at {} characters for a pull-request comment: {rows} of {} objects \
         not listed, {sections} of {all_sections} details left out. The whole diff: \
         `dbos-gitops diff {}` (`--format json` for tools).\n",
        review.cap,
        review.changes.len(),
        review.revision.replace('`', "'")
    )
}

/// `environments/prod` is `prod`; `argocd` is `argocd/`.
fn unit_label(unit: &str) -> String {
    env_name(unit).map_or_else(|| format!("{unit}/"), str::to_string)
}

fn row(review: &Review<'_>, change: &ObjectChange) -> String {
    let what = match change.change {
        ChangeKind::Added => "new".to_string(),
        ChangeKind::Removed => removed_effect(review, change),
        ChangeKind::Changed => {
            let mut parts: Vec<String> = change
                .fields
                .iter()
                .take(FIELDS_IN_ROW)
                .map(field)
                .collect();
            if change.fields.len() > FIELDS_IN_ROW {
                parts.push(format!("and {} more", change.fields.len() - FIELDS_IN_ROW));
            }
            parts.join("<br>")
        }
    };
    format!(
        "| {} | {} | {} | {what} |\n",
        code(&unit_label(&change.unit)),
        code(&change.id.label()),
        change.change.as_str()
    )
}

/// What Argo CD does about a removed object: an environment's Application prunes it; the root
/// Application prunes nothing; a removed environment's objects stay with its Application.
fn removed_effect(review: &Review<'_>, change: &ObjectChange) -> String {
    match env_name(&change.unit) {
        Some(name) if review.environments.removed.contains(name) => {
            "stays running (environment removed, see above)".to_string()
        }
        Some(name) if review.environments.cascading.contains(name) => {
            "deleted by Argo CD (the cascade)".to_string()
        }
        Some(_) => "pruned by Argo CD on sync".to_string(),
        // The root prunes only an Application marked for the cascade (#24.7).
        None if cascading_application(review, change) => {
            "pruned by the root; Argo CD deletes what it deployed (the cascade)".to_string()
        }
        None => {
            "stays in the cluster (the root prunes only what is marked for the cascade)".to_string()
        }
    }
}

/// `Application/dbos-NAME` of an environment the cascade removes.
fn cascading_application(review: &Review<'_>, change: &ObjectChange) -> bool {
    change.id.kind == "Application"
        && change
            .id
            .name
            .strip_prefix("dbos-")
            .is_some_and(|name| review.environments.cascading.contains(name))
}

/// One field in a table cell: path and values shortened, in code spans.
fn field(change: &FieldChange) -> String {
    let path = short_path(&change.path);
    match change.change {
        "resealed" => {
            let key = change.path.rsplit('.').next().unwrap_or(&change.path);
            format!("{} re-sealed", code(key))
        }
        "added" => match change.new.as_ref().and_then(scalar) {
            Some(value) => format!("{} = {}", code(&path), code(&short_value(&value))),
            None => format!("{} added", code(&path)),
        },
        "removed" => format!("{} removed", code(&path)),
        _ => match (
            change.old.as_ref().and_then(scalar),
            change.new.as_ref().and_then(scalar),
        ) {
            (Some(old), Some(new)) => format!(
                "{}: {} → {}",
                code(&path),
                code(&short_value(&old)),
                code(&short_value(&new))
            ),
            _ => format!("{} changed", code(&path)),
        },
    }
}

/// A single-line string, number, boolean or null, as text; a string holding JSON (an
/// annotation of digests) is not one.
fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(text)
            if !text.contains('\n') && !text.starts_with('{') && !text.starts_with('[') =>
        {
            Some(text.clone())
        }
        Value::Object(_) | Value::Array(_) | Value::String(_) => None,
        other => Some(other.to_string()),
    }
}

/// A value that fits a cell: runs of 20 or more hex digits (digests, image ids) cut to 12, and
/// anything longer than 48 characters cut to 45.
pub fn short_value(text: &str) -> String {
    let mut out = String::new();
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.len() >= 20 {
            out.push_str(&run[..12]);
            out.push('…');
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for character in text.chars() {
        if character.is_ascii_hexdigit() {
            run.push(character);
        } else {
            flush(&mut run, &mut out);
            out.push(character);
        }
    }
    flush(&mut run, &mut out);
    if out.chars().count() > 48 {
        let kept: String = out.chars().take(45).collect();
        return format!("{kept}…");
    }
    out
}

/// A field path that fits a cell: past 56 characters, the first segment, `…`, and the longest
/// tail of whole segments that keeps it under 50.
fn short_path(path: &str) -> String {
    if path.chars().count() <= 56 {
        return path.to_string();
    }
    let first = path.split('.').next().unwrap_or(path);
    let tail = path
        .char_indices()
        .filter(|(_, character)| *character == '.')
        .map(|(at, _)| &path[at + 1..])
        .find(|tail| first.chars().count() + tail.chars().count() + 3 <= 50);
    match tail {
        Some(tail) => format!("{first}.….{tail}"),
        None => short_value(path),
    }
}

/// A code span a table cell cannot break: no backtick inside, pipes escaped.
fn code(text: &str) -> String {
    format!("`{}`", text.replace('`', "'").replace('|', "\\|"))
}

fn html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The collapsible block of one change, when there is more than its row shows.
fn section(review: &Review<'_>, change: &ObjectChange) -> Option<String> {
    let body = match change.change {
        ChangeKind::Changed => match &change.yaml_diff {
            Some(diff) => diff.clone(),
            None if change.fields.len() > FIELDS_IN_ROW || change.fields.iter().any(elided) => {
                all_fields(change)
            }
            None => return None,
        },
        ChangeKind::Added | ChangeKind::Removed => {
            let object = review
                .objects
                .get(&(change.unit.clone(), change.id.clone()))?;
            let sign = if change.change == ChangeKind::Added {
                '+'
            } else {
                '-'
            };
            crate::yaml::emit(object)
                .lines()
                .map(|line| format!("{sign}{line}\n"))
                .collect()
        }
    };
    let fence = "`".repeat(longest_backtick_run(&body).max(2) + 1);
    let mut out = String::new();
    let _ = write!(
        out,
        "\n<details><summary><code>{}</code> {}: {}</summary>\n\n{fence}diff\n{}",
        html(&unit_label(&change.unit)),
        html(&change.id.label()),
        change.change.as_str(),
        body
    );
    if !body.ends_with('\n') {
        out.push('\n');
    }
    let _ = write!(out, "{fence}\n\n</details>\n");
    Some(out)
}

/// Whether a field's cell leaves part of its values out.
fn elided(field: &FieldChange) -> bool {
    let whole = |value: &Option<Value>| match value.as_ref() {
        None => true,
        Some(value) => scalar(value).is_some_and(|text| short_value(&text) == text),
    };
    field.change != "resealed" && !(whole(&field.old) && whole(&field.new))
}

/// Every field of a change with only scalar fields, one per line.
fn all_fields(change: &ObjectChange) -> String {
    change
        .fields
        .iter()
        .map(|field| format!(" {}\n", super::report::describe(field)))
        .collect()
}

fn longest_backtick_run(text: &str) -> usize {
    let mut longest = 0;
    let mut run = 0;
    for character in text.chars() {
        run = if character == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    longest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_and_long_values_are_shortened() {
        let digest = "a".repeat(64);
        assert_eq!(short_value(&digest), format!("{}…", "a".repeat(12)));
        let image = format!("ghcr.io/acme/app@sha256:{}", "0123456789abcdef".repeat(4));
        assert_eq!(short_value(&image), "ghcr.io/acme/app@sha256:0123456789ab…");
        assert_eq!(short_value("v2"), "v2");
        let long = "x".repeat(100);
        assert_eq!(short_value(&long).chars().count(), 46);
    }

    #[test]
    fn long_paths_keep_their_ends() {
        let path = "spec.template.metadata.annotations.dbos-gitops.io/secrets-sha256";
        assert_eq!(
            short_path(path),
            "spec.….annotations.dbos-gitops.io/secrets-sha256"
        );
        assert_eq!(short_path("spec.replicas"), "spec.replicas");
    }

    #[test]
    fn the_cap_holds_however_many_objects_and_environments_go() {
        use super::super::compare::ObjectId;
        let mut environments = Environments::default();
        let mut changes = Vec::new();
        for env in 0..50 {
            environments.removed.insert(format!("env-{env:02}"));
            for object in 0..60 {
                changes.push(ObjectChange {
                    unit: format!("environments/env-{env:02}"),
                    id: ObjectId {
                        kind: "ConfigMap".into(),
                        name: format!("config-{object:03}"),
                        namespace: format!("dbos-env-{env:02}"),
                        api_version: "v1".into(),
                    },
                    change: ChangeKind::Removed,
                    fields: Vec::new(),
                    yaml_diff: None,
                });
            }
        }
        for cap in [2000, 10_000, DEFAULT_CAP] {
            let text = render(&Review {
                changes: &changes,
                revision: "origin/main",
                objects: &Objects::new(),
                environments: &environments,
                cap,
            });
            assert!(text.len() <= cap, "{} > {cap}", text.len());
            assert!(
                text.contains("`env-09`, 40 more are removed from Git"),
                "{text}"
            );
            let listed = text.matches("| `ConfigMap/").count();
            assert!(text.contains(&format!("{} of 3000 objects not listed", 3000 - listed)));
        }
    }

    #[test]
    fn code_spans_cannot_break_a_cell() {
        assert_eq!(code("a|b`c"), "`a\\|b'c`");
        assert_eq!(longest_backtick_run("x ```` y ``"), 4);
    }
}
