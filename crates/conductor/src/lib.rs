//! A blocking client of the DBOS Conductor API (#22), for the operations dbos-gitops makes:
//! register an application and mint, list and delete its API keys (`conductor register`), list
//! versions, set the latest, search workflows and list executors (the `--conductor-url`
//! variants of `version` and `retire`).
//!
//! The contract is Conductor's OpenAPI 3.1 specification (`openapi-3.1.json`, as vendored by
//! dbos-inc/dbos-ctl); the request and response types here follow its component schemas by
//! name, and the tests check every body we send against those schemas with Python `jsonschema`
//! and every request against a server that validates them (tests/support/conductor_spec_server.py).
//! Errors are RFC 9457 problem documents (`ErrorModel`). Operations Conductor serves through a
//! connected executor (versions, workflows) answer 503 when none is connected: that is
//! [`ConductorError::is_no_executor`], never an empty answer.
//!
//! HTTPS is rustls with the AWS-LC provider (no `ring`), trusting the platform's roots and, when
//! given, one more CA (an environment's self-signed certificate). Secrets in bodies (the bearer
//! token, a created key) are held in zeroizing buffers here; the HTTP and TLS layers below keep
//! their own transient buffers.

mod client;
mod error;
mod types;

pub use client::{Client, ClientOptions};
pub use error::ConductorError;
pub use types::{
    AppVersion, CreateTokenBody, Executor, PutAppBody, SetLatestVersionBody, Token, TokenCreated,
    Workflow, WorkflowSearchBody, EXECUTOR_PERMISSIONS,
};
