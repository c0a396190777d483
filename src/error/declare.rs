//! `DeclareError`: a declaration file (`dbos-gitops.yaml`, `env.yaml`, `versions.yaml`,
//! `dex-users.yaml`) that does not parse or does not fit its schema. The declaration layer
//! returns it (`crate::declare::DeclareError`); it lives down here so the crate `Error` can wrap
//! it without the error module importing a layer above it.

/// A declaration file that does not parse or does not fit the schema, with its place as data.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", located(file, *line, *column, message))]
pub struct DeclareError {
    /// Repository-relative path of the file.
    pub file: String,
    /// 1-based; 0 when the parser gave no position.
    pub line: usize,
    pub column: usize,
    /// Dotted path of the offending key, e.g. `argocd.project`, when known.
    pub field: Option<String>,
    pub message: String,
    pub hint: Option<String>,
}

/// The hint of a declaration error that has no more specific one.
pub const DECLARATION_HINT: &str =
    "see the declaration reference in README.md (`dbos-gitops init env --help` shows the defaults)";

pub(crate) fn located(file: &str, line: usize, column: usize, message: &str) -> String {
    if line > 0 {
        format!("{file}:{line}:{column}: {message}")
    } else {
        format!("{file}: {message}")
    }
}

impl DeclareError {
    /// A parse error of `file` at `line`:`column` (0 when unknown), with the generic hint.
    pub fn new(
        file: impl Into<String>,
        line: usize,
        column: usize,
        message: impl Into<String>,
    ) -> Self {
        DeclareError {
            file: file.into(),
            line,
            column,
            field: None,
            message: message.into(),
            hint: Some(DECLARATION_HINT.to_string()),
        }
    }

    pub fn field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn hint(mut self, text: impl Into<String>) -> Self {
        self.hint = Some(text.into());
        self
    }
}
