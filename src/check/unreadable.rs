//! A declaration that could not be read at all (an I/O error such as a directory or a
//! permission in the way, or bytes that are not UTF-8), as an `invalid-declaration` finding at
//! its repository-relative file: `check` reports it beside the other findings instead of
//! ending without a report. Every other command still refuses such a file (exit 2).

use std::path::Path;

use super::finding::Finding;
use crate::error::Error;

/// What `repo::fs::utf8` says about a file that is not UTF-8, after the backquoted path.
const NOT_UTF8: &str = "not UTF-8: ";

/// The finding for `error` when it is a read of a file (I/O) or a file that is not UTF-8;
/// `None` for any other error.
pub(super) fn finding(root: &Path, error: &Error) -> Option<Finding> {
    match error {
        Error::Io {
            path,
            action,
            source,
            ..
        } => {
            let file = path.strip_prefix(root).unwrap_or(path);
            let shown = file.to_string_lossy().replace('\\', "/");
            let hint = error.hint_text().unwrap_or_else(|| {
                format!("make `{shown}` a regular file that the user running `check` can read, or remove it")
            });
            let message = format!("cannot be read (could not {action} it: {source})");
            Some(Finding::error("invalid-declaration", shown, message).hint(hint))
        }
        Error::Input { message, .. } => not_utf8(message).map(|(file, line, column, what)| {
            let mut finding = Finding::error("invalid-declaration", file, what);
            finding.line = line;
            finding.column = column;
            match error.hint_text() {
                Some(hint) => finding.hint(hint),
                None => finding,
            }
        }),
        _ => None,
    }
}

/// `(file, line, column, message)` of ``"`FILE`: not UTF-8: byte 0x.. at offset N (line L,
/// column C)"``; line and column are 0 when absent.
fn not_utf8(message: &str) -> Option<(String, usize, usize, String)> {
    let (file, rest) = message.strip_prefix('`')?.split_once("`: ")?;
    if !rest.starts_with(NOT_UTF8) {
        return None;
    }
    let number = |label: &str| {
        rest.split_once(label)
            .and_then(|(_, after)| after.split([',', ')']).next())
            .and_then(|digits| digits.trim().parse().ok())
            .unwrap_or(0)
    };
    Some((
        file.to_string(),
        number("(line "),
        number(", column "),
        rest.to_string(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_that_is_not_utf8_is_found_at_its_file_line_and_column() {
        let bytes = b"domain: a\nname: caf\xe9\n".to_vec();
        let error = crate::repo::fs::utf8(Path::new("environments/x/env.yaml"), bytes)
            .expect_err("not UTF-8");
        let finding = finding(Path::new("/repo"), &error).expect("a finding");
        assert_eq!(finding.file, "environments/x/env.yaml");
        assert_eq!((finding.line, finding.column), (2, 10));
        assert!(finding
            .message
            .starts_with("not UTF-8: byte 0xe9 at offset 19"));
        assert!(finding.hint.is_some_and(|hint| hint.contains("UTF-8")));
    }

    #[test]
    fn an_io_error_is_found_at_the_repository_relative_file() {
        // EISDIR: a directory where the file should be.
        let source = std::io::Error::from_raw_os_error(21);
        let error = Error::io("/repo/environments/x/versions.yaml", "read", source);
        let finding = finding(Path::new("/repo"), &error).expect("a finding");
        assert_eq!(finding.file, "environments/x/versions.yaml");
        assert!(finding
            .message
            .starts_with("cannot be read (could not read it: "));
        assert!(finding.hint.is_some_and(|hint| hint.contains("can read")));
    }

    #[test]
    fn other_input_errors_are_not_read_errors() {
        assert!(finding(Path::new("/repo"), &Error::input("`x`: bad name")).is_none());
    }
}
