//! `reseal`: moves an environment's SealedSecrets to another controller key, offline.
//!
//! The controller renews its key pair every 30 days and keeps the old ones, so old
//! SealedSecrets keep working until someone deletes an old key (or the cluster is rebuilt from
//! a backup that lacks it). Re-sealing for the current certificate ahead of that normally needs
//! the cluster (`kubeseal --re-encrypt`); here it needs only the backed-up private keys. Every
//! value of every selected environment is opened first (key coverage), so a value that no
//! given key opens stops the whole command before anything is written (exit 1, the file and
//! key named); `--dry-run` stops there and reports. Plaintext stays in memory, value by value.
//! The rewritten files go through one plan with the regenerated overlays (their pods' rollout
//! digests follow the new ciphertexts) and, with `--cert`, the env's new `sealing-cert.pem`.

use dbos_gitops_seal::{PrivateKeys, SealedSecret, SealingCert};

use crate::cli::ResealArgs;
use crate::declare::EnvName;
use crate::error::Error;
use crate::repo::{load_repo, load_repo_scoped, WriteOptions};
use crate::secret_store::{self, FINGERPRINT_ANNOTATION};

use super::context::Context;

struct Stored {
    env: EnvName,
    path: String,
    sealed: SealedSecret,
}

pub fn reseal(context: &Context, arguments: ResealArgs) -> Result<i32, Error> {
    let root = context.root()?;
    if !arguments.dry_run {
        crate::repo::lock::acquire(&root)?;
    }
    // One environment: only its declarations can block the command, as for every other
    // scoped command (`load_repo_scoped`); `--all-envs` needs every one of them to load.
    let mut loaded = if arguments.all_envs {
        load_repo(&root)?
    } else {
        load_repo_scoped(&root, arguments.env.as_deref())?
    };
    let env_names: Vec<EnvName> = if arguments.all_envs {
        loaded
            .environments
            .iter()
            .map(|env| env.name.clone())
            .collect()
    } else {
        vec![loaded.select_env(arguments.env.as_deref())?.name.clone()]
    };
    if env_names.is_empty() {
        return Err(
            Error::input("this repository has no environments to reseal")
                .hint("create one with `dbos-gitops init env NAME`"),
        );
    }
    let mut keys = PrivateKeys::default();
    for path in &arguments.key {
        keys.extend(super::unseal::read_keys(path)?);
    }
    let new_cert = match &arguments.cert {
        Some(path) => {
            let shown = path.display().to_string();
            Some(secret_store::load_cert_file_with_pem(path, &shown)?)
        }
        None => None,
    };

    let mut stored = Vec::new();
    for env in &env_names {
        let env_input = loaded.select_env(Some(env.as_str()))?;
        for file in &env_input.secret_files {
            let name = file.trim_end_matches(".yaml");
            if let Some(sealed) = secret_store::read_sealed(&root, env, name)? {
                stored.push(Stored {
                    env: env.clone(),
                    path: secret_store::secret_path(env, name),
                    sealed,
                });
            }
        }
    }

    // Key coverage first: nothing is written unless every value opens.
    let mut uncovered = Vec::new();
    for item in &stored {
        for value in dbos_gitops_seal::uncovered_values(&item.sealed, &keys) {
            uncovered.push(format!("{}: `{}`: {}", item.path, value.key, value.error));
        }
    }
    if arguments.dry_run {
        for item in &stored {
            let missing = dbos_gitops_seal::uncovered_values(&item.sealed, &keys);
            if missing.is_empty() {
                println!(
                    "opens {} ({} values)",
                    item.path,
                    item.sealed.encrypted_data.len()
                );
            } else {
                let names: Vec<String> = missing
                    .iter()
                    .map(|value| format!("`{}`", value.key))
                    .collect();
                println!("cannot open {}: {}", item.path, names.join(", "));
            }
        }
        if uncovered.is_empty() {
            println!(
                "the {} given key(s) open all {} secrets; nothing written (dry run)",
                keys.len(),
                stored.len()
            );
            return Ok(0);
        }
        println!(
            "{} value(s) no given key opens; nothing written (dry run)",
            uncovered.len()
        );
        return Ok(1);
    }
    if !uncovered.is_empty() {
        return Err(Error::refused(format!(
            "refusing to reseal: {} value(s) no given key opens, so nothing was written:\n  {}",
            uncovered.len(),
            uncovered.join("\n  ")
        ))
        .hint("pass every key the controller has (`kubectl get secret -n kube-system -l sealedsecrets.bitnami.com/sealed-secrets-key -o yaml > keys.yaml`, then `--key keys.yaml`), or re-seal those values from their source with `dbos-gitops seal`"));
    }

    let mac = crate::seal_mac::load(&root, arguments.mac_key_file.as_deref())?;
    let mut rng = rand::rngs::OsRng;
    let mut certs: Vec<(EnvName, SealingCert)> = Vec::new();
    for env in &env_names {
        let cert = match &new_cert {
            Some((cert, _)) => cert.clone(),
            None => secret_store::env_cert(&root, env)?,
        };
        certs.push((env.clone(), cert));
    }
    let mut resealed = Vec::new();
    for item in &stored {
        let cert = &certs
            .iter()
            .find(|(env, _)| env == &item.env)
            .expect("every env has its cert")
            .1;
        let mut again =
            dbos_gitops_seal::reseal(&mut rng, &item.sealed, &keys, cert, mac.key.as_ref())
                .map_err(|value| {
                    Error::refused(format!(
                        "refusing to reseal: {}: `{}`: {}",
                        item.path, value.key, value.error
                    ))
                })?;
        again
            .annotations
            .insert(FINGERPRINT_ANNOTATION.into(), cert.fingerprint());
        // A larger key makes every value larger: refuse what the cluster would refuse.
        crate::limits::check_sealed_size(&item.path, &again)?;
        let env_input = loaded
            .environments
            .iter_mut()
            .find(|env| env.name == item.env)
            .expect("selected above");
        env_input
            .secret_digests
            .insert(again.name.clone(), secret_store::ciphertext_digests(&again));
        resealed.push((item, again));
    }

    let only_env = (env_names.len() == 1).then(|| env_names[0].as_str());
    let mut plan = crate::workspace::plan_build(&loaded, only_env, WriteOptions::default())?;
    for (item, again) in &resealed {
        plan.declare(
            &item.path,
            crate::yaml::emit(&again.to_value()).into_bytes(),
        )?;
    }
    if let Some((_, pem)) = &new_cert {
        for env in &env_names {
            plan.declare(&secret_store::cert_path(env), pem.clone())?;
        }
    }
    plan.apply()?;
    for (env, cert) in &certs {
        let secrets: Vec<_> = resealed
            .iter()
            .filter(|(item, _)| &item.env == env)
            .collect();
        let values: usize = secrets
            .iter()
            .map(|(_, again)| again.encrypted_data.len())
            .sum();
        println!(
            "resealed {} secrets ({values} values) of `{env}` for certificate sha256:{}; no plaintext written",
            secrets.len(),
            cert.fingerprint()
        );
        if new_cert.is_some() {
            println!("wrote {}", secret_store::cert_path(env));
        }
    }
    Ok(0)
}
