//! The only module that reads or writes YAML text.
//!
//! Parsing goes through `serde_yaml` (line and column in every error). Emitting is our own small
//! block-style emitter over `serde_json::Value`, because generated manifests must be byte-stable
//! and must mean the same thing to Kubernetes' YAML 1.1 parser: any string that YAML 1.1 would
//! read as a boolean, null, number or timestamp (`on`, `no`, `y`, `1:20`, `0755`, `1e3`, ...) is
//! double-quoted. Key order is the insertion order of the value (`serde_json` with
//! `preserve_order`), so renderers control it: `apiVersion, kind, metadata, spec`, like kubectl.
//!
//! Every text passes `guard` (size, depth, alias limits) before `serde_yaml` sees it;
//! `duplicates` refuses a repeated key without copying any value.

use serde::de::DeserializeOwned;
use serde_json::Value;
use std::fmt::Write as _;
use std::path::Path;

use crate::error::Error;

mod duplicates;
mod errors;
mod guard;

pub use duplicates::refuse_duplicate_keys;
use errors::declaration_error;
pub use guard::{guard, Kind};

/// Parses one YAML (or JSON) document into a typed declaration, naming the file on error.
pub fn parse_file<T: DeserializeOwned>(path: &Path, text: &str) -> Result<T, Error> {
    guard(path, text, Kind::Declaration)?;
    serde_yaml::from_str(text).map_err(|source| declaration_error(path, &source))
}

/// Parses a stream of YAML or JSON documents into values; empty documents are skipped.
pub fn parse_documents(path: &Path, text: &str) -> Result<Vec<Value>, Error> {
    guard(path, text, Kind::Manifests)?;
    let mut documents = Vec::new();
    for document in serde_yaml::Deserializer::from_str(text) {
        let value: Value = serde::Deserialize::deserialize(document)
            .map_err(|source| declaration_error(path, &source))?;
        if !value.is_null() {
            documents.push(value);
        }
    }
    Ok(documents)
}

/// Kubernetes objects from a stream of documents: a `kind: List` is unpacked into its items,
/// as kubectl and kustomize do.
pub fn parse_objects(path: &Path, text: &str) -> Result<Vec<Value>, Error> {
    let mut objects = Vec::new();
    for document in parse_documents(path, text)? {
        match document.get("items").and_then(Value::as_array) {
            Some(items) if document["kind"] == "List" => objects.extend(items.iter().cloned()),
            _ => objects.push(document),
        }
    }
    Ok(objects)
}

/// Emits several documents separated by `---`.
pub fn emit_documents(documents: &[Value]) -> String {
    let mut out = String::new();
    for (index, document) in documents.iter().enumerate() {
        if index > 0 {
            out.push_str("---\n");
        }
        emit_into(&mut out, document);
    }
    out
}

/// Emits one document in block style, LF line endings, trailing newline.
pub fn emit(value: &Value) -> String {
    let mut out = String::new();
    emit_into(&mut out, value);
    out
}

/// [`emit`], appended to `out`: the emitter writes in place, with no string per scalar.
fn emit_into(out: &mut String, value: &Value) {
    match value {
        Value::Object(map) if !map.is_empty() => emit_map(out, map, 0),
        Value::Array(items) if !items.is_empty() => emit_list(out, items, 0),
        // A multi-line string as a whole document: a block scalar at indentation 0 would put a
        // content line such as `---` in column 0, where it ends the document (found by
        // fuzz::document_markers_and_empty_values_stay_one_document). A JSON string is a valid
        // YAML double-quoted scalar on one line.
        Value::String(text) if text.contains('\n') => {
            out.push_str(&serde_json::to_string(text).expect("a string serializes"));
            out.push('\n');
        }
        scalar => {
            push_scalar(out, scalar, 0);
            out.push('\n');
        }
    }
}

fn indent(out: &mut String, level: usize) {
    for _ in 0..level {
        out.push(' ');
    }
}

fn emit_map(out: &mut String, map: &serde_json::Map<String, Value>, level: usize) {
    for (key, value) in map {
        indent(out, level);
        push_quoted_if_needed(out, key);
        out.push(':');
        emit_value_after_key(out, value, level);
    }
}

fn emit_value_after_key(out: &mut String, value: &Value, level: usize) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push('\n');
            emit_map(out, map, level + 2);
        }
        // kubectl style: a list under a key is not indented further.
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            emit_list(out, items, level);
        }
        scalar => {
            out.push(' ');
            push_scalar(out, scalar, level + 2);
            out.push('\n');
        }
    }
}

fn emit_list(out: &mut String, items: &[Value], level: usize) {
    for item in items {
        indent(out, level);
        out.push('-');
        match item {
            Value::Object(map) if !map.is_empty() => {
                // First key on the dash line, the rest aligned under it.
                let mut first = true;
                for (key, value) in map {
                    if first {
                        out.push(' ');
                        first = false;
                    } else {
                        indent(out, level + 2);
                    }
                    push_quoted_if_needed(out, key);
                    out.push(':');
                    emit_value_after_key(out, value, level + 2);
                }
            }
            Value::Array(inner) if !inner.is_empty() => {
                out.push('\n');
                emit_list(out, inner, level + 2);
            }
            scalar => {
                out.push(' ');
                push_scalar(out, scalar, level + 2);
                out.push('\n');
            }
        }
    }
}

fn push_scalar(out: &mut String, value: &Value, block_indent: usize) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(number) => {
            let _ = write!(out, "{number}");
        }
        Value::String(text) => push_string(out, text, block_indent),
        Value::Object(_) => out.push_str("{}"),
        Value::Array(_) => out.push_str("[]"),
    }
}

fn push_string(out: &mut String, text: &str, block_indent: usize) {
    if text.contains('\n') && block_literal_ok(text) {
        let chomp = if text.ends_with("\n\n") {
            "+"
        } else if text.ends_with('\n') {
            ""
        } else {
            "-"
        };
        out.push('|');
        out.push_str(chomp);
        out.push('\n');
        // Keep-chomping ends with an empty line: the last (empty) piece of the split below.
        let body = text.strip_suffix('\n').unwrap_or(text);
        let mut lines = body.split('\n').peekable();
        while let Some(line) = lines.next() {
            if !line.is_empty() {
                indent(out, block_indent);
                out.push_str(line);
            }
            if lines.peek().is_some() {
                out.push('\n');
            }
        }
        // The caller appends the final newline.
        return;
    }
    push_quoted_if_needed(out, text);
}

/// A literal block keeps the text exactly when no line starts with a space (which would need an
/// indentation indicator), no trailing spaces and only printable characters.
fn block_literal_ok(text: &str) -> bool {
    !text.starts_with(' ')
        && !text.starts_with('\n')
        && text
            .chars()
            .all(|character| character == '\n' || (!character.is_control()))
        && !text.split('\n').any(|line| line.ends_with(' '))
}

/// Plain when unambiguous in YAML 1.1 and 1.2; otherwise a double-quoted JSON-compatible string.
pub fn quote_if_needed(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    push_quoted_if_needed(&mut out, text);
    out
}

/// [`quote_if_needed`], appended to `out`.
fn push_quoted_if_needed(out: &mut String, text: &str) {
    if is_plain_safe(text) {
        out.push_str(text);
    } else {
        push_double_quoted(out, text);
    }
}

fn push_double_quoted(out: &mut String, text: &str) {
    out.reserve(text.len() + 2);
    out.push('"');
    for character in text.chars() {
        match character {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            control if control.is_control() => {
                let _ = write!(out, "\\u{:04x}", control as u32);
            }
            other => out.push(other),
        }
    }
    out.push('"');
}

/// Words YAML 1.1 resolves to booleans or null (case variants as the 1.1 spec lists them).
const YAML11_RESERVED: &[&str] = &[
    "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE", "false",
    "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF", "null", "Null", "NULL", "~",
];

fn is_plain_safe(text: &str) -> bool {
    let bytes = text.as_bytes();
    let (Some(&first), Some(&last)) = (bytes.first(), bytes.last()) else {
        return false;
    };
    // Anything starting like a number (digits, sign, dot) may be an int, float, octal,
    // sexagesimal or timestamp in YAML 1.1, and `~`, `!`, `&`, `*`, quotes, `[`, `{` … start
    // other tokens: a plain scalar here starts with a letter, `_` or `/`.
    if !(first.is_ascii_alphabetic() || first == b'_' || first == b'/') || last == b':' {
        return false;
    }
    // No space can occur, so neither can `: ` nor ` #` (a mapping value, a comment).
    let plain_bytes = bytes.iter().all(|&byte| {
        byte.is_ascii_alphanumeric()
            || matches!(byte, b'_' | b'-' | b'.' | b'/' | b':' | b'+' | b'=')
    });
    // The reserved words are at most five letters long.
    plain_bytes && !(bytes.len() <= 5 && YAML11_RESERVED.contains(&text))
}

/// Secret manifests for sealing, read straight from the parser into documents whose `data` and
/// `stringData` values are in zeroizing buffers (no `serde_json::Value` ever holds them);
/// a `kind: List` is unpacked, empty documents are skipped. The limits and the duplicate-key
/// check of every manifest stream apply.
pub fn parse_secret_documents(
    path: &Path,
    text: &str,
) -> Result<Vec<dbos_gitops_seal::SecretDocument>, Error> {
    use dbos_gitops_seal::SecretDocument;
    refuse_duplicate_keys(path, text)?;
    let mut documents = Vec::new();
    for document in serde_yaml::Deserializer::from_str(text) {
        let document: SecretDocument = serde::Deserialize::deserialize(document)
            .map_err(|source| declaration_error(path, &source))?;
        if !matches!(document, SecretDocument::Null) {
            documents.extend(document.unpack_list());
        }
    }
    Ok(documents)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn yaml11_ambiguous_strings_are_quoted() {
        for word in [
            "on", "yes", "no", "off", "y", "1:20", "0755", "1e3", "-1", ".5", "~", "",
        ] {
            let emitted = emit(&json!({ "key": word }));
            assert_eq!(emitted, format!("key: \"{word}\"\n"), "for {word:?}");
        }
    }

    #[test]
    fn plain_names_stay_plain() {
        let emitted = emit(
            &json!({ "image": "ghcr.io/acme/app:v1", "name": "dbos-app-v1", "b64": "AgB+x/y==" }),
        );
        assert_eq!(
            emitted,
            "image: ghcr.io/acme/app:v1\nname: dbos-app-v1\nb64: AgB+x/y==\n"
        );
    }

    #[test]
    fn kubectl_list_style_and_nesting() {
        let value = json!({
            "spec": { "containers": [ { "name": "a", "ports": [ { "containerPort": 80 } ] } ] },
            "empty": {}, "none": []
        });
        assert_eq!(
            emit(&value),
            "spec:\n  containers:\n  - name: a\n    ports:\n    - containerPort: 80\nempty: {}\nnone: []\n"
        );
    }

    #[test]
    fn round_trips_through_the_parser() {
        let value = json!({
            "a": ["on", "1:20", "x\ny\n", "trailing\n\n", "no-newline\nend", "  lead\nx", "quote\"s\\"],
            "b": { "c": true, "d": 3, "e": null, "f": "tab\there" }
        });
        let text = emit(&value);
        let parsed = parse_documents(Path::new("t.yaml"), &text).unwrap();
        assert_eq!(parsed, vec![value], "{text}");
    }

    #[test]
    fn parse_errors_carry_line_and_column() {
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Spec {
            name: String,
        }
        let error = parse_file::<Spec>(Path::new("env.yaml"), "name: x\nnmae: y\n").unwrap_err();
        match error {
            Error::Declaration { line, message, .. } => {
                assert_eq!(line, 2);
                assert!(message.contains("unknown field `nmae`"), "{message}");
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
