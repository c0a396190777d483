//! The database bootstrap of `database init` (#22): once the environment's role secrets carry
//! their SCRAM verifiers, the overlay takes `base/components/database-bootstrap` (the Job and
//! its SQL) and makes the `dbos-database-bootstrap` ConfigMap from `database.env`, the
//! connection parts `database init` recorded. Nothing secret in either.

use serde_json::{json, Value};

use crate::model::database::DATABASE_ENV_FILE;
use crate::model::Environment;

pub const COMPONENT: &str = "../../base/components/database-bootstrap";
pub const CONFIG_MAP: &str = "dbos-database-bootstrap";

/// Whether `database init` has run for the environment: its Conductor role verifier is sealed.
pub fn enabled(env: &Environment) -> bool {
    env.database_bootstrap()
}

/// Adds the component and the ConfigMap generator to the env's kustomization.
pub fn extend(env: &Environment, kustomization: &mut Value) {
    if !enabled(env) {
        return;
    }
    push(kustomization, "components", json!(COMPONENT));
    push(
        kustomization,
        "configMapGenerator",
        json!({
            "name": CONFIG_MAP,
            "envs": [DATABASE_ENV_FILE],
            "options": {
                "disableNameSuffixHash": true,
                "labels": {
                    "app.kubernetes.io/name": CONFIG_MAP,
                    "app.kubernetes.io/component": "database-bootstrap",
                },
                // With the SealedSecrets, before the Job's wave.
                "annotations": { "argocd.argoproj.io/sync-wave": "-1" },
            },
        }),
    );
}

fn push(kustomization: &mut Value, field: &str, entry: Value) {
    match kustomization.get_mut(field).and_then(Value::as_array_mut) {
        Some(list) => list.push(entry),
        None => kustomization[field] = json!([entry]),
    }
}
