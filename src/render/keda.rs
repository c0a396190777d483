//! KEDA autoscaling of the active version: the guide's `metrics-api` trigger polling the app's
//! queue-depth endpoint, or a `postgresql` trigger that counts the queue's ENQUEUED workflows in
//! the DBOS system tables (no pod needed to read it, so it allows scale-to-zero).

use serde_json::{json, Value};

use super::meta;
use crate::model::Environment;
use crate::spec::TriggerKind;

pub const TRIGGER_AUTHENTICATION: &str = "dbos-app-keda";

pub fn documents(env: &Environment) -> Option<Vec<Value>> {
    let autoscaling = env.autoscaling.as_ref()?;
    let active = env.active.as_ref()?;
    let target = Environment::deployment_name(active);
    let mut documents = Vec::new();
    let trigger = match autoscaling.trigger {
        TriggerKind::MetricsApi => json!({
            "type": "metrics-api",
            "metadata": {
                "url": format!(
                    "http://dbos-app.{}.svc.cluster.local:8080/metrics/{}",
                    env.namespace, autoscaling.queue
                ),
                "valueLocation": "queue_length",
                "targetValue": autoscaling.worker_concurrency.to_string(),
            }
        }),
        TriggerKind::Postgresql => {
            documents.push(json!({
                "apiVersion": "keda.sh/v1alpha1",
                "kind": "TriggerAuthentication",
                "metadata": {
                    "name": TRIGGER_AUTHENTICATION,
                    "labels": meta::labels(TRIGGER_AUTHENTICATION, "autoscaling"),
                    "annotations": { "argocd.argoproj.io/sync-wave": "-1" },
                },
                "spec": { "secretTargetRef": [ {
                    "parameter": "connection",
                    "name": "dbos-app-db",
                    "key": "database-url",
                } ] }
            }));
            json!({
                "type": "postgresql",
                "metadata": {
                    "query": autoscaling.postgres_query.clone().unwrap_or_default(),
                    "targetQueryValue": autoscaling.worker_concurrency.to_string(),
                    "activationTargetQueryValue": "0",
                },
                "authenticationRef": { "name": TRIGGER_AUTHENTICATION },
            })
        }
    };
    documents.push(json!({
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": {
            "name": target,
            "labels": meta::labels(&target, "autoscaling"),
            "annotations": { "argocd.argoproj.io/sync-wave": "4" },
        },
        "spec": {
            "scaleTargetRef": { "name": target },
            "pollingInterval": 15,
            "cooldownPeriod": 60,
            "minReplicaCount": autoscaling.min_replicas,
            "maxReplicaCount": autoscaling.max_replicas,
            "triggers": [trigger],
        }
    }));
    Some(documents)
}
