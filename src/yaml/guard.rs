//! The limits every YAML text is held to before `serde_yaml` parses it: size per kind of text,
//! nesting depth and alias expansion (`src/limits.rs` has the numbers).

use std::path::Path;

use crate::error::Error;
use crate::limits;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{parse_documents, parse_file};

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
}
