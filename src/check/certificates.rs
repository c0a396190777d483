//! Certificates: the env's sealing certificate (`sealing-cert.pem`) parses, is RSA and is not
//! expired; the ingress certificate (`tls.crt`, written by `dbos-gitops tls`) covers every host
//! and is not expired. Both warn within 30 days of expiry: a controller certificate that
//! expired still unseals (the controller keeps its keys) but `seal` refuses it, and an expired
//! ingress certificate breaks every client.

use dbos_gitops_seal::{CertError, SealingCert};

use super::env_check::{EnvCheck, EXPIRY_WARNING_SECONDS};
use super::finding::{relative, Finding};
use crate::error::Error;
use crate::workspace::Workspace;

pub use crate::declare::TLS_CERT_FILE;
pub use crate::layout::SEALING_CERT_FILE;

fn days_left(not_after: i64, now: i64) -> i64 {
    (not_after - now) / 86_400
}

use crate::clock::date;

/// Loads `environments/<env>/sealing-cert.pem`. Returns the certificate also when it is expired
/// or not yet valid, so that sealed values can still be checked against its key size.
pub fn sealing_cert(
    ws: &Workspace,
    dir: &str,
    now: i64,
) -> Result<(Option<SealingCert>, Vec<Finding>), Error> {
    let path = relative(dir, SEALING_CERT_FILE);
    let env = dir.rsplit('/').next().unwrap_or(dir);
    let Some(pem) = ws.read(&path)? else {
        return Ok((
            None,
            vec![Finding::error(
                "missing-sealing-cert",
                dir,
                format!("no sealing certificate: `{path}` does not exist"),
            )
            .hint(format!(
                "fetch the controller's certificate: `kubeseal --fetch-cert > {path}`"
            ))],
        ));
    };
    let mut findings = Vec::new();
    let loaded = match SealingCert::from_pem_at(&pem, now) {
        Ok(cert) => {
            if cert.not_after_unix() - now < EXPIRY_WARNING_SECONDS {
                findings.push(
                    Finding::warning(
                        "sealing-cert-expiring",
                        &path,
                        format!(
                            "the sealing certificate expires on {} (in {} days)",
                            date(cert.not_after_unix()),
                            days_left(cert.not_after_unix(), now)
                        ),
                    )
                    .hint(format!(
                        "fetch the controller's current certificate (`kubeseal --fetch-cert > {path}`) and re-seal with `dbos-gitops seal --env {env}`"
                    )),
                );
            }
            Some(cert)
        }
        Err(error @ (CertError::Expired { .. } | CertError::NotYetValid { .. })) => {
            let code = match error {
                CertError::Expired { .. } => "sealing-cert-expired",
                _ => "invalid-sealing-cert",
            };
            let mut finding = Finding::error(code, &path, format!("sealing certificate: {error}"));
            if let Some(hint) = error.hint() {
                finding = finding.hint(hint);
            }
            findings.push(finding);
            // Parse it again inside its validity, for its key size.
            dbos_gitops_generate::tls::inspect(&pem)
                .ok()
                .and_then(|info| SealingCert::from_pem_at(&pem, info.not_before_unix).ok())
        }
        Err(error) => {
            let mut finding = Finding::error(
                "invalid-sealing-cert",
                &path,
                format!("sealing certificate: {error}"),
            );
            if let Some(hint) = error.hint() {
                finding = finding.hint(hint);
            }
            findings.push(finding);
            None
        }
    };
    Ok((loaded, findings))
}

/// Checks `environments/<env>/tls.crt` when it exists (a missing one is the `dbos-tls`
/// missing-secret finding, when the secret is not sealed either).
pub fn tls_cert(ws: &Workspace, check: &EnvCheck<'_>, now: i64) -> Result<Vec<Finding>, Error> {
    let path = relative(&check.dir, TLS_CERT_FILE);
    let Some(env) = &check.env else {
        return Ok(Vec::new());
    };
    let Some(pem) = ws.read(&path)? else {
        // An app that reaches Conductor through the ingress trusts the self-signed certificate
        // through the `dbos-ca` ConfigMap made from this file: without it its pods cannot start.
        if env.conductor_connection == crate::declare::ConductorConnection::External
            && env.tls == crate::declare::TlsSource::SelfSigned
            && env.active.is_some()
        {
            return Ok(vec![Finding::error(
                "missing-ca-certificate",
                &path,
                "the app reaches Conductor through the ingress (`app.conductor: external`) and trusts its certificate through the `dbos-ca` ConfigMap made from this file, but the file is missing",
            )
            .hint(format!("issue the certificate with `dbos-gitops tls --env {}`", check.name()))]);
        }
        return Ok(Vec::new());
    };
    let renew = format!(
        "renew it with `dbos-gitops tls --env {} --force`",
        check.name()
    );
    let info = match dbos_gitops_generate::tls::inspect(&pem) {
        Ok(info) => info,
        Err(error) => {
            return Ok(vec![Finding::error(
                "invalid-tls-cert",
                &path,
                format!("the ingress certificate does not parse: {error}"),
            )
            .hint(renew)])
        }
    };
    let mut findings = Vec::new();
    let missing = info.missing_hosts(&env.host_names());
    if !missing.is_empty() {
        let hosts: Vec<String> = missing.iter().map(|host| format!("`{host}`")).collect();
        findings.push(
            Finding::error(
                "tls-cert-missing-hosts",
                &path,
                format!(
                    "the ingress certificate does not cover {}",
                    hosts.join(", ")
                ),
            )
            .hint(renew.clone()),
        );
    }
    if now > info.not_after_unix {
        findings.push(
            Finding::error(
                "tls-cert-expired",
                &path,
                format!(
                    "the ingress certificate expired on {}",
                    date(info.not_after_unix)
                ),
            )
            .hint(renew),
        );
    } else if now < info.not_before_unix {
        findings.push(
            Finding::error(
                "invalid-tls-cert",
                &path,
                format!(
                    "the ingress certificate is not valid before {}",
                    date(info.not_before_unix)
                ),
            )
            .hint(format!("check this machine's clock, or {renew}")),
        );
    } else if info.not_after_unix - now < EXPIRY_WARNING_SECONDS {
        findings.push(
            Finding::warning(
                "tls-cert-expiring",
                &path,
                format!(
                    "the ingress certificate expires on {} (in {} days)",
                    date(info.not_after_unix),
                    days_left(info.not_after_unix, now)
                ),
            )
            .hint(renew),
        );
    }
    Ok(findings)
}
