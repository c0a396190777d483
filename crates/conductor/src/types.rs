//! Request and response bodies, named after the specification's component schemas.
//! `additionalProperties: false` holds on every input schema: optional fields are left out
//! when unset, never sent as `null` unless the schema allows it.

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// What an application executor's key needs: connect its websocket to Conductor (the
/// permissions page, "websocket.connect: for an API key, connect a running application
/// executor"). Nothing else: the key cannot read or change workflows through the API.
pub const EXECUTOR_PERMISSIONS: &[&str] = &["websocket.connect"];

/// `PutAppInputBody` of `registerApp`.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PutAppBody {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private_mode: Option<bool>,
}

/// `CreateTokenInputBody` of `createToken`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateTokenBody {
    pub app_names: Vec<String>,
    pub permissions: Vec<String>,
}

/// `TokenCreated`: the key, returned once. Deserialized straight into a zeroizing string.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenCreated {
    pub token: Zeroizing<String>,
    pub token_name: String,
}

impl std::fmt::Debug for TokenCreated {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("TokenCreated")
            .field("token", &"<redacted>")
            .field("token_name", &self.token_name)
            .finish()
    }
}

/// `Token` of `listTokens` (no secret in it).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Token {
    pub token_name: String,
    pub created_at: String,
    pub permissions: Vec<String>,
    pub app_ids: Vec<String>,
}

/// `ApplicationVersion` of `listAppVersions`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppVersion {
    pub version_id: String,
    pub version_name: String,
    pub version_timestamp: String,
    pub created_at: String,
}

/// `PatchLatestVersionInputBody` of `setLatestAppVersion`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SetLatestVersionBody {
    pub version_name: String,
}

/// `Executor` of `listExecutors` (the fields we read).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Executor {
    pub executor_id: String,
    pub app_version: String,
    /// `HEALTHY`, `DISCONNECTED` or `DEAD`.
    pub status: String,
    pub hostname: Option<String>,
}

/// `WorkflowSearchBody` of `searchWorkflows` (the filters we use).
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkflowSearchBody {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_version: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u32>,
    /// Newest first when true; DBOS lists oldest first by default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sort_desc: Option<bool>,
    /// Whether to load each workflow's (possibly large) inputs and outputs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub load_input: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub load_output: Option<bool>,
}

/// `Workflow` of `searchWorkflows` (the fields we read; inputs and outputs are not loaded).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Workflow {
    pub workflow_id: String,
    pub status: String,
    pub workflow_name: Option<String>,
    pub app_version: Option<String>,
    pub queue_name: Option<String>,
}

/// `ErrorModel` (RFC 9457).
#[derive(Debug, Deserialize)]
pub(crate) struct Problem {
    pub title: Option<String>,
    pub detail: Option<String>,
}
