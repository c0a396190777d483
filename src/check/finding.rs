//! What a check reports: a [`Finding`] (its severity, stable code, file, message and hint), and
//! the repository-relative path text findings name. The bottom of `check`: every family of
//! checks makes findings, the runner (`mod.rs`) sorts and prints them.

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
    /// A check that could not run; never counted as passed.
    Skipped,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Skipped => "skipped",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub severity: Severity,
    /// Stable kebab-case id, e.g. `missing-secret`.
    pub code: &'static str,
    /// Repository-relative, `/`-separated; a directory for environment-wide findings.
    pub file: String,
    pub message: String,
    pub hint: Option<String>,
    /// Dotted path of the offending key in `file` (`app.autoscaling.max-replicas`), when one
    /// key is at fault. In `--format json` only when known (an added optional key).
    pub field: Option<String>,
    /// 1-based line and column of the fault in `file`; 0 when unknown (then not in the JSON).
    pub line: usize,
    pub column: usize,
}

impl Finding {
    pub fn error(code: &'static str, file: impl Into<String>, message: impl Into<String>) -> Self {
        Finding {
            severity: Severity::Error,
            code,
            file: file.into(),
            message: message.into(),
            hint: None,
            field: None,
            line: 0,
            column: 0,
        }
    }

    pub fn warning(
        code: &'static str,
        file: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Finding {
            severity: Severity::Warning,
            ..Finding::error(code, file, message)
        }
    }

    pub fn skipped(
        code: &'static str,
        file: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Finding {
            severity: Severity::Skipped,
            ..Finding::error(code, file, message)
        }
    }

    pub fn hint(mut self, text: impl Into<String>) -> Self {
        self.hint = Some(text.into());
        self
    }

    pub fn field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// `file:line:column` in the text output when the line is known.
    pub(super) fn place(&self) -> String {
        if self.line > 0 {
            format!("{}:{}:{}", self.file, self.line, self.column)
        } else {
            self.file.clone()
        }
    }
}

/// Repository-relative path text.
pub(crate) fn relative(dir: &str, file: &str) -> String {
    if dir.is_empty() {
        file.to_string()
    } else {
        format!("{dir}/{file}")
    }
}
