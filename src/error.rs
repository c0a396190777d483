//! One error type for the whole command layer.
//!
//! Every error says what was wrong and where (file, line, field), and most carry a `hint:` with the
//! fix. The exit code tells a user's mistake or an I/O failure (2) from a refusal or a finding (1).

use std::fmt;
use std::path::PathBuf;

#[derive(Debug)]
pub enum Error {
    /// A declaration file that does not parse or does not fit the schema.
    Declaration {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    /// Reading or writing a file failed.
    Io {
        path: PathBuf,
        action: &'static str,
        source: std::io::Error,
    },
    /// Bad input: a flag, a name, a file's content. Exit 2.
    Input {
        message: String,
        hint: Option<String>,
    },
    /// The command understood the request and refuses it (or a check found something). Exit 1.
    Refused {
        message: String,
        hint: Option<String>,
    },
}

impl Error {
    pub fn input(message: impl Into<String>) -> Self {
        Error::Input {
            message: message.into(),
            hint: None,
        }
    }

    pub fn refused(message: impl Into<String>) -> Self {
        Error::Refused {
            message: message.into(),
            hint: None,
        }
    }

    pub fn io(path: impl Into<PathBuf>, action: &'static str, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            action,
            source,
        }
    }

    /// Adds (or replaces) the `hint:` line.
    pub fn hint(self, text: impl Into<String>) -> Self {
        let text = Some(text.into());
        match self {
            Error::Input { message, .. } => Error::Input {
                message,
                hint: text,
            },
            Error::Refused { message, .. } => Error::Refused {
                message,
                hint: text,
            },
            other => other,
        }
    }

    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Refused { .. } => 1,
            _ => 2,
        }
    }

    fn hint_text(&self) -> Option<String> {
        match self {
            Error::Input { hint, .. } | Error::Refused { hint, .. } => hint.clone(),
            Error::Declaration { .. } => Some(
                "see the declaration reference in README.md (`dbos-gitops init env --help` shows the defaults)"
                    .to_string(),
            ),
            Error::Io { source, .. } => match source.kind() {
                std::io::ErrorKind::PermissionDenied => {
                    Some("check the file's permissions and owner".to_string())
                }
                std::io::ErrorKind::NotFound => Some("check the path".to_string()),
                _ => None,
            },
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Declaration {
                path,
                line,
                column,
                message,
            } => {
                if *line > 0 {
                    write!(formatter, "{}:{line}:{column}: {message}", path.display())
                } else {
                    write!(formatter, "{}: {message}", path.display())
                }
            }
            Error::Io {
                path,
                action,
                source,
            } => write!(
                formatter,
                "could not {action} `{}`: {source}",
                path.display()
            ),
            Error::Input { message, .. } | Error::Refused { message, .. } => {
                formatter.write_str(message)
            }
        }
    }
}

impl std::error::Error for Error {}

impl Error {
    /// The full text printed on stderr: the error and, on its own line, the hint.
    pub fn report(&self) -> String {
        let mut text = format!("error: {self}");
        if let Some(hint) = self.hint_text() {
            text.push_str("\n  hint: ");
            text.push_str(&hint);
        }
        text
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
