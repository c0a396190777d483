//! Every overlay renders with `kubectl kustomize`, exactly what Argo CD runs. The only check
//! that spawns processes: one render per environment, in parallel threads. When `kubectl` is not
//! on PATH (or `--no-render`), the check is reported as skipped, never as passed.
//!
//! The rendered objects are then read for what only the render shows: the KEDA-scaled
//! Deployment as applied (no `replicas`), and secret references that the inventory does not
//! know (a user's own patch or resource), which must be sealed like the rest. What the
//! findings need from a render is extracted once into [`Facts`], which the render cache keeps
//! (`cache.rs`), so a warm check neither renders nor parses an unchanged overlay; the findings
//! are computed from the facts and the current model on every run.

use std::collections::HashSet;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::env_check::EnvCheck;
use super::finding::Finding;
use crate::model::Environment;

pub fn check(
    tree: &crate::workspace::Tree,
    checks: &[EnvCheck<'_>],
    enabled: bool,
    earlier: &[Finding],
    cache_enabled: bool,
    known: super::inputs::KnownFiles,
) -> Vec<Finding> {
    if checks.is_empty() {
        return Vec::new();
    }
    if !enabled {
        return vec![Finding::skipped(
            "render-skipped",
            "",
            "render check skipped: --no-render",
        )];
    }
    let Some(kubectl) = super::kubectl::find() else {
        return vec![Finding::skipped(
            "render-skipped",
            "",
            "render check skipped: kubectl not found",
        )
        .hint("install kubectl to render every overlay as Argo CD will")];
    };
    let cache = super::cache::RenderCache::new(&kubectl, cache_enabled);
    let keys = cache
        .enabled()
        .then(|| super::inputs::WorkTreeKeys::new(tree, &known));
    let version = facts_version();
    let reported = replicas_reported(earlier);
    let progress = super::cache::progress(checks.len());
    let context = Renders {
        root: tree.root(),
        kubectl: &kubectl,
        cache: &cache,
        keys: keys.as_ref(),
        version: &version,
    };
    let results = super::pool::run(
        checks,
        |check| render_env(&context, check, &reported),
        || {
            if let Some(bar) = &progress {
                bar.inc(1);
            }
        },
    );
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    cache.finish();
    results.into_iter().flatten().collect()
}

/// What every render of one `check` shares.
struct Renders<'a> {
    root: &'a Path,
    kubectl: &'a Path,
    cache: &'a super::cache::RenderCache,
    /// `None` when nothing is cached (no key is computed).
    keys: Option<&'a super::inputs::WorkTreeKeys<'a>>,
    version: &'a str,
}

/// Bumped when [`Facts`] or what [`extract`] puts into them changes meaning. The cache also
/// keys on the source text of this file and of `yaml/mod.rs` (see [`facts_version`]), so an
/// edited extractor never reads facts an older one wrote, even when this is not bumped.
const FACTS_VERSION: u32 = 1;

/// What the cache stores as the version of the facts: the crate version, [`FACTS_VERSION`] and a
/// digest of the extracting code's source.
fn facts_version() -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    hasher.update(include_str!("render.rs"));
    hasher.update([0]);
    hasher.update(include_str!("../yaml/mod.rs"));
    format!(
        "{}/{FACTS_VERSION}/{:x}",
        env!("CARGO_PKG_VERSION"),
        hasher.finalize()
    )
}

/// What the findings read from one successful render, independent of the model, so it can be
/// cached with the render's inputs.
#[derive(Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Facts {
    /// Every Deployment with a string name, in render order, and whether it sets a numeric
    /// `spec.replicas`.
    deployments: Vec<(String, bool)>,
    /// Every secret reference: `(secret, key, used_by)` (see [`references`]).
    references: Vec<(String, String, String)>,
}

/// Parses kustomize's output and takes the facts from it; `Err` is the YAML reader's reason.
fn extract(dir: &str, text: &str) -> Result<Facts, String> {
    let objects =
        crate::yaml::parse_documents(Path::new(dir), text).map_err(|error| error.to_string())?;
    let deployments = objects
        .iter()
        .filter(|object| object["kind"] == "Deployment")
        .filter_map(|object| {
            let name = object["metadata"]["name"].as_str()?;
            Some((name.to_string(), object["spec"]["replicas"].is_number()))
        })
        .collect();
    Ok(Facts {
        deployments,
        references: references(&objects),
    })
}

/// The environment directories whose `replicas-on-autoscaled` an earlier check already
/// reported (the render's finding would repeat it).
fn replicas_reported(earlier: &[Finding]) -> HashSet<String> {
    earlier
        .iter()
        .filter(|finding| finding.code == "replicas-on-autoscaled")
        .filter_map(|finding| crate::layout::env_of(&finding.file).map(crate::layout::env_dir))
        .collect()
}

fn render_env(
    context: &Renders<'_>,
    check: &EnvCheck<'_>,
    reported: &HashSet<String>,
) -> Vec<Finding> {
    let local = context.keys.map(|keys| keys.local(&check.dir));
    let widen = || {
        let (key, files) = local.as_ref()?;
        context.keys?.widen(&check.dir, *key, files)
    };
    let output = context.cache.facts(
        (context.kubectl, context.root, &check.dir),
        local.as_ref().map(|(key, _)| *key),
        widen,
        context.version,
        |text| extract(&check.dir, text),
    );
    let output = match output {
        Ok(output) => output,
        Err(error) => {
            return vec![Finding::skipped(
                "render-skipped",
                &check.dir,
                format!("render check skipped: could not run kubectl: {error}"),
            )]
        }
    };
    let facts = match output {
        super::cache::Rendered::Success(facts) => facts,
        super::cache::Rendered::Failure(stderr) => {
            let reason = stderr
                .lines()
                .map(|line| line.trim().trim_start_matches("error: "))
                .find(|line| !line.is_empty())
                .unwrap_or("kubectl kustomize failed")
                .to_string();
            return vec![Finding::error(
            "render-failed",
            &check.dir,
            format!("`kubectl kustomize {}` fails: {reason}", check.dir),
        )
        .hint(format!(
            "run `kubectl kustomize {}` to see the whole error; `dbos-gitops build` restores generated files",
            check.dir
        ))];
        }
        super::cache::Rendered::Unreadable(reason) => {
            // kustomize succeeded but we cannot read what it printed: the checks below would
            // see nothing, so say so instead of passing. (Only for a resolved environment, as
            // before the facts were cached.)
            return match check.env {
                Some(_) => vec![unreadable_render(&check.dir, &reason)],
                None => Vec::new(),
            };
        }
    };
    let Some(env) = &check.env else {
        return Vec::new();
    };
    let mut findings = Vec::new();
    findings.extend(autoscaled_replicas(
        check,
        env,
        &facts,
        reported.contains(&check.dir),
    ));
    findings.extend(unknown_references(check, env, &facts.references));
    findings
}

/// `kubectl kustomize` exited 0 but printed something our YAML reader refuses.
fn unreadable_render(dir: &str, error: &str) -> Finding {
    Finding::error(
        "render-unreadable",
        dir,
        format!("`kubectl kustomize {dir}` printed output that is not readable YAML: {error}"),
    )
    .hint(format!(
        "run `kubectl kustomize {dir}` and look at the output; if kubectl printed valid YAML, \
         report it as a dbos-gitops bug with that output"
    ))
}

fn autoscaled_replicas(
    check: &EnvCheck<'_>,
    env: &Environment,
    facts: &Facts,
    reported: bool,
) -> Option<Finding> {
    env.autoscaling.as_ref()?;
    let deployment = Environment::deployment_name(env.active.as_ref()?);
    let (_, replicas) = facts
        .deployments
        .iter()
        .find(|(name, _)| *name == deployment)?;
    (!reported && *replicas).then(|| super::versions::replicas_finding(&check.dir, env))
}

/// `(secret, key, used_by)`; `key` is empty for whole-secret references.
fn references(objects: &[Value]) -> Vec<(String, String, String)> {
    let mut found = Vec::new();
    for object in objects {
        let kind = object["kind"].as_str().unwrap_or("");
        let used_by = format!(
            "{kind}/{}",
            object["metadata"]["name"].as_str().unwrap_or("")
        );
        let pod = match kind {
            "Deployment" | "StatefulSet" | "DaemonSet" | "Job" | "ReplicaSet" => {
                &object["spec"]["template"]["spec"]
            }
            "CronJob" => &object["spec"]["jobTemplate"]["spec"]["template"]["spec"],
            "Pod" => &object["spec"],
            "Ingress" => {
                for tls in object["spec"]["tls"].as_array().into_iter().flatten() {
                    if let Some(secret) = tls["secretName"].as_str() {
                        for key in ["tls.crt", "tls.key"] {
                            found.push((secret.to_string(), key.to_string(), used_by.clone()));
                        }
                    }
                }
                continue;
            }
            // #21: a Gateway's or ListenerSet's HTTPS listeners read their certificate.
            "Gateway" | "ListenerSet" => {
                let listeners = object["spec"]["listeners"].as_array().into_iter().flatten();
                for reference in listeners.flat_map(|listener| {
                    listener["tls"]["certificateRefs"]
                        .as_array()
                        .into_iter()
                        .flatten()
                }) {
                    if let Some(secret) = reference["name"].as_str() {
                        for key in ["tls.crt", "tls.key"] {
                            found.push((secret.to_string(), key.to_string(), used_by.clone()));
                        }
                    }
                }
                continue;
            }
            "TriggerAuthentication" => {
                for target in object["spec"]["secretTargetRef"]
                    .as_array()
                    .into_iter()
                    .flatten()
                {
                    if let (Some(secret), Some(key)) =
                        (target["name"].as_str(), target["key"].as_str())
                    {
                        found.push((secret.to_string(), key.to_string(), used_by.clone()));
                    }
                }
                continue;
            }
            _ => continue,
        };
        let containers = ["containers", "initContainers"]
            .iter()
            .flat_map(|field| pod[*field].as_array().into_iter().flatten());
        for container in containers {
            for variable in container["env"].as_array().into_iter().flatten() {
                let reference = &variable["valueFrom"]["secretKeyRef"];
                if let (Some(secret), Some(key)) =
                    (reference["name"].as_str(), reference["key"].as_str())
                {
                    if reference["optional"] != true {
                        found.push((secret.to_string(), key.to_string(), used_by.clone()));
                    }
                }
            }
            for source in container["envFrom"].as_array().into_iter().flatten() {
                let reference = &source["secretRef"];
                if let Some(secret) = reference["name"].as_str() {
                    if reference["optional"] != true {
                        found.push((secret.to_string(), String::new(), used_by.clone()));
                    }
                }
            }
        }
        for volume in pod["volumes"].as_array().into_iter().flatten() {
            let mut add = |reference: &Value| {
                let Some(secret) = reference["secretName"]
                    .as_str()
                    .or(reference["name"].as_str())
                else {
                    return;
                };
                if reference["optional"] == true {
                    return;
                }
                let items: Vec<&str> = reference["items"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|item| item["key"].as_str())
                    .collect();
                if items.is_empty() {
                    found.push((secret.to_string(), String::new(), used_by.clone()));
                }
                for key in items {
                    found.push((secret.to_string(), key.to_string(), used_by.clone()));
                }
            };
            if volume["secret"].is_object() {
                add(&volume["secret"]);
            }
            for source in volume["projected"]["sources"]
                .as_array()
                .into_iter()
                .flatten()
            {
                if source["secret"].is_object() {
                    add(&source["secret"]);
                }
            }
        }
    }
    found
}

/// References the inventory does not list (the secrets check covers those) must be sealed too.
fn unknown_references(
    check: &EnvCheck<'_>,
    env: &Environment,
    references: &[(String, String, String)],
) -> Vec<Finding> {
    let inventory = crate::inventory::references(env);
    let mut findings = Vec::new();
    let mut seen = Vec::new();
    for (secret, key, used_by) in references.iter().cloned() {
        let known = inventory.iter().any(|reference| {
            reference.secret == secret
                && (key.is_empty() || reference.key == key || reference.key.is_empty())
        });
        if known || seen.contains(&(secret.clone(), key.clone())) {
            continue;
        }
        seen.push((secret.clone(), key.clone()));
        let user = used_by.replacen('/', " `", 1) + "`";
        let sealed = check.sealed.iter().find_map(|file| {
            file.sealed
                .as_ref()
                .filter(|sealed| sealed.name == secret)
                .map(|sealed| (file, sealed))
        });
        match sealed {
            None => {
                if check
                    .sealed
                    .iter()
                    .any(|file| file.sealed.is_none() && file.stem == secret)
                {
                    continue;
                }
                let key_text = if key.is_empty() {
                    String::new()
                } else {
                    format!(" (key `{key}`)")
                };
                findings.push(
                    Finding::error(
                        "missing-secret",
                        &check.dir,
                        format!(
                            "secret `{secret}`{key_text} is referenced by {user} but not sealed"
                        ),
                    )
                    .hint(super::secrets::fix_command(
                        check.name(),
                        &secret,
                        if key.is_empty() { "KEY" } else { &key },
                    )),
                );
            }
            Some((file, sealed)) => {
                if key.is_empty()
                    || sealed.encrypted_data.contains_key(&key)
                    || sealed.template.data.contains_key(&key)
                {
                    continue;
                }
                findings.push(
                    Finding::error(
                        "missing-secret-key",
                        &file.path,
                        format!("secret `{secret}` has no key `{key}`, which {user} reads"),
                    )
                    .hint(super::secrets::fix_command(
                        check.name(),
                        &secret,
                        &key,
                    )),
                );
            }
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replicas_reported_matches_whole_environment_names() {
        let earlier = vec![
            Finding::error(
                "replicas-on-autoscaled",
                "environments/prod-eu/env.yaml",
                "x",
            ),
            Finding::error("other-code", "environments/staging/env.yaml", "x"),
        ];
        let reported = replicas_reported(&earlier);
        assert!(reported.contains("environments/prod-eu"));
        // `environments/prod` is a prefix of the reported file but another environment.
        assert!(!reported.contains("environments/prod"));
        assert!(!reported.contains("environments/staging"));
    }

    #[test]
    fn facts_name_deployments_and_references() {
        let text = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 2\n  template:\n    spec:\n      containers:\n      - name: c\n        env:\n        - name: A\n          valueFrom:\n            secretKeyRef:\n              name: s\n              key: k\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: scaled\nspec: {}\n";
        let facts = extract("environments/prod", text).unwrap();
        assert_eq!(
            facts.deployments,
            vec![("web".to_string(), true), ("scaled".to_string(), false)]
        );
        assert_eq!(
            facts.references,
            vec![(
                "s".to_string(),
                "k".to_string(),
                "Deployment/web".to_string()
            )]
        );
        assert!(extract("environments/prod", "a: [\n").is_err());
        assert!(facts_version().starts_with(env!("CARGO_PKG_VERSION")));
    }
}
