//! The error types, at the bottom of the crate (imports nothing of ours). Each layer that
//! judges user input has its own `thiserror` type with its place and hint as data:
//! `DeclareError` (declarations that do not parse or fit the schema: file, line, column, field)
//! and `ResolveError` (declarations that do not resolve: file, field). They are defined here, in
//! `error/`, and re-exported by `declare` and `model`, so that the crate-wide `Error` wraps them
//! (`#[from]`, their `source()`) without a circle in the imports. `Error` also wraps I/O errors and
//! the sealing library's errors, and answers `location()`, `message()`, `hint_text()` for every
//! variant, so `check` builds findings from fields.
//!
//! Every error says what was wrong and where (file, line, field), and most carry a `hint:` with the
//! fix. The exit code tells a user's mistake or an I/O failure (2) from a refusal or a finding (1).

use std::path::PathBuf;

mod declare;
mod resolve;

pub use declare::{DeclareError, DECLARATION_HINT};
pub use resolve::ResolveError;

/// Where an error is: a repository-relative file and, when known, the line, column and field.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Location {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub field: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// YAML that does not parse (any file `yaml` reads). `hint()` turns it into `Declare`.
    #[error("{}", declare::located(&path.display().to_string(), *line, *column, message))]
    Declaration {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    /// A declaration that does not parse or does not fit the schema (the declaration layer).
    #[error("{0}")]
    Declare(#[from] DeclareError),
    /// Declarations that do not resolve into a model (the model layer).
    #[error("{0}")]
    Resolve(#[from] ResolveError),
    /// Reading or writing a file failed.
    #[error("could not {action} `{}`: {source}", path.display())]
    Io {
        path: PathBuf,
        action: &'static str,
        hint: Option<String>,
        #[source]
        source: std::io::Error,
    },
    /// Bad input: a flag, a name, a file's content. Exit 2. `file` is where the bad value is,
    /// when it is in a file (printed before the message).
    #[error("{}", match file { Some(file) => format!("{file}: {message}"), None => message.clone() })]
    Input {
        message: String,
        hint: Option<String>,
        file: Option<String>,
    },
    /// The command understood the request and refuses it (or a check found something). Exit 1.
    #[error("{message}")]
    Refused {
        message: String,
        hint: Option<String>,
    },
    /// An error of the sealing library, wrapped with what we were doing (`context` ends with
    /// `: ` or is empty). Exit 2.
    #[error("{context}{source}")]
    Seal {
        context: String,
        hint: Option<String>,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
}

impl Error {
    pub fn input(message: impl Into<String>) -> Self {
        Error::Input {
            message: message.into(),
            hint: None,
            file: None,
        }
    }

    /// Bad input in a file: `<file>: <message>`.
    pub fn input_in(file: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Input {
            message: message.into(),
            hint: None,
            file: Some(file.into()),
        }
    }

    /// Wraps an error of the sealing library.
    pub fn seal<E>(context: impl Into<String>, hint: Option<String>, source: E) -> Self
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        Error::Seal {
            context: context.into(),
            hint,
            source: Box::new(source),
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
            hint: None,
            source,
        }
    }

    /// Adds (or replaces) the `hint:` line.
    pub fn hint(self, text: impl Into<String>) -> Self {
        let text = Some(text.into());
        match self {
            Error::Input { message, file, .. } => Error::Input {
                message,
                hint: text,
                file,
            },
            Error::Seal {
                context, source, ..
            } => Error::Seal {
                context,
                hint: text,
                source,
            },
            Error::Refused { message, .. } => Error::Refused {
                message,
                hint: text,
            },
            Error::Declaration {
                path,
                line,
                column,
                message,
            } => Error::Declare(DeclareError {
                file: path.display().to_string(),
                line,
                column,
                field: None,
                message,
                hint: text,
            }),
            Error::Declare(error) => Error::Declare(DeclareError {
                hint: text,
                ..error
            }),
            Error::Resolve(error) => Error::Resolve(ResolveError {
                hint: text,
                ..error
            }),
            Error::Io {
                path,
                action,
                source,
                ..
            } => Error::Io {
                path,
                action,
                hint: text,
                source,
            },
        }
    }

    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Refused { .. } => 1,
            _ => 2,
        }
    }

    /// The fix, printed on its own `hint:` line.
    pub fn hint_text(&self) -> Option<String> {
        match self {
            Error::Input { hint, .. } | Error::Refused { hint, .. } | Error::Seal { hint, .. } => {
                hint.clone()
            }
            Error::Declaration { .. } => Some(DECLARATION_HINT.to_string()),
            Error::Declare(error) => error.hint.clone(),
            Error::Resolve(error) => error.hint.clone(),
            Error::Io {
                hint: Some(hint), ..
            } => Some(hint.clone()),
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

impl Error {
    /// Where the error is, when it names a file.
    pub fn location(&self) -> Option<Location> {
        match self {
            Error::Declaration {
                path, line, column, ..
            } => Some(Location {
                file: path.display().to_string(),
                line: *line,
                column: *column,
                field: None,
            }),
            Error::Declare(error) => Some(Location {
                file: error.file.clone(),
                line: error.line,
                column: error.column,
                field: error.field.clone(),
            }),
            Error::Resolve(ResolveError {
                file: Some(file),
                field,
                ..
            }) => Some(Location {
                file: file.clone(),
                field: field.clone(),
                ..Location::default()
            }),
            Error::Input {
                file: Some(file), ..
            } => Some(Location {
                file: file.clone(),
                ..Location::default()
            }),
            Error::Io { path, .. } => Some(Location {
                file: path.display().to_string(),
                ..Location::default()
            }),
            _ => None,
        }
    }

    /// What was wrong, without the location `Display` puts before it.
    pub fn message(&self) -> String {
        match self {
            Error::Declaration { message, .. }
            | Error::Input { message, .. }
            | Error::Refused { message, .. } => message.clone(),
            Error::Declare(error) => error.message.clone(),
            Error::Resolve(error) => error.message.clone(),
            _ => self.to_string(),
        }
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn input_in_a_file_prints_the_file_first_and_keeps_it_as_data() {
        let error = Error::input_in("environments/prod/env.yaml", "domain `bad` is wrong")
            .hint("use a DNS name");
        assert_eq!(
            error.to_string(),
            "environments/prod/env.yaml: domain `bad` is wrong"
        );
        assert_eq!(error.message(), "domain `bad` is wrong");
        assert_eq!(
            error.location().map(|location| location.file),
            Some("environments/prod/env.yaml".to_string())
        );
        assert_eq!(
            error.report(),
            "error: environments/prod/env.yaml: domain `bad` is wrong\n  hint: use a DNS name"
        );
    }

    #[test]
    fn wrapped_errors_keep_their_source() {
        let io = Error::io("x.yaml", "read", std::io::Error::other("disk on fire"));
        assert_eq!(
            io.source().map(|source| source.to_string()),
            Some("disk on fire".into())
        );
        let sealed = Error::seal(
            "secret `a`: ",
            Some("re-seal it".into()),
            std::io::Error::other("bad ciphertext"),
        );
        assert_eq!(sealed.to_string(), "secret `a`: bad ciphertext");
        assert_eq!(sealed.exit_code(), 2);
        assert!(sealed.source().is_some());
        assert_eq!(sealed.hint_text().as_deref(), Some("re-seal it"));
    }

    #[test]
    fn declaration_errors_locate_line_and_column() {
        let error = Error::Declaration {
            path: "environments/prod/env.yaml".into(),
            line: 3,
            column: 7,
            message: "unknown field `bogus`".into(),
        };
        assert_eq!(
            error.to_string(),
            "environments/prod/env.yaml:3:7: unknown field `bogus`"
        );
        let location = error.location().expect("located");
        assert_eq!((location.line, location.column), (3, 7));
    }
}
