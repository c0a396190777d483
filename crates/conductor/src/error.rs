//! What a Conductor call can fail with: a bad URL or CA, no answer, an error status, or an
//! answer that does not match Conductor's specification.

/// What went wrong talking to Conductor.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConductorError {
    #[error("`{url}` is not an http:// or https:// URL without query or fragment")]
    BadUrl { url: String },
    #[error("the CA certificate is not PEM: {reason}")]
    BadCa { reason: String },
    #[error("{operation}: cannot reach Conductor: {reason}")]
    Transport {
        operation: &'static str,
        reason: String,
    },
    #[error("{operation}: Conductor answered {status}{}", detail.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    Status {
        operation: &'static str,
        status: u16,
        detail: Option<String>,
    },
    #[error("{operation}: Conductor's answer does not match its specification: {reason}")]
    Decode {
        operation: &'static str,
        reason: String,
    },
}

impl ConductorError {
    pub fn status(&self) -> Option<u16> {
        match self {
            ConductorError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// 503 from an executor-served operation: no executor of the application is connected.
    pub fn is_no_executor(&self) -> bool {
        self.status() == Some(503)
    }
}
