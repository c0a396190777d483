//! One overlay per application version over the base workload template: the Deployment
//! `dbos-app-<v>` with `DBOS__APPVERSION=<v>`, a selector of name + version only (selectors are
//! immutable), and no `replicas` when KEDA scales it.

use serde_json::{json, Value};

use crate::declare::{ConductorConnection, TlsSource};
use crate::model::{Environment, Version};

/// Pod-template annotation: SHA-256 of the published self-signed CA (`tls.crt`) the pods trust.
pub const CA_DIGEST_ANNOTATION: &str = "dbos-gitops.io/ca-sha256";

pub fn version_kustomization(version: &Version) -> Value {
    json!({
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": ["../../../../base/app-version"],
        "nameSuffix": format!("-{}", version.name),
        "labels": [ {
            "pairs": { "app.kubernetes.io/version": version.name.as_str() },
            "includeSelectors": true,
            "includeTemplates": true,
        } ],
        "patches": [ { "path": "deployment.yaml" } ],
    })
}

pub fn version_patch(env: &Environment, version: &Version) -> Value {
    let mut environment = vec![
        json!({ "name": "DBOS__APPVERSION", "value": version.name.as_str() }),
        json!({ "name": "DBOS_CONDUCTOR_URL", "value": env.app_conductor_url }),
    ];
    let mut container = json!({ "name": "dbos-app", "image": version.image });
    let mut pod_spec = json!({});
    if env.conductor_connection == ConductorConnection::External && env.tls == TlsSource::SelfSigned
    {
        // The guide's trust setup for a self-signed certificate: an init container appends the
        // ingress certificate to the system CA bundle, and the app reads that bundle. The
        // certificate comes from the public `dbos-ca` ConfigMap (`dbos-gitops tls` writes it),
        // so app pods never mount the TLS secret with its private key. A CA-signed certificate
        // (cert-manager) needs none of this: the system bundle already trusts it.
        // Python (`ssl`) and Go (`crypto/x509`) read SSL_CERT_FILE; Node.js ignores it and adds
        // NODE_EXTRA_CA_CERTS to its built-in roots. Both point at the same bundle, whatever the
        // app's language. The JVM reads neither (README: "CA trust").
        environment.push(json!({ "name": "SSL_CERT_FILE", "value": "/certs/ca-certificates.crt" }));
        environment
            .push(json!({ "name": "NODE_EXTRA_CA_CERTS", "value": "/certs/ca-certificates.crt" }));
        container["volumeMounts"] =
            json!([ { "name": "ca-certs", "mountPath": "/certs", "readOnly": true } ]);
        pod_spec["initContainers"] = json!([ {
            "name": "setup-certs",
            "image": "alpine:3.20",
            "command": ["sh", "-c",
                "cp /etc/ssl/certs/ca-certificates.crt /certs/ca-certificates.crt && cat /tls/tls.crt >> /certs/ca-certificates.crt"],
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
    container["env"] = Value::Array(environment);
    pod_spec["containers"] = json!([container]);
    let mut template = json!({ "spec": pod_spec });
    if let Some(digest) = &env.ca_digest {
        // The CA is read once, by the init container at pod start: a reissued certificate
        // changes this digest, which rolls the pods onto it.
        template["metadata"] = json!({ "annotations": { CA_DIGEST_ANNOTATION: digest } });
    }
    // `replicas: null` deletes the field in a strategic-merge patch: KEDA owns the count.
    let replicas = match version.replicas {
        Some(count) => json!(count),
        None => Value::Null,
    };
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": { "name": "dbos-app" },
        "spec": { "replicas": replicas, "template": template },
    })
}
