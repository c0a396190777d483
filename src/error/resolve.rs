//! `ResolveError`: declarations that parse but do not resolve into a model (a bad domain, an
//! image that is not a reference, an active version that is not declared, ...). The model layer
//! returns it (`crate::model::ResolveError`); it lives down here so the crate `Error` can wrap it
//! without the error module importing a layer above it.

/// Declarations that parse but contradict a rule, with the file and field as data.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", match file { Some(file) => format!("{file}: {message}"), None => message.clone() })]
pub struct ResolveError {
    /// Repository-relative path of the file holding the bad value; `None` for rules across
    /// environments.
    pub file: Option<String>,
    /// Dotted path of the offending key, e.g. `app.autoscaling.max-replicas`, when one key is
    /// at fault.
    pub field: Option<String>,
    pub message: String,
    pub hint: Option<String>,
}

impl ResolveError {
    pub fn new(message: impl Into<String>) -> Self {
        ResolveError {
            file: None,
            field: None,
            message: message.into(),
            hint: None,
        }
    }

    pub fn in_file(file: impl Into<String>, message: impl Into<String>) -> Self {
        ResolveError {
            file: Some(file.into()),
            ..ResolveError::new(message)
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
