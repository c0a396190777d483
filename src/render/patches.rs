//! Strategic-merge patches over the base: what varies per environment for the objects the base
//! already declares (images, replica counts, in-namespace addresses, the active version).

use serde_json::{json, Value};

use crate::model::Environment;

fn deployment_patch(name: &str, spec: Value) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": { "name": name },
        "spec": spec,
    })
}

pub fn conductor(env: &Environment) -> Value {
    let mut container = json!({ "name": "conductor", "image": env.conductor_image });
    if let Some(dex) = &env.dex {
        container["env"] = Value::Array(super::dex::conductor_environment(dex));
    }
    deployment_patch(
        "conductor",
        json!({
            "replicas": env.conductor_replicas,
            "template": { "spec": { "containers": [container] } }
        }),
    )
}

pub fn console(env: &Environment) -> Value {
    let mut environment = vec![json!({
        "name": "DBOS_CONDUCTOR_URL",
        "value": format!("conductor.{}.svc.cluster.local:8090", env.namespace),
    })];
    if let Some(dex) = &env.dex {
        environment.extend(super::dex::console_environment(dex));
    }
    deployment_patch(
        "console",
        json!({
            "replicas": env.console_replicas,
            "template": { "spec": { "containers": [ {
                "name": "console",
                "image": env.console_image,
                "env": environment,
            } ] } }
        }),
    )
}

/// The Service selects the active version only. Without any version there is no app yet: the
/// Service is dropped from the render.
pub fn app_service(env: &Environment) -> Value {
    let Some(active) = &env.active else {
        return json!({
            "$patch": "delete",
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": { "name": "dbos-app" },
        });
    };
    json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": { "name": "dbos-app" },
        "spec": { "selector": {
            "app.kubernetes.io/name": "dbos-app",
            "app.kubernetes.io/version": active.as_str(),
        } }
    })
}

/// The migrate Job runs the newest version's image (or the declared migrate image), so the
/// schema is at least as new as the newest code, with the command of the app's language. No
/// image (no version yet, or a Go app without `app.migrate.image`): no Job.
pub fn migrate(env: &Environment) -> Value {
    let Some(image) = &env.migrate_image else {
        return json!({
            "$patch": "delete",
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": { "name": "dbos-migrate" },
        });
    };
    json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": { "name": "dbos-migrate" },
        "spec": { "template": { "spec": { "containers": [ {
            "name": "migrate",
            "image": image,
            "command": env.migrate_command,
        } ] } } }
    })
}
