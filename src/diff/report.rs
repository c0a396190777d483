//! Two renderings of a diff: text for people, JSON for tools (versioned like `check`'s); the
//! third, Markdown for a pull request, is `super::markdown`. All of them print only what
//! [`super::compare`] already redacted.

use serde_json::{json, Value};

use super::compare::{ChangeKind, FieldChange, ObjectChange};

/// Bumped only on an incompatible change of the JSON shape (as `check`'s `version`).
pub const JSON_VERSION: u32 = 1;

fn scalar(value: &Option<Value>) -> String {
    match value {
        None => "(none)".to_string(),
        Some(Value::String(text)) if !text.contains('\n') && !text.is_empty() => text.clone(),
        Some(other) => serde_json::to_string(other).expect("json serialises"),
    }
}

/// One line per field: `path: old -> new`, `path: added`, or a re-seal by key name.
pub fn describe(field: &FieldChange) -> String {
    match field.change {
        "resealed" => {
            let key = field.path.rsplit('.').next().unwrap_or(&field.path);
            let parent = field
                .path
                .strip_prefix("spec.")
                .and_then(|rest| rest.rsplit_once('.'))
                .map(|(parent, _)| parent)
                .unwrap_or("encryptedData");
            format!("{parent}: `{key}` re-sealed (value not shown)")
        }
        "added" => match &field.new {
            Some(value @ (Value::Object(_) | Value::Array(_))) => {
                let _ = value;
                format!("{}: added", field.path)
            }
            value => format!("{}: added {}", field.path, scalar(value)),
        },
        "removed" => format!("{}: removed", field.path),
        _ => {
            let structural = |value: &Option<Value>| {
                matches!(value, Some(Value::Object(_) | Value::Array(_)))
                    || matches!(value, Some(Value::String(text)) if text.contains('\n'))
            };
            if structural(&field.old) || structural(&field.new) {
                format!("{}: changed (see the YAML diff)", field.path)
            } else {
                format!(
                    "{}: {} -> {}",
                    field.path,
                    scalar(&field.old),
                    scalar(&field.new)
                )
            }
        }
    }
}

fn summary(changes: &[ObjectChange]) -> (usize, usize, usize) {
    let count = |kind: ChangeKind| {
        changes
            .iter()
            .filter(|change| change.change == kind)
            .count()
    };
    (
        count(ChangeKind::Added),
        count(ChangeKind::Removed),
        count(ChangeKind::Changed),
    )
}

fn summary_line(changes: &[ObjectChange], revision: &str) -> String {
    if changes.is_empty() {
        return format!("no changes against `{revision}`");
    }
    let (added, removed, changed) = summary(changes);
    format!("{added} added, {removed} removed, {changed} changed against `{revision}`")
}

/// What happens to an environment whose directory is gone: the root Application prunes only
/// an Application marked for the cascade (`render::argocd`), so Argo CD keeps its Application
/// and everything it deployed.
pub fn removed_note(name: &str) -> String {
    format!(
        "environment `{name}` is removed from Git but stays running: the root Application prunes only an Application marked for the cascade, so Argo CD keeps Application/dbos-{name} and everything it deployed until that Application is deleted in the cluster, with or without its workloads (README, \"Removing an environment\")\n"
    )
}

/// What happens to an environment the cascade's step 2 removed (#24.7).
pub fn cascade_note(name: &str) -> String {
    format!(
        "environment `{name}` is removed by the cascade: the root Application prunes Application/dbos-{name} (marked Prune=true with the cascade finalizer in step 1) and Argo CD deletes everything it deployed; its AppProject destination stays until step 3 (README, \"Removing an environment\")\n"
    )
}

pub fn text(
    changes: &[ObjectChange],
    revision: &str,
    removed: &std::collections::BTreeSet<String>,
    cascading: &std::collections::BTreeSet<String>,
) -> String {
    let mut rows: Vec<[String; 4]> = Vec::new();
    for change in changes {
        let mut details = change.fields.iter().map(describe);
        rows.push([
            change.unit.clone(),
            change.id.label(),
            change.change.as_str().to_string(),
            details.next().unwrap_or_default(),
        ]);
        for detail in details {
            rows.push([String::new(), String::new(), String::new(), detail]);
        }
    }
    let mut out = crate::table::format_table(&rows);
    for change in changes {
        if let Some(diff) = &change.yaml_diff {
            out.push_str(&format!("\n{} {}:\n", change.unit, change.id.label()));
            for line in diff.lines() {
                out.push_str("    ");
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    if !changes.is_empty() {
        out.push('\n');
    }
    for name in removed {
        out.push_str(&removed_note(name));
    }
    for name in cascading {
        out.push_str(&cascade_note(name));
    }
    out.push_str(&summary_line(changes, revision));
    out.push('\n');
    out
}

pub fn json(changes: &[ObjectChange], revision: &str, commit: &str) -> Value {
    let (added, removed, changed) = summary(changes);
    json!({
        "version": JSON_VERSION,
        "revision": revision,
        "commit": commit,
        "changes": changes.iter().map(|change| json!({
            "unit": change.unit,
            "apiVersion": change.id.api_version,
            "kind": change.id.kind,
            "namespace": change.id.namespace,
            "name": change.id.name,
            "change": change.change.as_str(),
            "fields": change.fields.iter().map(|field| json!({
                "path": field.path,
                "change": field.change,
                "old": field.old,
                "new": field.new,
            })).collect::<Vec<_>>(),
            "diff": change.yaml_diff,
        })).collect::<Vec<_>>(),
        "summary": { "added": added, "removed": removed, "changed": changed },
    })
}
