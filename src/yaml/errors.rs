//! A parser's error as the declaration error the user reads: the file, line and column, and
//! serde_yaml's message without the location it appends (we print that ourselves).

use std::path::Path;

use crate::error::Error;

/// `source` as the error of the declaration at `path`.
pub(super) fn declaration_error(path: &Path, source: &serde_yaml::Error) -> Error {
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
