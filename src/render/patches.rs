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
    let mut pod_spec = json!({});
    if let Some(dex) = &env.dex {
        let mut environment = super::dex::conductor_environment(dex);
        if env.ca_bundle {
            // #21.8: a Conductor that discovers its keys from `DBOS_OAUTH_ISSUER` fetches
            // `https://dex.<domain>/dex/.well-known/openid-configuration` through the proxy, which
            // serves our self-signed certificate: trust it the way the app pods do.
            trust_published_ca(&mut container, &mut environment, &mut pod_spec);
        }
        container["env"] = Value::Array(environment);
    }
    pod_spec["containers"] = json!([container]);
    deployment_patch(
        "conductor",
        json!({
            "replicas": env.conductor_replicas,
            "template": { "spec": pod_spec }
        }),
    )
}

/// The trust setup of `render::app` for the self-signed certificate: an init container appends
/// the public `dbos-ca` ConfigMap's `tls.crt` to the system bundle in an emptyDir, and
/// SSL_CERT_FILE (Go, Python) and NODE_EXTRA_CA_CERTS (Node.js) point at it.
fn trust_published_ca(container: &mut Value, environment: &mut Vec<Value>, pod_spec: &mut Value) {
    const BUNDLE: &str = "/certs/ca-certificates.crt";
    environment.push(json!({ "name": "SSL_CERT_FILE", "value": BUNDLE }));
    environment.push(json!({ "name": "NODE_EXTRA_CA_CERTS", "value": BUNDLE }));
    container["volumeMounts"] =
        json!([ { "name": "ca-certs", "mountPath": "/certs", "readOnly": true } ]);
    pod_spec["initContainers"] = json!([ {
        "name": "setup-certs",
        "image": "alpine:3.20",
        "command": ["sh", "-c",
            format!("cp /etc/ssl/certs/ca-certificates.crt {BUNDLE} && cat /tls/tls.crt >> {BUNDLE}")],
        "volumeMounts": [
            { "name": "tls-cert", "mountPath": "/tls", "readOnly": true },
            { "name": "ca-certs", "mountPath": "/certs" },
        ],
    } ]);
    pod_spec["volumes"] = json!([
        { "name": "tls-cert", "configMap": { "name": super::kustomize::CA_CONFIG_MAP,
            "items": [ { "key": crate::declare::TLS_CERT_FILE, "path": "tls.crt" } ] } },
        { "name": "ca-certs", "emptyDir": {} },
    ]);
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
