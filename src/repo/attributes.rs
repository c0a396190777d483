//! Line endings: what git stores, and the `.gitattributes` that keeps our files LF.
//!
//! With `core.autocrlf=true` (Git for Windows' default) git checks text files out with CRLF
//! and stores them with LF. The ownership record holds the digest of what dbos-gitops wrote
//! (LF), so a byte comparison called every generated file of such a checkout "edited by hand".
//! Two fixes, both here: the comparisons (`plan`, `load`) look at what git would store (CRLF
//! turned to LF, `as_git_stores`), and `init` (and `build`, once, in a repository made
//! before) writes `.gitattributes` lines that check our files out LF whatever `core.autocrlf`
//! says. Per gitattributes(5), `eol=lf` on a path sets the line ending git checks it out with
//! and overrides `core.autocrlf`; `text=auto` with it leaves the end-of-line conversion to
//! files git's own heuristic finds to be text (no NUL byte among the first 8000 bytes), so a
//! binary file a user keeps under these directories is never converted. The lines name only
//! what dbos-gitops writes (anchored with `/`): other files of a monorepo keep their settings.

use std::path::Path;

use super::fs;
use crate::error::Error;

pub const GITATTRIBUTES_FILE: &str = ".gitattributes";

const LINES: &[&str] = &[
    "# dbos-gitops: the files it writes stay LF in every checkout (also with core.autocrlf), so the ownership record's digests hold; text=auto leaves binary files alone",
    "/dbos-gitops.yaml text=auto eol=lf",
    "/.dbos-gitops.sha256 text=auto eol=lf",
    "/.dbos-gitops/** text=auto eol=lf",
    "/.gitignore text=auto eol=lf",
    "/.gitattributes text=auto eol=lf",
    "/base/** text=auto eol=lf",
    "/environments/** text=auto eol=lf",
    "/argocd/** text=auto eol=lf",
];

/// How far git looks for a NUL byte to call a file binary (`buffer_is_binary`).
const BINARY_PROBE: usize = 8000;

/// The bytes git would store for a text file checked out with CRLF: CRLF turned to LF. A file
/// git takes for binary (a NUL early on) is returned as it is.
pub fn as_git_stores(bytes: Vec<u8>) -> Vec<u8> {
    let probe = &bytes[..bytes.len().min(BINARY_PROBE)];
    if probe.contains(&0) || !has_crlf(&bytes) {
        return bytes;
    }
    let mut stored = Vec::with_capacity(bytes.len());
    let mut iter = bytes.iter().peekable();
    while let Some(&byte) = iter.next() {
        if byte == b'\r' && iter.peek() == Some(&&b'\n') {
            continue;
        }
        stored.push(byte);
    }
    stored
}

/// Whether `bytes` holds a CR followed by LF: the scan for the CR is `memchr`'s, as a no-op
/// `build` asks it of every generated file.
fn has_crlf(bytes: &[u8]) -> bool {
    memchr::memchr_iter(b'\r', bytes).any(|at| bytes.get(at + 1) == Some(&b'\n'))
}

/// `existing` with each of `lines` appended that it does not hold yet.
pub fn with_lines(existing: &str, lines: &[&str]) -> String {
    let mut text = existing.to_string();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    for line in lines {
        if !existing.lines().any(|present| present.trim_end() == *line) {
            text.push_str(line);
            text.push('\n');
        }
    }
    text
}

/// The text of `.gitattributes` with our lines, and whether that differs from `existing` (what
/// the command reads there, through its workspace).
pub fn gitattributes(existing: Option<Vec<u8>>) -> Result<(String, bool), Error> {
    let existing = existing
        .map(|bytes| fs::utf8(Path::new(GITATTRIBUTES_FILE), bytes))
        .transpose()?
        .unwrap_or_default();
    let text = with_lines(&existing, LINES);
    let changed = text != existing;
    Ok((text, changed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crlf_becomes_lf_and_binary_is_left_alone() {
        assert_eq!(as_git_stores(b"a: 1\r\nb: 2\r\n".to_vec()), b"a: 1\nb: 2\n");
        assert_eq!(as_git_stores(b"a\rb\r\r\n".to_vec()), b"a\rb\r\n");
        // A CR with no LF after it, last byte included, is content.
        assert_eq!(as_git_stores(b"a\rb\r".to_vec()), b"a\rb\r");
        assert_eq!(as_git_stores(b"a\r\nb\r".to_vec()), b"a\nb\r");
        let binary = b"\0\r\n".to_vec();
        assert_eq!(as_git_stores(binary.clone()), binary);
    }

    #[test]
    fn lines_are_appended_once() {
        let once = with_lines("x\n", &["a", "b"]);
        assert_eq!(once, "x\na\nb\n");
        assert_eq!(with_lines(&once, &["a", "b"]), once);
        assert_eq!(with_lines("a\r\n", &["a"]), "a\r\n");
    }
}
