//! Every secret an environment's objects read (the inventory: `secretKeyRef`, `envFrom`, secret
//! volumes, the Ingress TLS secret, KEDA's TriggerAuthentication) is sealed in that environment,
//! with every key that is read. A missing one leaves a pod in `CreateContainerConfigError` or an
//! ingress without TLS after Argo CD has synced.

use std::collections::BTreeMap;

use super::env_check::EnvCheck;
use super::finding::Finding;
use crate::inventory::{self, SecretReference};

/// The hint that fixes a missing secret or key.
pub fn fix_command(env: &str, secret: &str, key: &str) -> String {
    match secret {
        inventory::TLS_SECRET => format!("`dbos-gitops tls --env {env}`"),
        inventory::DEX_USERS_SECRET => format!("`dbos-gitops dex add-user --env {env} EMAIL`"),
        _ => format!("`dbos-gitops secrets set --env {env} {secret} {key}`"),
    }
}

fn backticked(items: &[String]) -> String {
    items
        .iter()
        .map(|item| format!("`{item}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn describe_users(references: &[&SecretReference]) -> String {
    let mut users: Vec<String> = Vec::new();
    for reference in references {
        let user = match reference.used_by.split_once('/') {
            Some((kind, name)) => format!("{kind} `{name}`"),
            None => reference.used_by.clone(),
        };
        if !users.contains(&user) {
            users.push(user);
        }
    }
    users.join(", ")
}

pub fn check(check: &EnvCheck<'_>) -> Vec<Finding> {
    let Some(env) = &check.env else {
        return Vec::new();
    };
    let env_name = check.name();
    let references = inventory::references(env);
    let mut by_secret: BTreeMap<&str, Vec<&SecretReference>> = BTreeMap::new();
    let mut order = Vec::new();
    for reference in &references {
        if !by_secret.contains_key(reference.secret) {
            order.push(reference.secret);
        }
        by_secret
            .entry(reference.secret)
            .or_default()
            .push(reference);
    }
    let mut findings = Vec::new();
    for secret in order {
        let references = &by_secret[secret];
        let mut keys: Vec<String> = Vec::new();
        for reference in references {
            if !reference.key.is_empty() && !keys.contains(&reference.key.to_string()) {
                keys.push(reference.key.to_string());
            }
        }
        let sealed = check.sealed.iter().find_map(|file| {
            file.sealed
                .as_ref()
                .filter(|sealed| sealed.name == secret)
                .map(|sealed| (file, sealed))
        });
        let Some((file, sealed)) = sealed else {
            // A file of that name that is not a valid SealedSecret was reported already.
            if check
                .sealed
                .iter()
                .any(|file| file.sealed.is_none() && file.stem == secret)
            {
                continue;
            }
            let key_text = match keys.len() {
                0 => String::new(),
                1 => format!(" (key {})", backticked(&keys)),
                _ => format!(" (keys {})", backticked(&keys)),
            };
            findings.push(
                Finding::error(
                    "missing-secret",
                    &check.dir,
                    format!(
                        "secret `{secret}`{key_text} is referenced by {} but not sealed",
                        describe_users(references)
                    ),
                )
                .hint(fix_command(
                    env_name,
                    secret,
                    keys.first().map(String::as_str).unwrap_or("KEY"),
                )),
            );
            continue;
        };
        for key in &keys {
            let present =
                sealed.encrypted_data.contains_key(key) || sealed.template.data.contains_key(key);
            if present {
                continue;
            }
            let users: Vec<&SecretReference> = references
                .iter()
                .copied()
                .filter(|reference| reference.key == *key)
                .collect();
            findings.push(
                Finding::error(
                    "missing-secret-key",
                    &file.path,
                    format!(
                        "secret `{secret}` has no key `{key}`, which {} reads",
                        describe_users(&users)
                    ),
                )
                .hint(fix_command(env_name, secret, key)),
            );
        }
    }
    findings
}
