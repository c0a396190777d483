//! The only module that reads or writes YAML text.
//!
//! Parsing goes through `serde_yaml` (line and column in every error). Emitting is our own small
//! block-style emitter over `serde_json::Value`, because generated manifests must be byte-stable
//! and must mean the same thing to Kubernetes' YAML 1.1 parser: any string that YAML 1.1 would
//! read as a boolean, null, number or timestamp (`on`, `no`, `y`, `1:20`, `0755`, `1e3`, ...) is
//! double-quoted. Key order is the insertion order of the value (`serde_json` with
//! `preserve_order`), so renderers control it: `apiVersion, kind, metadata, spec`, like kubectl.

use serde::de::DeserializeOwned;
use serde_json::Value;
use std::fmt::Write as _;
use std::path::Path;

use crate::error::Error;
use crate::limits;

/// Parses one YAML (or JSON) document into a typed declaration, naming the file on error.
pub fn parse_file<T: DeserializeOwned>(path: &Path, text: &str) -> Result<T, Error> {
    guard(path, text, Kind::Declaration)?;
    serde_yaml::from_str(text).map_err(|source| declaration_error(path, &source))
}

/// What a text is, for its size limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// env.yaml, dbos-gitops.yaml, versions.yaml, dex-users.yaml.
    Declaration,
    /// Secret and SealedSecret manifests, rendered kustomize output.
    Manifests,
}

impl Kind {
    fn max_bytes(self) -> usize {
        match self {
            Kind::Declaration => limits::MAX_DECLARATION_BYTES,
            Kind::Manifests => limits::MAX_MANIFEST_BYTES,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Declaration => "a declaration",
            Kind::Manifests => "a manifest stream",
        }
    }
}

/// The limits every text is held to before `serde_yaml` sees it: size, nesting depth and alias
/// expansion. Each check is one linear pass (the alias pass runs only when the text holds a `*`),
/// so a hostile input is refused in about the time it takes to read it.
pub fn guard(path: &Path, text: &str, kind: Kind) -> Result<(), Error> {
    let file = path.display().to_string();
    if text.len() > kind.max_bytes() {
        return Err(Error::input_in(
            file,
            format!(
                "{} bytes is above the limit of {} bytes ({} MiB) for {}",
                text.len(),
                kind.max_bytes(),
                kind.max_bytes() >> 20,
                kind.name()
            ),
        )
        .hint("this is far larger than any document the tool writes or needs: check that it is the file you meant"));
    }
    if let Some((line, column)) = first_too_deep(text, limits::MAX_YAML_DEPTH) {
        return Err(depth_error(&file, line, column));
    }
    if text.contains('*') {
        alias_budget(&file, text)?;
    }
    Ok(())
}

fn depth_error(file: &str, line: usize, column: usize) -> Error {
    Error::input_in(
        file,
        format!(
            "line {line}, column {column}: nesting deeper than the limit of {} levels",
            limits::MAX_YAML_DEPTH
        ),
    )
    .hint("the tool's documents nest fewer than 12 levels deep: flatten the structure (this limit keeps parsing fast)")
}

fn alias_error(file: &str, budget: usize) -> Error {
    Error::input_in(
        file,
        format!(
            "aliases (`*name`) expand the text beyond the limit of {budget} nodes and bytes ({} times its size, at least {} KiB)",
            limits::MAX_ALIAS_EXPANSION_FACTOR,
            limits::MIN_ALIAS_EXPANSION_BUDGET >> 10
        ),
    )
    .hint("write the repeated values out instead of nesting anchors and aliases")
}

/// Where a text first nests deeper than `limit` (1-based line and column), by one pass that
/// follows YAML's structure closely enough to bound it: block nesting is the stack of
/// increasing indentations (plus compact `- - x` and `? x` on one line), flow nesting the open
/// `[`/`{` outside quoted scalars and comments. Block scalars (`|`, `>`) are skipped. It may
/// count a level or two more or fewer than the parser; `serde_yaml` itself stops at 128 levels,
/// this pass only has to refuse deep input before the parser spends quadratic time on it.
fn first_too_deep(text: &str, limit: usize) -> Option<(usize, usize)> {
    let mut block: Vec<usize> = Vec::new();
    let mut flow = 0usize;
    let mut quote: Option<u8> = None;
    let mut block_scalar: Option<usize> = None;
    for (index, line) in text.split('\n').enumerate() {
        let bytes = line.as_bytes();
        let indent = bytes.iter().take_while(|byte| **byte == b' ').count();
        let blank = bytes[indent..].iter().all(u8::is_ascii_whitespace);
        if let Some(parent) = block_scalar {
            if blank || indent > parent {
                continue;
            }
            block_scalar = None;
        }
        let too_deep = |block: &Vec<usize>, flow: usize| block.len() + flow > limit;
        let mut position = indent;
        if quote.is_none() && flow == 0 {
            if blank || bytes[indent] == b'#' {
                continue;
            }
            let marker = indent == 0
                && (line.starts_with("---") || line.starts_with("..."))
                && bytes.get(3).is_none_or(u8::is_ascii_whitespace);
            if marker {
                block.clear();
                position = 3;
            } else {
                while block.last().is_some_and(|top| *top >= indent) {
                    block.pop();
                }
                block.push(indent);
                // Compact nesting on one line: `- - x`, `? - x`, `- key: x`.
                while matches!(bytes.get(position), Some(b'-' | b'?'))
                    && bytes.get(position + 1).is_none_or(|byte| *byte == b' ')
                {
                    position += 1;
                    while bytes.get(position) == Some(&b' ') {
                        position += 1;
                    }
                    if position >= bytes.len() || bytes[position] == b'#' {
                        break;
                    }
                    block.push(position);
                    if too_deep(&block, flow) {
                        return Some((index + 1, position + 1));
                    }
                }
                if too_deep(&block, flow) {
                    return Some((index + 1, position + 1));
                }
            }
        }
        let mut previous = b' ';
        let mut comment = bytes.len();
        while position < bytes.len() {
            let byte = bytes[position];
            match quote {
                Some(b'\'') => {
                    if byte == b'\'' {
                        if bytes.get(position + 1) == Some(&b'\'') {
                            position += 2;
                            continue;
                        }
                        quote = None;
                    }
                }
                Some(_) => {
                    if byte == b'\\' {
                        position += 2;
                        previous = b'x';
                        continue;
                    }
                    if byte == b'"' {
                        quote = None;
                    }
                }
                None => {
                    // Quotes and brackets start a node only at a token's start: `a[1]` and
                    // `it's` are plain scalars in block context.
                    let token_start = matches!(previous, b' ' | b'\t')
                        || (flow > 0 && matches!(previous, b'[' | b'{' | b',' | b':'));
                    match byte {
                        b'#' if matches!(previous, b' ' | b'\t') => {
                            comment = position;
                            break;
                        }
                        b'\'' | b'"' if token_start => quote = Some(byte),
                        b'[' | b'{' if flow > 0 || token_start => {
                            flow += 1;
                            if too_deep(&block, flow) {
                                return Some((index + 1, position + 1));
                            }
                        }
                        b']' | b'}' if flow > 0 => flow -= 1,
                        _ => {}
                    }
                }
            }
            previous = byte;
            position += 1;
        }
        if quote.is_none() && flow == 0 {
            // `key: |`, `- >-`, `|2`: the lines below, while indented deeper, are text.
            let content = line[..comment].trim_end();
            let last = content.rsplit([' ', '\t']).next().unwrap_or("");
            if (last.starts_with('|') || last.starts_with('>'))
                && last[1..]
                    .bytes()
                    .all(|byte| byte.is_ascii_digit() || matches!(byte, b'+' | b'-'))
            {
                block_scalar = Some(indent);
            }
        }
    }
    None
}

/// Walks every document as `serde_yaml` expands it (aliases replayed) without building
/// anything, and stops when nodes plus scalar bytes exceed the budget.
fn alias_budget(file: &str, text: &str) -> Result<(), Error> {
    let budget =
        (text.len() * limits::MAX_ALIAS_EXPANSION_FACTOR).max(limits::MIN_ALIAS_EXPANSION_BUDGET);
    let mut remaining = budget;
    for document in serde_yaml::Deserializer::from_str(text) {
        match serde::de::DeserializeSeed::deserialize(Counter(&mut remaining), document) {
            Ok(()) => {}
            Err(error) => {
                let message = error.to_string();
                // serde_yaml puts the path of the node before the message.
                if message.contains(BUDGET_SPENT) || message.contains("repetition limit exceeded") {
                    return Err(alias_error(file, budget));
                }
                if message.contains("recursion limit exceeded") {
                    let (line, column) = error
                        .location()
                        .map(|location| (location.line(), location.column()))
                        .unwrap_or((0, 0));
                    return Err(depth_error(file, line, column));
                }
                // Anything else is the real parse's to report (and after a syntax error the
                // document iterator repeats it forever).
                break;
            }
        }
    }
    Ok(())
}

const BUDGET_SPENT: &str = "alias expansion budget spent";

/// Counts what a visitor would build: one per node, plus the bytes of each scalar.
struct Counter<'a>(&'a mut usize);

impl Counter<'_> {
    fn spend<E: serde::de::Error>(&mut self, amount: usize) -> Result<(), E> {
        match self.0.checked_sub(amount) {
            Some(rest) => {
                *self.0 = rest;
                Ok(())
            }
            None => Err(E::custom(BUDGET_SPENT)),
        }
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for Counter<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Counter<'_> {
    type Value = ();

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("any YAML value")
    }
    fn visit_bool<E: serde::de::Error>(mut self, _: bool) -> Result<(), E> {
        self.spend(1)
    }
    fn visit_i64<E: serde::de::Error>(mut self, _: i64) -> Result<(), E> {
        self.spend(1)
    }
    fn visit_u64<E: serde::de::Error>(mut self, _: u64) -> Result<(), E> {
        self.spend(1)
    }
    fn visit_i128<E: serde::de::Error>(mut self, _: i128) -> Result<(), E> {
        self.spend(1)
    }
    fn visit_u128<E: serde::de::Error>(mut self, _: u128) -> Result<(), E> {
        self.spend(1)
    }
    fn visit_f64<E: serde::de::Error>(mut self, _: f64) -> Result<(), E> {
        self.spend(1)
    }
    fn visit_str<E: serde::de::Error>(mut self, text: &str) -> Result<(), E> {
        self.spend(1 + text.len())
    }
    fn visit_bytes<E: serde::de::Error>(mut self, bytes: &[u8]) -> Result<(), E> {
        self.spend(1 + bytes.len())
    }
    fn visit_unit<E: serde::de::Error>(mut self) -> Result<(), E> {
        self.spend(1)
    }
    fn visit_none<E: serde::de::Error>(mut self) -> Result<(), E> {
        self.spend(1)
    }
    fn visit_some<D: serde::Deserializer<'de>>(mut self, inner: D) -> Result<(), D::Error> {
        self.spend(1)?;
        inner.deserialize_any(self)
    }
    fn visit_newtype_struct<D: serde::Deserializer<'de>>(
        mut self,
        inner: D,
    ) -> Result<(), D::Error> {
        self.spend(1)?;
        inner.deserialize_any(self)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(mut self, mut items: A) -> Result<(), A::Error> {
        self.spend(1)?;
        while items.next_element_seed(Counter(&mut *self.0))?.is_some() {}
        Ok(())
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(mut self, mut entries: A) -> Result<(), A::Error> {
        self.spend(1)?;
        while entries.next_key_seed(Counter(&mut *self.0))?.is_some() {
            entries.next_value_seed(Counter(&mut *self.0))?;
        }
        Ok(())
    }
    fn visit_enum<A: serde::de::EnumAccess<'de>>(mut self, data: A) -> Result<(), A::Error> {
        // A tagged value (`!Tag x`): the tag, then its value.
        use serde::de::VariantAccess as _;
        self.spend(1)?;
        let budget = self.0;
        let ((), variant) = data.variant_seed(Counter(&mut *budget))?;
        variant.newtype_variant_seed(Counter(budget))
    }
}

fn declaration_error(path: &Path, source: &serde_yaml::Error) -> Error {
    let (line, column) = source
        .location()
        .map(|location| (location.line(), location.column()))
        .unwrap_or((0, 0));
    Error::Declaration {
        path: path.to_path_buf(),
        line,
        column,
        message: clean_serde_message(&source.to_string()),
    }
}

/// serde_yaml appends " at line X column Y" to messages; we print the location ourselves.
fn clean_serde_message(message: &str) -> String {
    match message.find(" at line ") {
        Some(index) => message[..index].to_string(),
        None => message.to_string(),
    }
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
    documents.iter().map(emit).collect::<Vec<_>>().join("---\n")
}

/// Emits one document in block style, LF line endings, trailing newline.
pub fn emit(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(map) if !map.is_empty() => emit_map(&mut out, map, 0),
        Value::Array(items) if !items.is_empty() => emit_list(&mut out, items, 0),
        // A multi-line string as a whole document: a block scalar at indentation 0 would put a
        // content line such as `---` in column 0, where it ends the document (found by
        // fuzz::document_markers_and_empty_values_stay_one_document). A JSON string is a valid
        // YAML double-quoted scalar on one line.
        Value::String(text) if text.contains('\n') => {
            out.push_str(&serde_json::to_string(text).expect("a string serializes"));
            out.push('\n');
        }
        scalar => {
            out.push_str(&scalar_text(scalar, 0));
            out.push('\n');
        }
    }
    out
}

fn indent(out: &mut String, level: usize) {
    for _ in 0..level {
        out.push(' ');
    }
}

fn emit_map(out: &mut String, map: &serde_json::Map<String, Value>, level: usize) {
    for (key, value) in map {
        indent(out, level);
        out.push_str(&quote_if_needed(key));
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
            out.push_str(&scalar_text(scalar, level + 2));
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
                    out.push_str(&quote_if_needed(key));
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
                out.push_str(&scalar_text(scalar, level + 2));
                out.push('\n');
            }
        }
    }
}

fn scalar_text(value: &Value, block_indent: usize) -> String {
    match value {
        Value::Null => "null".to_string(),
        Value::Bool(flag) => flag.to_string(),
        Value::Number(number) => number.to_string(),
        Value::String(text) => string_text(text, block_indent),
        Value::Object(_) => "{}".to_string(),
        Value::Array(_) => "[]".to_string(),
    }
}

fn string_text(text: &str, block_indent: usize) -> String {
    if text.contains('\n') && block_literal_ok(text) {
        let chomp = if text.ends_with("\n\n") {
            "+"
        } else if text.ends_with('\n') {
            ""
        } else {
            "-"
        };
        let mut out = format!("|{chomp}\n");
        let body = text.strip_suffix('\n').unwrap_or(text);
        let lines: Vec<&str> = body.split('\n').collect();
        for (index, line) in lines.iter().enumerate() {
            if !line.is_empty() {
                indent(&mut out, block_indent);
                out.push_str(line);
            }
            if index + 1 < lines.len() {
                out.push('\n');
            }
        }
        // The caller appends the final newline.
        if chomp == "+" {
            // Keep-chomping already ends with an empty line: represented by the split above.
        }
        return out;
    }
    quote_if_needed(text)
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
    if is_plain_safe(text) {
        text.to_string()
    } else {
        double_quoted(text)
    }
}

fn double_quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
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
    out
}

/// Words YAML 1.1 resolves to booleans or null (case variants as the 1.1 spec lists them).
const YAML11_RESERVED: &[&str] = &[
    "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE", "false",
    "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF", "null", "Null", "NULL", "~",
];

fn is_plain_safe(text: &str) -> bool {
    let Some(first) = text.chars().next() else {
        return false;
    };
    if YAML11_RESERVED.contains(&text) {
        return false;
    }
    // Anything starting like a number (digits, sign, dot) may be an int, float, octal, sexagesimal
    // or timestamp in YAML 1.1: quote it.
    if first.is_ascii_digit() || matches!(first, '-' | '+' | '.') {
        return false;
    }
    if !(first.is_ascii_alphabetic() || first == '_' || first == '/') {
        return false;
    }
    if text.ends_with(':') {
        return false;
    }
    text.chars().all(|character| {
        character.is_ascii_alphanumeric()
            || matches!(character, '_' | '-' | '.' | '/' | ':' | '+' | '=')
    }) && !text.contains(": ")
        && !text.contains(" #")
}

/// Refuses a mapping that repeats a key (`stringData: {k: a, k: b}` would silently keep the
/// last), naming the document. Walks the documents without keeping any scalar but mapping keys,
/// so secret values are not copied into unzeroized strings.
pub fn refuse_duplicate_keys(path: &Path, text: &str) -> Result<(), Error> {
    guard(path, text, Kind::Manifests)?;
    for document in serde_yaml::Deserializer::from_str(text) {
        if let Err(source) = serde::de::DeserializeSeed::deserialize(UniqueKeys, document) {
            if source.to_string().contains("duplicate entry") {
                return Err(declaration_error(path, &source));
            }
            // Any other error is the parser's to report; and after a syntax error serde_yaml's
            // document iterator yields the same error forever, so stop at the first.
            break;
        }
    }
    Ok(())
}

/// Visits a document, failing on the first mapping that repeats a scalar key.
struct UniqueKeys;

impl<'de> serde::de::DeserializeSeed<'de> for UniqueKeys {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

/// A mapping key as text when it is a scalar (what the duplicate check compares).
struct KeyText;

impl<'de> serde::de::DeserializeSeed<'de> for KeyText {
    type Value = Option<String>;
    fn deserialize<D: serde::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Option<String>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for KeyText {
    type Value = Option<String>;
    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("a mapping key")
    }
    // Tagged by type, as serde_yaml compares keys: `1` and `"1"` are different keys.
    fn visit_bool<E: serde::de::Error>(self, value: bool) -> Result<Self::Value, E> {
        Ok(Some(format!("b{value}")))
    }
    fn visit_i64<E: serde::de::Error>(self, value: i64) -> Result<Self::Value, E> {
        Ok(Some(format!("n{value}")))
    }
    fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<Self::Value, E> {
        Ok(Some(format!("n{value}")))
    }
    fn visit_f64<E: serde::de::Error>(self, value: f64) -> Result<Self::Value, E> {
        Ok(Some(format!("f{value}")))
    }
    fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<Self::Value, E> {
        Ok(Some(format!("s{value}")))
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(Some("~".to_string()))
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, items: A) -> Result<Self::Value, A::Error> {
        serde::de::Visitor::visit_seq(UniqueKeys, items).map(|()| None)
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, entries: A) -> Result<Self::Value, A::Error> {
        serde::de::Visitor::visit_map(UniqueKeys, entries).map(|()| None)
    }
    fn visit_enum<A: serde::de::EnumAccess<'de>>(self, data: A) -> Result<Self::Value, A::Error> {
        serde::de::Visitor::visit_enum(UniqueKeys, data).map(|()| None)
    }
}

impl<'de> serde::de::Visitor<'de> for UniqueKeys {
    type Value = ();
    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("any YAML value")
    }
    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_i128<E: serde::de::Error>(self, _: i128) -> Result<(), E> {
        Ok(())
    }
    fn visit_u128<E: serde::de::Error>(self, _: u128) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_bytes<E: serde::de::Error>(self, _: &[u8]) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_none<E: serde::de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_some<D: serde::Deserializer<'de>>(self, inner: D) -> Result<(), D::Error> {
        inner.deserialize_any(self)
    }
    fn visit_newtype_struct<D: serde::Deserializer<'de>>(self, inner: D) -> Result<(), D::Error> {
        inner.deserialize_any(self)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut items: A) -> Result<(), A::Error> {
        while items.next_element_seed(UniqueKeys)?.is_some() {}
        Ok(())
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut entries: A) -> Result<(), A::Error> {
        let mut seen = std::collections::HashSet::new();
        while let Some(key) = entries.next_key_seed(KeyText)? {
            if let Some(key) = key {
                if !seen.insert(key.clone()) {
                    // serde_yaml's own wording, with the location it adds.
                    let shown = key.get(1..).unwrap_or("null");
                    return Err(serde::de::Error::custom(format!(
                        "duplicate entry with key {shown:?}"
                    )));
                }
            }
            entries.next_value_seed(UniqueKeys)?;
        }
        Ok(())
    }
    fn visit_enum<A: serde::de::EnumAccess<'de>>(self, data: A) -> Result<(), A::Error> {
        use serde::de::VariantAccess as _;
        let (serde::de::IgnoredAny, variant) = data.variant()?;
        variant.newtype_variant_seed(UniqueKeys)
    }
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

    fn refusal(error: Error) -> String {
        error.report()
    }

    #[test]
    fn a_flow_depth_bomb_is_refused_with_the_file_and_the_limit() {
        let bomb = "[".repeat(100_000) + &"]".repeat(100_000);
        let message = refusal(
            parse_file::<serde_json::Value>(Path::new("environments/prod/env.yaml"), &bomb)
                .unwrap_err(),
        );
        assert!(
            message.contains("environments/prod/env.yaml")
                && message.contains("line 1, column ")
                && message.contains("limit of 64 levels"),
            "{message}"
        );
        let json = "{\"a\":".repeat(70) + "1" + &"}".repeat(70);
        assert!(parse_documents(Path::new("stdin"), &json).is_err());
    }

    #[test]
    fn block_depth_bombs_are_refused() {
        let compact = "- ".repeat(100_000) + "x\n";
        let message = refusal(parse_documents(Path::new("stdin"), &compact).unwrap_err());
        assert!(
            message.contains("stdin: line 1") && message.contains("limit of 64"),
            "{message}"
        );
        let indented: String = (0..70)
            .map(|level| format!("{}k:\n", " ".repeat(level)))
            .collect();
        let message = refusal(parse_documents(Path::new("s.yaml"), &indented).unwrap_err());
        assert!(
            message.contains("s.yaml: line 65") && message.contains("limit of 64"),
            "{message}"
        );
    }

    #[test]
    fn nesting_up_to_the_limit_and_deep_text_are_accepted() {
        let nested = "[".repeat(60) + &"]".repeat(60);
        assert!(parse_documents(Path::new("x"), &nested).is_ok());
        // Brackets, indentation and dashes inside block scalars, quotes and comments are text.
        let text = format!(
            "a: |\n{}\nb: '{}'\nc: \"{}\" # {}\nd: x[{}\n",
            (0..100)
                .map(|level| format!("{}- [{{", " ".repeat(level + 2)))
                .collect::<Vec<_>>()
                .join("\n"),
            "[".repeat(100),
            "{".repeat(100),
            "[".repeat(100),
            "[".repeat(100),
        );
        let parsed = parse_documents(Path::new("x"), &text).unwrap();
        assert_eq!(parsed[0]["b"], "[".repeat(100));
    }

    #[test]
    fn alias_bombs_are_refused() {
        // Billion laughs: nine levels of ten aliases each.
        let mut laughs = String::from("a0: &a0 lol\n");
        for level in 1..10 {
            let previous = format!("*a{}", level - 1);
            laughs.push_str(&format!(
                "a{level}: &a{level} [{}]\n",
                [previous.as_str(); 10].join(", ")
            ));
        }
        let message = refusal(parse_documents(Path::new("stdin"), &laughs).unwrap_err());
        assert!(
            message.contains("stdin") && message.contains("aliases (`*name`) expand"),
            "{message}"
        );
        // One large anchor, repeated: within serde_yaml's own repetition limit.
        let large = format!(
            "big: &big \"{}\"\nmany: [{}]\n",
            "x".repeat(100_000),
            ["*big"; 1000].join(",")
        );
        let message = refusal(
            parse_file::<serde_json::Value>(Path::new("versions.yaml"), &large)
                .map(|_| ())
                .unwrap_err(),
        );
        assert!(
            message.contains("versions.yaml") && message.contains("limit of"),
            "{message}"
        );
        // Ordinary use of an anchor stays fine.
        let merge = "base: &base {a: 1, b: 2}\nprod: {<<: *base, c: 3}\nstar: \"*\"\n";
        assert!(parse_documents(Path::new("x"), merge).is_ok());
    }

    #[test]
    fn oversized_input_is_refused_per_kind() {
        let big = "a: b\n".repeat(limits::MAX_DECLARATION_BYTES / 5 + 1);
        let message = refusal(
            parse_file::<serde_json::Value>(Path::new("dbos-gitops.yaml"), &big).unwrap_err(),
        );
        assert!(
            message.contains("dbos-gitops.yaml")
                && message.contains("limit of 1048576 bytes (1 MiB)"),
            "{message}"
        );
        // The same text is a fine size for a manifest stream.
        assert!(parse_documents(Path::new("x"), &big).is_ok());
    }

    #[test]
    fn duplicate_key_scan_stops_at_a_syntax_error() {
        // An unterminated flow sequence once made the scan loop forever.
        assert!(refuse_duplicate_keys(Path::new("stdin"), "kind: [\n").is_ok());
        assert!(refuse_duplicate_keys(Path::new("stdin"), "a: 1\na: 2\n").is_err());
        // Keys compare as serde_yaml compares them: by type and value, at any depth.
        assert!(refuse_duplicate_keys(Path::new("stdin"), "1: a\n\"1\": b\n").is_ok());
        let error = refuse_duplicate_keys(Path::new("stdin"), "- {x: [{k: 1, k: 2}]}\n")
            .unwrap_err()
            .report();
        assert!(
            error.contains("duplicate entry with key \"k\"") && error.contains("stdin:1:"),
            "{error}"
        );
    }

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
