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
use crate::repo::WriteOptions;
use crate::secret_store::{self, FINGERPRINT_ANNOTATION};
use crate::workspace::{Mode, Scope, Workspace};

use super::context::Context;

/// One SealedSecret of a selected environment, as it is on disk.
struct Stored {
    env: EnvName,
    path: String,
    sealed: SealedSecret,
}

/// A SealedSecret sealed again for its environment's target certificate.
struct Resealed<'a> {
    item: &'a Stored,
    again: SealedSecret,
}

/// The certificate to seal for, `--cert` or the env's own `sealing-cert.pem`, per environment.
struct Target {
    env: EnvName,
    cert: SealingCert,
}

pub fn reseal(context: &Context, arguments: ResealArgs) -> Result<i32, Error> {
    let mut ws = open(context, &arguments)?;
    let env_names = selected_envs(&ws, &arguments)?;
    let keys = read_keys(&arguments)?;
    let new_cert = read_new_cert(&arguments)?;
    let stored = gather_sealed(&ws, &env_names)?;

    // Key coverage first: nothing is written unless every value opens.
    let uncovered = uncovered_values(&stored, &keys);
    if arguments.dry_run {
        return Ok(report_dry_run(&stored, &keys, &uncovered));
    }
    refuse_uncovered(&uncovered)?;

    let mac = crate::seal_mac::load(ws.root(), arguments.mac_key_file.as_deref())?;
    let targets = target_certs(&ws, &env_names, new_cert.as_ref())?;
    let resealed = reseal_all(&stored, &keys, &targets, &mac)?;
    write(&mut ws, &env_names, &resealed, new_cert.as_ref())?;
    report(&targets, &resealed, new_cert.is_some());
    Ok(0)
}

/// The repository as the command needs it, locked unless it is a dry run. One environment:
/// only its declarations can block the command, as for every other scoped command
/// (`Workspace::open_env`); `--all-envs` needs every one of them to load.
fn open(context: &Context, arguments: &ResealArgs) -> Result<Workspace, Error> {
    let mode = if arguments.dry_run {
        Mode::Read
    } else {
        Mode::Write
    };
    if arguments.all_envs {
        context.workspace_all(mode)
    } else {
        context.workspace(arguments.env.as_deref(), mode)
    }
}

/// The environments to reseal: every one with `--all-envs`, else the selected one; none is an
/// input error.
fn selected_envs(ws: &Workspace, arguments: &ResealArgs) -> Result<Vec<EnvName>, Error> {
    let env_names: Vec<EnvName> = if arguments.all_envs {
        ws.environments()
            .iter()
            .map(|env| env.name.clone())
            .collect()
    } else {
        vec![ws.selected()?.name.clone()]
    };
    if env_names.is_empty() {
        return Err(
            Error::input("this repository has no environments to reseal")
                .hint("create one with `dbos-gitops init env NAME`"),
        );
    }
    Ok(env_names)
}

/// Every private key of every `--key` file.
fn read_keys(arguments: &ResealArgs) -> Result<PrivateKeys, Error> {
    let mut keys = PrivateKeys::default();
    for path in &arguments.key {
        keys.extend(super::unseal::read_keys(path)?);
    }
    Ok(keys)
}

/// The `--cert` certificate with its PEM bytes, if one was given.
fn read_new_cert(arguments: &ResealArgs) -> Result<Option<(SealingCert, Vec<u8>)>, Error> {
    match &arguments.cert {
        Some(path) => {
            let shown = path.display().to_string();
            secret_store::load_cert_file_with_pem(path, &shown).map(Some)
        }
        None => Ok(None),
    }
}

/// Every SealedSecret the selected environments declare and have on disk, env by env.
fn gather_sealed(ws: &Workspace, env_names: &[EnvName]) -> Result<Vec<Stored>, Error> {
    let mut stored = Vec::new();
    for env in env_names {
        let env_input = ws.env(env.as_str())?;
        for file in &env_input.secret_files {
            let name = file.trim_end_matches(".yaml");
            if let Some(sealed) = secret_store::sealed(ws, env, name)? {
                stored.push(Stored {
                    env: env.clone(),
                    path: secret_store::secret_path(env, name),
                    sealed,
                });
            }
        }
    }
    Ok(stored)
}

/// One line per value that no given key opens: the file, the key and why.
fn uncovered_values(stored: &[Stored], keys: &PrivateKeys) -> Vec<String> {
    let mut uncovered = Vec::new();
    for item in stored {
        for value in dbos_gitops_seal::uncovered_values(&item.sealed, keys) {
            uncovered.push(format!("{}: `{}`: {}", item.path, value.key, value.error));
        }
    }
    uncovered
}

/// `--dry-run`: which files the keys open and which values they do not; the exit code (0 when
/// every value opens, else 1). Nothing is written.
fn report_dry_run(stored: &[Stored], keys: &PrivateKeys, uncovered: &[String]) -> i32 {
    for item in stored {
        let missing = dbos_gitops_seal::uncovered_values(&item.sealed, keys);
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
        return 0;
    }
    println!(
        "{} value(s) no given key opens; nothing written (dry run)",
        uncovered.len()
    );
    1
}

/// Refuses (nothing written) when any value opens with no given key.
fn refuse_uncovered(uncovered: &[String]) -> Result<(), Error> {
    if uncovered.is_empty() {
        return Ok(());
    }
    Err(Error::refused(format!(
        "refusing to reseal: {} value(s) no given key opens, so nothing was written:\n  {}",
        uncovered.len(),
        uncovered.join("\n  ")
    ))
    .hint("pass every key the controller has (`kubectl get secret -n kube-system -l sealedsecrets.bitnami.com/sealed-secrets-key -o yaml > keys.yaml`, then `--key keys.yaml`), or re-seal those values from their source with `dbos-gitops seal`"))
}

/// The certificate each environment's secrets are sealed for: `--cert`, else its own.
fn target_certs(
    ws: &Workspace,
    env_names: &[EnvName],
    new_cert: Option<&(SealingCert, Vec<u8>)>,
) -> Result<Vec<Target>, Error> {
    env_names
        .iter()
        .map(|env| {
            let cert = match new_cert {
                Some((cert, _)) => cert.clone(),
                None => secret_store::cert(ws, env)?,
            };
            Ok(Target {
                env: env.clone(),
                cert,
            })
        })
        .collect()
}

/// Opens and seals again every stored secret for its environment's target certificate, in
/// the order they were gathered; the first value that fails stops the command.
fn reseal_all<'a>(
    stored: &'a [Stored],
    keys: &PrivateKeys,
    targets: &[Target],
    mac: &crate::seal_mac::LoadedMacKey,
) -> Result<Vec<Resealed<'a>>, Error> {
    let mut rng = rand::rngs::OsRng;
    let mut resealed = Vec::new();
    // `stored` was gathered env by env in `targets`' order, so this keeps its order.
    for target in targets {
        for item in stored.iter().filter(|item| item.env == target.env) {
            let mut again = dbos_gitops_seal::reseal(
                &mut rng,
                &item.sealed,
                keys,
                &target.cert,
                mac.key.as_ref(),
            )
            .map_err(|value| {
                Error::refused(format!(
                    "refusing to reseal: {}: `{}`: {}",
                    item.path, value.key, value.error
                ))
            })?;
            again
                .annotations
                .insert(FINGERPRINT_ANNOTATION.into(), target.cert.fingerprint());
            // A larger key makes every value larger: refuse what the cluster would refuse.
            crate::limits::check_sealed_size(&item.path, &again)?;
            resealed.push(Resealed { item, again });
        }
    }
    Ok(resealed)
}

/// Puts the rewritten SealedSecrets and, with `--cert`, each env's new `sealing-cert.pem`,
/// then commits one plan: those files and the regenerated overlays, whose rollout digests the
/// compile derives from the files put here.
fn write(
    ws: &mut Workspace,
    env_names: &[EnvName],
    resealed: &[Resealed],
    new_cert: Option<&(SealingCert, Vec<u8>)>,
) -> Result<(), Error> {
    for done in resealed {
        let text = crate::yaml::emit(&done.again.to_value());
        ws.put(done.item.path.clone(), text.into_bytes());
    }
    if let Some((_, pem)) = new_cert {
        for env in env_names {
            ws.put(secret_store::cert_path(env), pem.clone());
        }
    }
    let scope = match env_names {
        [only] => Scope::Env(only),
        _ => Scope::All,
    };
    let plan = ws.compile(scope, WriteOptions::default())?;
    ws.commit(&plan)
}

/// Per environment: how many secrets and values were resealed for which certificate.
fn report(targets: &[Target], resealed: &[Resealed], wrote_cert: bool) {
    for Target { env, cert } in targets {
        let secrets: Vec<_> = resealed
            .iter()
            .filter(|done| &done.item.env == env)
            .collect();
        let values: usize = secrets
            .iter()
            .map(|done| done.again.encrypted_data.len())
            .sum();
        println!(
            "resealed {} secrets ({values} values) of `{env}` for certificate sha256:{}; no plaintext written",
            secrets.len(),
            cert.fingerprint()
        );
        if wrote_cert {
            println!("wrote {}", secret_store::cert_path(env));
        }
    }
}
