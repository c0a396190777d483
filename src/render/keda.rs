//! KEDA autoscaling of the active version: the guide's `metrics-api` trigger polling the app's
//! queue-depth endpoint, or a `postgresql` trigger that counts the queue's ENQUEUED and PENDING
//! workflows in the DBOS system tables (no pod needed to read it, so it allows scale-to-zero, and
//! a running workflow keeps its pod).
//!
//! How an autoscaled version steps down when another one is activated (issue 11). The
//! ScaledObject is named after the version's Deployment, so activating another version renders a
//! new ScaledObject and drops the old one, which Argo CD prunes in the ScaledObject's own wave
//! (after the new version is healthy and the Service has moved). Meanwhile the old Deployment's
//! rendered `replicas: 1` is not applied: with `RespectIgnoreDifferences=true` and
//! `/spec/replicas` ignored for every listed version, Argo CD copies the live value of every
//! ignored field into the manifest before it applies it (`normalizeTargetResources` in
//! argo-cd's `controller/sync.go`), so the server-side apply keeps whatever count KEDA had set and
//! nothing drops during the sync. When the ScaledObject is deleted, KEDA's finalizer stops the
//! scale loop and the HPA it owns is garbage-collected; by default KEDA then leaves the replica
//! count as it was, which would keep a large old version at its peak (or at zero) until retired.
//! `restoreToOriginalReplicaCount: true` makes the finalizer set the Deployment back to
//! `status.originalReplicaCount` instead (`finalizeScaledObject` in keda's
//! `controllers/keda/scaledobject_finalizer.go`): the count it had before KEDA took it over, which
//! is 1 because an autoscaled Deployment is created without `replicas`. So the old version keeps
//! its size until the prune, then steps down to the one pod that recovers its workflows, and a
//! version that KEDA had scaled to zero comes back to one.

use serde_json::{json, Value};

use super::meta;
use crate::declare::TriggerKind;
use crate::model::Environment;

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
            "advanced": { "restoreToOriginalReplicaCount": true },
            "triggers": [trigger],
        }
    }));
    Some(documents)
}
