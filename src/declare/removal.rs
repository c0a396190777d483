//! `environments/<env>/removal.yaml`: the record of an environment being removed by the
//! cascade (`env remove NAME --cascade`, #24.7). Tool-maintained, like `versions.yaml`: step 1
//! writes it beside `env.yaml` (the environment still builds, its Application marked for the
//! cascade); step 2 removes everything else of the environment and keeps it, so that the
//! AppProject keeps admitting what the cascade deletes; step 3 removes it.
//!
//! It holds what the AppProject needs once `env.yaml` is gone: the destination and the kinds
//! that only this environment brought into the project's whitelist.

use serde::{Deserialize, Serialize};

use super::names::Namespace;

/// The record's file name, beside `env.yaml`.
pub const REMOVAL_FILE: &str = "removal.yaml";

/// An environment being removed by the cascade: written by `dbos-gitops env remove NAME
/// --cascade` (step 1) and removed by its step 3. Do not edit it by hand.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
#[schemars(title = "removal.yaml")]
pub struct RemovalSpec {
    /// The namespace the environment deployed into: stays among the AppProject's destinations
    /// until step 3, so that Argo CD may delete the objects there.
    #[schemars(example = &"dbos-staging")]
    pub namespace: Namespace,
    /// The cluster the environment deployed to (its Application's `destination.server`).
    #[schemars(example = &"https://kubernetes.default.svc")]
    pub cluster: String,
    /// Kinds of the AppProject's namespaced whitelist this environment rendered beyond the
    /// fixed ones (Gateway API and policy kinds), as `group/Kind`: kept until step 3.
    #[serde(default)]
    #[schemars(example = &"gateway.networking.k8s.io/HTTPRoute")]
    pub kinds: Vec<String>,
}

pub fn removal_file_text(spec: &RemovalSpec) -> Result<String, crate::error::Error> {
    let value = serde_json::to_value(spec)
        .map_err(|error| crate::error::Error::input(format!("removal record: {error}")))?;
    Ok(format!(
        "{}\n\
         # This environment is being removed by `dbos-gitops env remove NAME --cascade`\n\
         # (README, \"Removing an environment\"). Maintained by that command: do not edit.\n{}",
        super::modelines::REMOVAL_MODELINE,
        crate::yaml::emit(&value)
    ))
}
