//! `tls`: the ingress certificate, natively. Replaces the guide's `openssl req -x509 … -addext
//! subjectAltName=…` and `kubectl create secret tls`: one self-signed certificate whose SANs are
//! every host the env's Ingress serves, sealed as the `kubernetes.io/tls` secret `dbos-tls`, and
//! its public half written to `environments/<env>/tls.crt`, which `build` publishes as the
//! `dbos-ca` ConfigMap for in-cluster trust and `check` reads for the hosts and the expiry.
//!
//! A valid certificate that covers every host is kept (no churn in git, no new ciphertext);
//! one that misses a host, has expired or expires within 30 days is reissued, and `--force`
//! reissues regardless.

use dbos_gitops_generate::tls::{self as generate_tls, CertificateInfo, KeyKind, TlsMaterial};
use dbos_gitops_seal::SecretInput;
use zeroize::Zeroizing;

use crate::cli::{KeyTypeArg, TlsArgs};
use crate::declare::{EnvName, TlsSource};
use crate::error::Error;
use crate::inventory::TLS_SECRET;
use crate::repo::WriteOptions;
use crate::secret_store;
use crate::workspace::{Mode, Scope, Workspace};

use super::context::Context;

/// A certificate that expires within this many days is reissued.
const RENEW_WITHIN_DAYS: i64 = 30;

use crate::clock::{date, now_unix};

pub fn cert_file(env: &EnvName) -> String {
    crate::layout::tls_cert_file(env)
}

pub fn tls(context: &Context, arguments: TlsArgs) -> Result<i32, Error> {
    let mut ws = context.workspace(arguments.env.as_deref(), Mode::Write)?;
    let env_input = ws.selected()?.clone();
    let env_name = env_input.name.clone();
    let model = crate::model::resolve(ws.spec(), vec![env_input])?;
    let env = &model.environments[0];
    refuse_cert_manager(env, &env_name)?;
    let hosts = env.host_names();
    let now = now_unix()?;
    let key_kind = match arguments.key_type {
        KeyTypeArg::EcdsaP256 => KeyKind::EcdsaP256,
        KeyTypeArg::Rsa2048 => KeyKind::Rsa2048,
    };
    if arguments.days == 0 {
        return Err(
            Error::input("`--days 0` gives a certificate that is never valid")
                .hint("ask for at least 1 day, e.g. `--days 365`"),
        );
    }
    let reason = match decide(&ws, &env_name, &hosts, now, arguments.force)? {
        Decision::Keep(info) => {
            report_kept(&env_name, &hosts, &info);
            return Ok(0);
        }
        Decision::Issue(reason) => reason,
    };
    if !reason.is_empty() {
        println!("reissuing the certificate: {reason}");
    }
    let material = issue(&hosts, arguments.days, key_kind, now)?;
    let stored = write(&mut ws, &env_name, &material)?;
    report_issued(
        &env_name,
        &hosts,
        &material,
        key_kind,
        arguments.days,
        &stored,
    )?;
    Ok(0)
}

/// A cert-manager environment gets its certificate in the cluster: refused, with the way to
/// a self-signed one.
fn refuse_cert_manager(env: &crate::model::Environment, env_name: &EnvName) -> Result<(), Error> {
    if env.tls != TlsSource::CertManager {
        return Ok(());
    }
    Err(Error::refused(format!(
        "environment `{env_name}` gets its certificate from cert-manager (`ingress.tls: cert-manager`)"
    ))
    .hint(format!(
        "cert-manager issues `{TLS_SECRET}` in the cluster; for a self-signed certificate set `tls: self-signed` in {}",
        crate::layout::env_file(env_name)
    )))
}

/// Keep the current certificate, or issue one (with the reason to print; empty for the
/// first certificate).
enum Decision {
    Keep(CertificateInfo),
    Issue(String),
}

/// `--force` reissues; no certificate issues the first; a certificate that misses a host or
/// nears its expiry, or whose sealed secret lacks a half, is reissued; any other is kept.
fn decide(
    ws: &Workspace,
    env_name: &EnvName,
    hosts: &[String],
    now: i64,
    force: bool,
) -> Result<Decision, Error> {
    let current = current_certificate(ws, env_name)?;
    let info = match current {
        _ if force => return Ok(Decision::Issue("`--force`".to_string())),
        None => return Ok(Decision::Issue(String::new())),
        Some(info) => info,
    };
    if let Some(reason) = reissue_reason(&info, hosts, now) {
        return Ok(Decision::Issue(reason));
    }
    let sealed = secret_store::sealed(ws, env_name, TLS_SECRET)?;
    let complete = sealed.is_some_and(|sealed| {
        ["tls.crt", "tls.key"]
            .iter()
            .all(|key| sealed.encrypted_data.contains_key(*key))
    });
    if complete {
        return Ok(Decision::Keep(info));
    }
    Ok(Decision::Issue(format!(
        "`{}` lacks `tls.crt` or `tls.key`",
        secret_store::secret_path(env_name, TLS_SECRET)
    )))
}

/// The note that the certificate was kept, and how to reissue it anyway.
fn report_kept(env_name: &EnvName, hosts: &[String], info: &CertificateInfo) {
    println!(
        "kept the certificate in {}: it covers every host ({}) and is valid until {}",
        cert_file(env_name),
        hosts.join(", "),
        date(info.not_after_unix)
    );
    println!("  hint: pass `--force` to reissue it (`--days` and `--key-type` apply then)");
}

/// A new self-signed certificate and key for every host.
fn issue(hosts: &[String], days: u32, key_kind: KeyKind, now: i64) -> Result<TlsMaterial, Error> {
    generate_tls::issue_self_signed(hosts, days, key_kind, now).map_err(|error| {
        let message = Error::input(format!("could not issue the certificate: {error}"));
        match error.hint() {
            Some(hint) => message.hint(hint),
            None => message,
        }
    })
}

/// Seals the pair as the `kubernetes.io/tls` secret and writes it, the public `tls.crt` and
/// the regenerated overlay in one plan.
fn write(
    ws: &mut Workspace,
    env_name: &EnvName,
    material: &TlsMaterial,
) -> Result<Vec<secret_store::Stored>, Error> {
    let mut input = SecretInput {
        name: TLS_SECRET.to_string(),
        type_: Some("kubernetes.io/tls".to_string()),
        ..Default::default()
    };
    input.data.insert(
        "tls.crt".to_string(),
        Zeroizing::new(material.certificate_pem.clone().into_bytes()),
    );
    input.data.insert(
        "tls.key".to_string(),
        Zeroizing::new(material.private_key_pem.as_bytes().to_vec()),
    );
    let mac = crate::seal_mac::load(ws.root(), None)?;
    let stored = secret_store::store(ws, env_name, &[input], None, false, &mac)?;
    // `build` publishes tls.crt as the `dbos-ca` ConfigMap once it exists: the compile reads
    // the file put here, as the next load would, for that and for the certificate's digest.
    ws.put(
        cert_file(env_name),
        material.certificate_pem.clone().into_bytes(),
    );
    let plan = ws.compile(Scope::Env(env_name), WriteOptions::default())?;
    ws.commit(&plan)?;
    Ok(stored)
}

/// What was issued, the sealed secret and the public file.
fn report_issued(
    env_name: &EnvName,
    hosts: &[String],
    material: &TlsMaterial,
    key_kind: KeyKind,
    days: u32,
    stored: &[secret_store::Stored],
) -> Result<(), Error> {
    let info = generate_tls::inspect(material.certificate_pem.as_bytes())
        .map_err(|error| Error::input(format!("the new certificate does not parse: {error}")))?;
    println!(
        "issued a self-signed {} certificate for {} (CN `{}`), valid until {} ({} days)",
        key_kind,
        hosts.join(", "),
        info.common_name,
        date(info.not_after_unix),
        days
    );
    for stored in stored {
        super::seal::print_stored(stored);
    }
    println!(
        "wrote {} (public; published as the `dbos-ca` ConfigMap)",
        cert_file(env_name)
    );
    Ok(())
}

/// The certificate in `tls.crt`, if there is one.
fn current_certificate(ws: &Workspace, env: &EnvName) -> Result<Option<CertificateInfo>, Error> {
    let relative = cert_file(env);
    let Some(bytes) = ws.read(&relative)? else {
        return Ok(None);
    };
    generate_tls::inspect(&bytes).map(Some).map_err(|error| {
        Error::input(format!("`{relative}`: {error}")).hint(format!(
            "delete `{relative}` and rerun `dbos-gitops tls`, which issues a new certificate"
        ))
    })
}

/// Why an existing certificate must be reissued, or `None` when it is fine.
pub fn reissue_reason(info: &CertificateInfo, hosts: &[String], now: i64) -> Option<String> {
    let missing = info.missing_hosts(hosts);
    if !missing.is_empty() {
        let list: Vec<String> = missing.iter().map(|host| format!("`{host}`")).collect();
        return Some(format!("it does not cover {}", list.join(", ")));
    }
    if now < info.not_before_unix {
        return Some(format!(
            "it is not valid before {}",
            date(info.not_before_unix)
        ));
    }
    if now > info.not_after_unix {
        return Some(format!("it expired on {}", date(info.not_after_unix)));
    }
    if info.not_after_unix - now < RENEW_WITHIN_DAYS * 86_400 {
        return Some(format!("it expires on {}", date(info.not_after_unix)));
    }
    None
}
