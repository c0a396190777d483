//! Matching rendered objects and describing what changed, with secret values kept out.
//!
//! Objects are matched by apiVersion, kind, namespace and name within their unit (an
//! environment directory or `argocd`), as Argo CD tracks them. Changes are computed on the real
//! values; what a report may print goes through [`redact`], which replaces every SealedSecret
//! `encryptedData` value (and `spec.template.data`, and every annotation of its template) and
//! every value of a plain `Secret`'s `data`/`stringData` (and every annotation) with a fixed
//! marker.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// What printing a secret value is replaced with.
pub const SEALED_MARKER: &str = "(sealed value not shown)";
pub const SECRET_MARKER: &str = "(secret value not shown)";

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ObjectId {
    pub kind: String,
    pub name: String,
    pub namespace: String,
    pub api_version: String,
}

impl ObjectId {
    pub fn of(object: &Value) -> ObjectId {
        let text = |value: Option<&Value>| value.and_then(Value::as_str).unwrap_or("").to_string();
        let metadata = object.get("metadata");
        ObjectId {
            kind: text(object.get("kind")),
            name: text(metadata.and_then(|metadata| metadata.get("name"))),
            namespace: text(metadata.and_then(|metadata| metadata.get("namespace"))),
            api_version: text(object.get("apiVersion")),
        }
    }

    /// `Kind/name`: an environment's objects share its namespace (the JSON report has it).
    pub fn label(&self) -> String {
        format!("{}/{}", self.kind, self.name)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeKind {
    Added,
    Removed,
    Changed,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Added => "added",
            ChangeKind::Removed => "removed",
            ChangeKind::Changed => "changed",
        }
    }
}

/// One changed field of a changed object. `old`/`new` are already redacted.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldChange {
    pub path: String,
    /// `changed`, `added`, `removed`, or `resealed` (a sealed value, never shown).
    pub change: &'static str,
    pub old: Option<Value>,
    pub new: Option<Value>,
}

#[derive(Clone, Debug)]
pub struct ObjectChange {
    pub unit: String,
    pub id: ObjectId,
    pub change: ChangeKind,
    pub fields: Vec<FieldChange>,
    /// A unified diff of the redacted YAML when the change is more than scalar fields.
    pub yaml_diff: Option<String>,
}

/// Every added, removed and changed object, units in order (environments first, `argocd`
/// last), objects by kind, name, namespace, apiVersion.
pub fn compare(
    before: &BTreeMap<String, Vec<Value>>,
    after: &BTreeMap<String, Vec<Value>>,
    context: usize,
    revision: &str,
) -> Vec<ObjectChange> {
    let mut units: Vec<&String> = before.keys().chain(after.keys()).collect();
    units.sort_by_key(|unit| (unit.as_str() == "argocd", unit.as_str()));
    units.dedup();
    let empty = Vec::new();
    let mut changes = Vec::new();
    for unit in units {
        let old = index(before.get(unit).unwrap_or(&empty));
        let new = index(after.get(unit).unwrap_or(&empty));
        let mut ids: Vec<&ObjectId> = old.keys().chain(new.keys()).collect();
        ids.sort();
        ids.dedup();
        for id in ids {
            let change = match (old.get(id), new.get(id)) {
                (None, Some(_)) => ObjectChange {
                    unit: unit.clone(),
                    id: id.clone(),
                    change: ChangeKind::Added,
                    fields: Vec::new(),
                    yaml_diff: None,
                },
                (Some(_), None) => ObjectChange {
                    unit: unit.clone(),
                    id: id.clone(),
                    change: ChangeKind::Removed,
                    fields: Vec::new(),
                    yaml_diff: None,
                },
                (Some(old), Some(new)) if old != new => {
                    let sealed = id.kind == "SealedSecret";
                    let mut fields = Vec::new();
                    field_changes(old, new, &mut Vec::new(), sealed, &id.kind, &mut fields);
                    let structural = fields.iter().any(|field| {
                        field.change != "resealed"
                            && !(is_scalar(&field.old) && is_scalar(&field.new))
                    });
                    let yaml_diff = structural.then(|| {
                        let old = crate::yaml::emit(&redact(old));
                        let new = crate::yaml::emit(&redact(new));
                        similar::TextDiff::from_lines(&old, &new)
                            .unified_diff()
                            .context_radius(context)
                            .header(
                                &format!("{unit} at {revision}"),
                                &format!("{unit} in the work tree"),
                            )
                            .to_string()
                    });
                    ObjectChange {
                        unit: unit.clone(),
                        id: id.clone(),
                        change: ChangeKind::Changed,
                        fields,
                        yaml_diff,
                    }
                }
                _ => continue,
            };
            changes.push(change);
        }
    }
    changes
}

fn index(objects: &[Value]) -> BTreeMap<ObjectId, &Value> {
    objects
        .iter()
        .map(|object| (ObjectId::of(object), object))
        .collect()
}

/// A single-line string, number, boolean or null: printable as `old -> new`.
fn is_scalar(value: &Option<Value>) -> bool {
    match value {
        None => false,
        Some(Value::String(text)) => !text.contains('\n'),
        Some(Value::Array(_) | Value::Object(_)) => false,
        Some(_) => true,
    }
}

/// Is the value at `path` (keys from the object's root) a secret value of an object of `kind`?
/// Every annotation of a Secret and of a SealedSecret's template counts (#23): the template's
/// annotations are copied to the Secret in plain text, and `last-applied-configuration` (or an
/// annotation someone filled by hand) can hold the very values sealed beside it.
fn secret_path(kind: &str, path: &[String]) -> Option<&'static str> {
    let path: Vec<&str> = path.iter().map(String::as_str).collect();
    match (kind, path.as_slice()) {
        ("SealedSecret", ["spec", "encryptedData", _]) => Some(SEALED_MARKER),
        ("SealedSecret", ["spec", "template", "data", _]) => Some(SEALED_MARKER),
        ("SealedSecret", ["spec", "template", "metadata", "annotations", _]) => Some(SECRET_MARKER),
        ("Secret", ["data" | "stringData", _]) => Some(SECRET_MARKER),
        ("Secret", ["metadata", "annotations", _]) => Some(SECRET_MARKER),
        _ => None,
    }
}

/// A changed sealed value is reported as re-sealed; any other secret value as changed.
fn resealed(path: &[String]) -> bool {
    matches!(
        path.iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice(),
        ["spec", "encryptedData", _] | ["spec", "template", "data", _]
    )
}

fn field_changes(
    old: &Value,
    new: &Value,
    path: &mut Vec<String>,
    sealed: bool,
    kind: &str,
    out: &mut Vec<FieldChange>,
) {
    if old == new {
        return;
    }
    if let Some(marker) = secret_path(kind, path) {
        out.push(FieldChange {
            path: path.join("."),
            change: if sealed && resealed(path) {
                "resealed"
            } else {
                "changed"
            },
            old: Some(Value::String(marker.to_string())),
            new: Some(Value::String(marker.to_string())),
        });
        return;
    }
    match (old, new) {
        (Value::Object(old), Value::Object(new)) => {
            let mut keys: Vec<&String> = old.keys().chain(new.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                path.push(key.clone());
                match (old.get(key), new.get(key)) {
                    (Some(old), Some(new)) => field_changes(old, new, path, sealed, kind, out),
                    (old, new) => out.push(FieldChange {
                        path: path.join("."),
                        change: if old.is_none() { "added" } else { "removed" },
                        old: old.map(|value| redact_at(kind, path, value)),
                        new: new.map(|value| redact_at(kind, path, value)),
                    }),
                }
                path.pop();
            }
        }
        (Value::Array(old_items), Value::Array(new_items))
            if old_items.len() == new_items.len() =>
        {
            for (position, (old, new)) in old_items.iter().zip(new_items).enumerate() {
                let last = path.pop().unwrap_or_default();
                path.push(format!("{last}[{position}]"));
                field_changes(old, new, path, sealed, kind, out);
                path.pop();
                path.push(last);
            }
        }
        _ => out.push(FieldChange {
            path: path.join("."),
            change: "changed",
            old: Some(redact_at(kind, path, old)),
            new: Some(redact_at(kind, path, new)),
        }),
    }
}

/// `value` found at `path` of an object of `kind`, with secret values inside it replaced.
fn redact_at(kind: &str, path: &[String], value: &Value) -> Value {
    if let Some(marker) = secret_path(kind, path) {
        return Value::String(marker.to_string());
    }
    match value {
        Value::Object(map) => {
            let mut out = Map::new();
            for (key, inner) in map {
                let mut inner_path = path.to_vec();
                inner_path.push(key.clone());
                out.insert(key.clone(), redact_at(kind, &inner_path, inner));
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

/// The object with every secret value replaced by a marker: what reports may print.
pub fn redact(object: &Value) -> Value {
    let kind = object.get("kind").and_then(Value::as_str).unwrap_or("");
    redact_at(kind, &[], object)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn one(objects: Vec<Value>) -> BTreeMap<String, Vec<Value>> {
        BTreeMap::from([("environments/prod".to_string(), objects)])
    }

    #[test]
    fn scalar_change_has_a_dotted_path_through_label_keys() {
        let old = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "dbos-app"},
            "spec": {"selector": {"app.kubernetes.io/version": "v1"}}});
        let mut new = old.clone();
        new["spec"]["selector"]["app.kubernetes.io/version"] = json!("v2");
        let changes = compare(&one(vec![old]), &one(vec![new]), 3, "HEAD");
        assert_eq!(changes.len(), 1);
        assert_eq!(
            changes[0].fields[0].path,
            "spec.selector.app.kubernetes.io/version"
        );
        assert_eq!(changes[0].fields[0].new, Some(json!("v2")));
        assert!(changes[0].yaml_diff.is_none());
    }

    #[test]
    fn template_and_secret_annotations_are_never_printed() {
        let applied = r#"{"stringData":{"url":"canary-applied"}}"#;
        let old = json!({"apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret",
            "metadata": {"name": "db", "annotations": {"team": "core"}},
            "spec": {"encryptedData": {"url": "AAAA"}, "template": {"metadata": {}}}});
        let mut new = old.clone();
        new["spec"]["template"]["metadata"]["annotations"] = json!({
            "kubectl.kubernetes.io/last-applied-configuration": applied,
            "note": "canary-note"});
        let secret = json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "s", "annotations": {"hand": "canary-hand"}}});
        let changes = compare(
            &one(vec![old.clone()]),
            &one(vec![new.clone(), secret]),
            3,
            "HEAD",
        );
        let mut printed = format!("{changes:?}");
        printed.push_str(&crate::yaml::emit(&redact(&new)));
        for secret in ["canary-applied", "canary-note", "canary-hand"] {
            assert!(!printed.contains(secret), "{secret} leaked: {printed}");
        }
        // Not a re-seal, and the SealedSecret's own annotations are not secret.
        assert!(changes[0]
            .fields
            .iter()
            .all(|field| field.change != "resealed"));
        assert_eq!(redact(&old)["metadata"]["annotations"]["team"], "core");
    }

    #[test]
    fn resealed_and_secret_values_are_never_in_a_change() {
        let old = json!({"apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret",
            "metadata": {"name": "db"}, "spec": {"encryptedData": {"url": "AAAA"}}});
        let mut new = old.clone();
        new["spec"]["encryptedData"]["url"] = json!("BBBB");
        new["spec"]["encryptedData"]["other"] = json!("CCCC");
        let secret_old = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
            "stringData": {"k": "canary-one"}});
        let secret_new = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
            "stringData": {"k": "canary-two"}, "data": {"j": "Y2FuYXJ5"}});
        let changes = compare(
            &one(vec![old, secret_old]),
            &one(vec![new, secret_new]),
            3,
            "HEAD",
        );
        let printed = format!("{changes:?}");
        for secret in ["AAAA", "BBBB", "CCCC", "canary", "Y2FuYXJ5"] {
            assert!(!printed.contains(secret), "{secret} leaked: {printed}");
        }
        let sealed = changes
            .iter()
            .find(|change| change.id.kind == "SealedSecret")
            .unwrap();
        assert!(sealed
            .fields
            .iter()
            .any(|field| field.path == "spec.encryptedData.url" && field.change == "resealed"));
    }
}
