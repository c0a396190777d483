//! JSON Schemas (draft 2020-12) of the declaration files (env.yaml, dbos-gitops.yaml, and the
//! tool-maintained versions.yaml, dex-users.yaml and removal.yaml), derived by `schemars` from
//! the same serde types that parse them (`EnvSpec`, `RepoSpec`, `VersionsSpec`, `DexUsersSpec`,
//! `RemovalSpec`), so the
//! editor's view cannot drift from the parser's: `deny_unknown_fields` becomes
//! `additionalProperties: false`, doc comments become descriptions, `#[serde(default = ...)]`
//! values become `default`s and `#[schemars(example = ...)]` values `examples`.
//!
//! The derived schema is then shaped for editors (`shape`). yaml-language-server 1.25 (its hover
//! service, read for this) shows a property's `markdownDescription` (else its `description`,
//! backticks escaped), its `examples` and its enum values with `markdownEnumDescriptions`, but not
//! its `default`: so the default is appended to the description, and every description is also
//! given as `markdownDescription` (doc comments are Markdown). An optional block is the block's
//! own schema admitting `null` rather than `anyOf [block, null]`, and an enum whose variants are
//! documented is an `enum` with `enumDescriptions` rather than a `oneOf` of constants: for an
//! `anyOf`/`oneOf` a validator says "not valid under any of the given schemas" instead of naming
//! the misspelt key inside the block.
//!
//! `build` writes them to `.dbos-gitops/schema/` (generated files like the rest), and every
//! declaration file the tool writes starts with a yaml-language-server modeline pointing at its
//! schema by a path relative to the file (the language server resolves a relative `$schema=`
//! of a `# yaml-language-server:` comment against the document's own location).

use serde_json::{json, Map, Value};

use super::{DexUsersSpec, EnvSpec, RemovalSpec, RepoSpec, VersionsSpec};

pub use super::modelines::{
    DEX_USERS_MODELINE, DEX_USERS_SCHEMA_FILE, ENV_MODELINE, ENV_SCHEMA_FILE, REMOVAL_MODELINE,
    REMOVAL_SCHEMA_FILE, REPO_MODELINE, REPO_SCHEMA_FILE, VERSIONS_MODELINE, VERSIONS_SCHEMA_FILE,
};

fn pretty(schema: schemars::Schema) -> String {
    let mut value = schema.to_value();
    shape(&mut value);
    serde_json::to_string_pretty(&value).expect("a schema serialises") + "\n"
}

pub fn env_schema() -> String {
    pretty(schemars::schema_for!(EnvSpec))
}

pub fn repo_schema() -> String {
    pretty(schemars::schema_for!(RepoSpec))
}

pub fn versions_schema() -> String {
    pretty(schemars::schema_for!(VersionsSpec))
}

pub fn dex_users_schema() -> String {
    pretty(schemars::schema_for!(DexUsersSpec))
}

pub fn removal_schema() -> String {
    pretty(schemars::schema_for!(RemovalSpec))
}

/// Adds every schema to the generated tree.
pub fn render(tree: &mut crate::layout::Tree) {
    tree.insert(ENV_SCHEMA_FILE.to_string(), env_schema());
    tree.insert(REPO_SCHEMA_FILE.to_string(), repo_schema());
    tree.insert(VERSIONS_SCHEMA_FILE.to_string(), versions_schema());
    tree.insert(DEX_USERS_SCHEMA_FILE.to_string(), dex_users_schema());
    tree.insert(REMOVAL_SCHEMA_FILE.to_string(), removal_schema());
}

/// Shapes a derived schema for editors (see the module doc).
fn shape(schema: &mut Value) {
    let nullable = nullable_blocks(schema);
    if let Some(Value::Object(defs)) = schema.get_mut("$defs") {
        for name in nullable {
            if let Some(Value::Object(def)) = defs.get_mut(&name) {
                if def.get("type") == Some(&json!("object")) {
                    def.insert("type".into(), json!(["object", "null"]));
                }
            }
        }
    }
    walk(schema, &mut |object| {
        documented_enum(object);
        explain_default(object);
    });
    // What a reader looks for first: the dialect, the title and what the file is.
    if let Value::Object(object) = schema {
        let mut rest = std::mem::take(object);
        for key in ["$schema", "title", "description"] {
            if let Some(value) = rest.shift_remove(key) {
                object.insert(key.into(), value);
            }
        }
        object.extend(rest);
    }
}

/// Calls `visit` on every object of the schema, outermost first.
fn walk(value: &mut Value, visit: &mut dyn FnMut(&mut Map<String, Value>)) {
    match value {
        Value::Object(object) => {
            visit(object);
            for child in object.values_mut() {
                walk(child, visit);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| walk(item, visit)),
        _ => {}
    }
}

/// The `$ref` of `anyOf: [{$ref}, {type: null}]`, when `object` is that.
fn nullable_ref(object: &Map<String, Value>) -> Option<String> {
    let Some(Value::Array(choices)) = object.get("anyOf") else {
        return None;
    };
    match choices.as_slice() {
        [Value::Object(reference), null]
            if reference.len() == 1 && *null == json!({"type": "null"}) =>
        {
            reference.get("$ref")?.as_str().map(str::to_string)
        }
        _ => None,
    }
}

/// Replaces each `anyOf: [{$ref: X}, {type: null}]` by `$ref: X` where the definition X is an
/// object referenced only that way (it then admits `null` itself: the caller), or by X's own
/// keywords admitting `null` where X is a scalar (a name's pattern); returns the former.
fn nullable_blocks(schema: &mut Value) -> Vec<String> {
    let defs = schema.get("$defs").cloned().unwrap_or(json!({}));
    let mut references = std::collections::BTreeMap::<String, (usize, usize)>::new();
    walk(schema, &mut |object| {
        if let Some(reference) = nullable_ref(object) {
            references.entry(reference).or_default().0 += 1;
        } else if let Some(Value::String(reference)) = object.get("$ref") {
            references.entry(reference.clone()).or_default().1 += 1;
        }
    });
    let definition = |reference: &str| {
        reference
            .strip_prefix("#/$defs/")
            .and_then(|name| defs.get(name))
            .and_then(Value::as_object)
    };
    // Each nullable use also counts once as a plain `$ref` (the `anyOf`'s first choice).
    let blocks: Vec<String> = references
        .iter()
        .filter(|(reference, (nullable, all))| {
            nullable == all
                && definition(reference).and_then(|def| def.get("type")) == Some(&json!("object"))
        })
        .map(|(reference, _)| reference.clone())
        .collect();
    walk(schema, &mut |object| {
        let Some(reference) = nullable_ref(object) else {
            return;
        };
        if blocks.contains(&reference) {
            replace_key(
                object,
                "anyOf",
                vec![("$ref".into(), Value::String(reference))],
            );
        } else if let Some(def) =
            definition(&reference).filter(|def| def.get("type").is_some_and(Value::is_string))
        {
            let mut keywords: Vec<(String, Value)> = def
                .iter()
                .filter(|(key, _)| *key != "description")
                .map(|(key, value)| (key.clone(), value.clone()))
                .collect();
            for (key, value) in &mut keywords {
                if key == "type" {
                    *value = json!([value.clone(), "null"]);
                }
            }
            replace_key(object, "anyOf", keywords);
        }
    });
    blocks
        .iter()
        .filter_map(|reference| reference.strip_prefix("#/$defs/").map(str::to_string))
        .collect()
}

/// `object` with `key` replaced, in its place, by `entries`.
fn replace_key(object: &mut Map<String, Value>, key: &str, entries: Vec<(String, Value)>) {
    let mut entries = Some(entries);
    let old = std::mem::take(object);
    for (name, value) in old {
        if name == key {
            object.extend(entries.take().unwrap_or_default());
        } else {
            object.insert(name, value);
        }
    }
}

/// `oneOf` of documented string constants → `enum` and `enumDescriptions` (in order).
fn documented_enum(object: &mut Map<String, Value>) {
    let Some(Value::Array(choices)) = object.get("oneOf") else {
        return;
    };
    let constants: Option<Vec<(Value, Value)>> = choices
        .iter()
        .map(|choice| {
            let constant = choice.get("const").filter(|value| value.is_string())?;
            let description = choice.get("description").cloned().unwrap_or(json!(""));
            Some((constant.clone(), description))
        })
        .collect();
    let Some(constants) = constants else {
        return;
    };
    let (values, descriptions): (Vec<Value>, Vec<Value>) = constants.into_iter().unzip();
    replace_key(
        object,
        "oneOf",
        vec![
            ("type".into(), json!("string")),
            ("enum".into(), Value::Array(values)),
            (
                "enumDescriptions".into(),
                Value::Array(descriptions.clone()),
            ),
            (
                "markdownEnumDescriptions".into(),
                Value::Array(descriptions),
            ),
        ],
    );
}

/// Appends a scalar `default` to the `description` (editors show the one, not the other), and
/// gives the description as `markdownDescription` too: doc comments are Markdown (yaml-language-
/// server and VS Code render that one, and escape the backticks of the plain one).
fn explain_default(object: &mut Map<String, Value>) {
    let shown = match object.get("default") {
        Some(Value::String(text)) => Some(text.clone()),
        Some(value @ (Value::Bool(_) | Value::Number(_))) => Some(value.to_string()),
        _ => None,
    };
    let Some(Value::String(description)) = object.get_mut("description") else {
        return;
    };
    if let Some(shown) = shown {
        description.push_str(&format!("\n\nDefault: `{shown}`."));
    }
    let markdown = Value::String(description.clone());
    object.insert("markdownDescription".into(), markdown);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemas_are_draft_2020_12_and_closed() {
        let env: serde_json::Value = serde_json::from_str(&env_schema()).unwrap();
        assert_eq!(
            env["$schema"],
            "https://json-schema.org/draft/2020-12/schema"
        );
        assert_eq!(env["additionalProperties"], false);
        assert!(env["properties"]["namespace"].is_object(), "{env}");
        let repo: serde_json::Value = serde_json::from_str(&repo_schema()).unwrap();
        assert_eq!(repo["properties"]["revision"]["default"], "HEAD");
    }

    #[test]
    fn optional_blocks_are_their_own_schema_admitting_null() {
        let env: serde_json::Value = serde_json::from_str(&env_schema()).unwrap();
        assert!(!env_schema().contains("anyOf"), "{env:#}");
        assert_eq!(
            env["properties"]["conductor"]["$ref"],
            "#/$defs/ConductorSpec"
        );
        assert_eq!(
            env["$defs"]["ConductorSpec"]["type"],
            json!(["object", "null"])
        );
        let connection = &env["$defs"]["ConductorConnection"];
        assert_eq!(connection["enum"], json!(["in-cluster", "external"]));
        assert!(connection["enumDescriptions"][1]
            .as_str()
            .unwrap()
            .contains("wss://"));
        let cluster = env["properties"]["cluster"]["description"]
            .as_str()
            .unwrap();
        assert!(
            cluster.ends_with("Default: `https://kubernetes.default.svc`."),
            "{cluster}"
        );
    }
}
