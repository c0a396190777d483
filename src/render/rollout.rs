//! Pods that roll when, and only when, a secret value they read changed.
//!
//! Kubernetes reads a Secret into a container's environment once, at start (a mounted volume is
//! refreshed, but the processes we run read their configuration once too), and changing a
//! Secret restarts nothing. So every Deployment whose pods read a sealed secret (`secretKeyRef`,
//! `envFrom.secretRef`, a `secret` or projected volume) carries a pod-template annotation: a
//! digest of the sealed ciphertexts of exactly the keys it reads (all keys for `envFrom` and
//! volumes). A new value means a new ciphertext, so a new template, so a rollout; with stable
//! re-seal an unchanged value keeps its ciphertext, so a nightly re-seal rolls nothing. Only
//! ciphertexts are digested: the annotation says nothing about the values.
//!
//! Who reads what is found in the objects themselves (the embedded base's Deployments and this
//! environment's patches), not in a table that could drift from them. The ciphertext digests
//! come from the model (`Environment::secret_digests`, which the loader reads with
//! `repo::sealed_digests`): render stays pure.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use serde_json::Value;

use crate::model::Environment;

/// Pod-template annotation: SHA-256 over the ciphertext digests of the secret keys the pods read.
pub const SECRETS_DIGEST_ANNOTATION: &str = "dbos-gitops.io/secrets-sha256";

/// One secret read by a pod: a key, or every key (`None`).
type Read = (String, Option<String>);

/// Adds the annotation to `document` when it is a Deployment (patch) whose pods read secrets,
/// counting what the base's Deployment of the same name reads too.
pub fn annotate(env: &Environment, document: &mut Value) {
    if document["kind"] != "Deployment" {
        return;
    }
    let Some(name) = document["metadata"]["name"].as_str().map(str::to_string) else {
        return;
    };
    let mut reads = base_reads().get(&name).cloned().unwrap_or_default();
    collect_reads(&document["spec"]["template"]["spec"], &mut reads);
    if reads.is_empty() {
        return;
    }
    let mut digested = String::new();
    for (secret, key) in &reads {
        let sealed = env.secret_digests.get(secret);
        match (sealed, key) {
            (None, _) => digested.push_str(&format!("{secret}\0*\0absent\n")),
            (Some(keys), None) => {
                for (key, value) in keys {
                    digested.push_str(&format!("{secret}\0{key}\0{value}\n"));
                }
            }
            (Some(keys), Some(key)) => {
                let value = keys
                    .get(key)
                    .or_else(|| keys.get(""))
                    .map(String::as_str)
                    .unwrap_or("absent");
                digested.push_str(&format!("{secret}\0{key}\0{value}\n"));
            }
        }
    }
    let digest = crate::layout::digest(digested.as_bytes());
    let template = &mut document["spec"]["template"];
    if !template["metadata"].is_object() {
        template["metadata"] = Value::Object(Default::default());
    }
    if !template["metadata"]["annotations"].is_object() {
        template["metadata"]["annotations"] = Value::Object(Default::default());
    }
    template["metadata"]["annotations"][SECRETS_DIGEST_ANNOTATION] = Value::String(digest);
}

/// What each Deployment of the embedded base reads, by name.
fn base_reads() -> &'static BTreeMap<String, BTreeSet<Read>> {
    static READS: OnceLock<BTreeMap<String, BTreeSet<Read>>> = OnceLock::new();
    READS.get_or_init(|| {
        let mut reads: BTreeMap<String, BTreeSet<Read>> = BTreeMap::new();
        for (path, text) in super::base::BASE_FILES {
            if !path.ends_with(".yaml") {
                continue; // the database bootstrap's SQL (#22)
            }
            let documents = crate::yaml::parse_documents(std::path::Path::new(path), text)
                .expect("the embedded base parses");
            for document in documents {
                if document["kind"] != "Deployment" {
                    continue;
                }
                if let Some(name) = document["metadata"]["name"].as_str() {
                    collect_reads(
                        &document["spec"]["template"]["spec"],
                        reads.entry(name.to_string()).or_default(),
                    );
                }
            }
        }
        reads
    })
}

/// The secrets a pod spec reads: env `secretKeyRef`, `envFrom.secretRef`, `secret` volumes and
/// projected `secret` sources, in every container and init container.
fn collect_reads(pod_spec: &Value, reads: &mut BTreeSet<Read>) {
    let as_array = |value: &Value| value.as_array().cloned().unwrap_or_default();
    let containers = as_array(&pod_spec["containers"])
        .into_iter()
        .chain(as_array(&pod_spec["initContainers"]));
    for container in containers {
        for variable in as_array(&container["env"]) {
            let reference = &variable["valueFrom"]["secretKeyRef"];
            if let (Some(secret), Some(key)) =
                (reference["name"].as_str(), reference["key"].as_str())
            {
                reads.insert((secret.to_string(), Some(key.to_string())));
            }
        }
        for source in as_array(&container["envFrom"]) {
            if let Some(secret) = source["secretRef"]["name"].as_str() {
                reads.insert((secret.to_string(), None));
            }
        }
    }
    for volume in as_array(&pod_spec["volumes"]) {
        if let Some(secret) = volume["secret"]["secretName"].as_str() {
            reads.insert((secret.to_string(), None));
        }
        for source in as_array(&volume["projected"]["sources"]) {
            if let Some(secret) = source["secret"]["name"].as_str() {
                reads.insert((secret.to_string(), None));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_kind_of_read_is_found() {
        let mut reads = BTreeSet::new();
        collect_reads(
            &json!({
                "containers": [ {
                    "env": [
                        { "name": "A", "valueFrom": { "secretKeyRef": { "name": "s1", "key": "k" } } },
                        { "name": "B", "value": "plain" },
                        { "name": "C", "valueFrom": { "configMapKeyRef": { "name": "c", "key": "k" } } },
                    ],
                    "envFrom": [ { "secretRef": { "name": "s2" } }, { "configMapRef": { "name": "c" } } ],
                } ],
                "initContainers": [ { "env": [
                    { "name": "D", "valueFrom": { "secretKeyRef": { "name": "s3", "key": "x" } } },
                ] } ],
                "volumes": [
                    { "name": "v", "secret": { "secretName": "s4" } },
                    { "name": "p", "projected": { "sources": [ { "secret": { "name": "s5" } } ] } },
                    { "name": "e", "emptyDir": {} },
                ],
            }),
            &mut reads,
        );
        let found: Vec<Read> = reads.into_iter().collect();
        assert_eq!(
            found,
            vec![
                ("s1".to_string(), Some("k".to_string())),
                ("s2".to_string(), None),
                ("s3".to_string(), Some("x".to_string())),
                ("s4".to_string(), None),
                ("s5".to_string(), None),
            ]
        );
    }

    #[test]
    fn the_base_conductor_and_app_read_their_secrets() {
        let reads = base_reads();
        assert!(reads["conductor"].contains(&("conductor-db".into(), Some("database-url".into()))));
        assert!(reads["dbos-app"].contains(&("conductor-api-key".into(), Some("api-key".into()))));
        assert!(reads.get("console").is_none_or(BTreeSet::is_empty));
    }
}
