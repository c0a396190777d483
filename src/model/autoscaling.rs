//! KEDA autoscaling of the active version: the trigger, the replica bounds and the PostgreSQL
//! queue-depth query of the `postgresql` trigger.

use super::checks::env_error;
use crate::declare::{EnvName, EnvSpec, TriggerKind, VersionsSpec};
use crate::error::ResolveError;

#[derive(Clone, Debug)]
pub struct Autoscaling {
    pub trigger: TriggerKind,
    /// The query of the `postgresql` trigger: the queue's ENQUEUED and PENDING workflows of the
    /// active version, and the version-less ENQUEUED ones while it is DBOS's latest version
    /// (decided by the query itself, against `application_versions`), scoped to `app.name`.
    pub postgres_query: Option<String>,
    pub queue: String,
    pub worker_concurrency: u32,
    pub min_replicas: u32,
    pub max_replicas: u32,
}

pub(super) fn resolve(
    name: &EnvName,
    spec: &EnvSpec,
    versions: &VersionsSpec,
) -> Result<Option<Autoscaling>, ResolveError> {
    let Some(autoscaling) = &spec.app.autoscaling else {
        return Ok(None);
    };
    let min_default = match autoscaling.trigger {
        TriggerKind::MetricsApi => 1,
        TriggerKind::Postgresql => 0,
    };
    let min_replicas = autoscaling.min_replicas.unwrap_or(min_default);
    super::checks::check_int32(name, "app.autoscaling.min-replicas", min_replicas, 0)?;
    super::checks::check_int32(
        name,
        "app.autoscaling.max-replicas",
        autoscaling.max_replicas,
        0,
    )?;
    if autoscaling.trigger == TriggerKind::MetricsApi && min_replicas == 0 {
        return Err(env_error(
            name,
            "env.yaml",
            "app.autoscaling.min-replicas is 0, but the metrics-api trigger polls the app itself and needs a running pod".to_string(),
        )
        .field("app.autoscaling.min-replicas")
        .hint("use `min-replicas: 1`, or `trigger: postgresql` for scale-to-zero"));
    }
    if autoscaling.worker_concurrency == 0 {
        return Err(bounds_error(name).field("app.autoscaling.worker-concurrency"));
    }
    if autoscaling.max_replicas < min_replicas.max(1) {
        return Err(bounds_error(name).field("app.autoscaling.max-replicas"));
    }
    let queue_ok = !autoscaling.queue.is_empty()
        && autoscaling.queue.chars().all(|character| {
            character.is_ascii_alphanumeric() || matches!(character, '_' | '-' | '.')
        });
    if !queue_ok {
        return Err(env_error(
            name,
            "env.yaml",
            format!(
                "app.autoscaling.queue `{}` must be a plain queue name (letters, digits, `_`, `-`, `.`)",
                autoscaling.queue
            ),
        )
        .field("app.autoscaling.queue"));
    }
    let postgres_query = match (&autoscaling.trigger, &versions.active) {
        (TriggerKind::Postgresql, Some(active)) => Some(
            dbos_gitops_drain::keda_queue_depth_sql(
                dbos_gitops_drain::DEFAULT_SCHEMA,
                &autoscaling.queue,
                active.as_str(),
                spec.app.name.as_deref(),
            )
            .map_err(|error| {
                env_error(name, "env.yaml", format!("app.autoscaling: {error}"))
                    .field("app.autoscaling.queue")
            })?,
        ),
        _ => None,
    };
    Ok(Some(Autoscaling {
        trigger: autoscaling.trigger,
        postgres_query,
        queue: autoscaling.queue.clone(),
        worker_concurrency: autoscaling.worker_concurrency,
        min_replicas,
        max_replicas: autoscaling.max_replicas,
    }))
}

fn bounds_error(name: &EnvName) -> ResolveError {
    env_error(
        name,
        "env.yaml",
        "app.autoscaling: worker-concurrency must be at least 1 and max-replicas at least min-replicas (and 1)".to_string(),
    )
}
