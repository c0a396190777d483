//! The secret inventory of an environment: which Secrets (and which keys of them) its rendered
//! objects reference, and who references them. It follows the guide's inventory and grows with
//! what the environment enables (an app version, Dex, the postgresql autoscaler). `secrets
//! list`, `secrets set` and `check` all read it, so they agree on what "missing" means.

use crate::declare::{Oidc, TlsSource, TriggerKind};
use crate::model::Environment;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretReference {
    pub secret: &'static str,
    /// The key read, or empty for "any key" (Dex before its first user).
    pub key: String,
    /// `Kind/name` of the referencing object, e.g. `Deployment/conductor`.
    pub used_by: String,
    /// What the value is, for prompts and listings.
    pub description: &'static str,
}

pub const TLS_SECRET: &str = "dbos-tls";
pub const DEX_USERS_SECRET: &str = "dex-users";

/// Every secret key the environment's objects read, in a stable order.
pub fn references(env: &Environment) -> Vec<SecretReference> {
    let mut references = Vec::new();
    let mut add = |secret, key: &str, used_by: &str, description| {
        references.push(SecretReference {
            secret,
            key: key.to_string(),
            used_by: used_by.to_string(),
            description,
        })
    };
    add(
        "conductor-db",
        "database-url",
        "Deployment/conductor",
        "Conductor's database URL (dbos_conductor, its own role)",
    );
    add(
        "conductor-license",
        "license-key",
        "Deployment/conductor",
        "the Conductor license key",
    );
    if env.migrate_image.is_some() {
        add(
            "postgres-admin",
            "database-url",
            "Job/dbos-migrate",
            "admin URL of the app's system database, for `dbos migrate`",
        );
    }
    if let Some(active) = &env.active {
        let used_by = format!("Deployment/{}", Environment::deployment_name(active));
        add(
            "dbos-app-db",
            "database-url",
            &used_by,
            "the app's system database URL (restricted role)",
        );
        add(
            "conductor-api-key",
            "api-key",
            &used_by,
            "the app's Conductor API key (from the Console)",
        );
        if env
            .autoscaling
            .as_ref()
            .is_some_and(|autoscaling| autoscaling.trigger == TriggerKind::Postgresql)
        {
            add(
                "dbos-app-db",
                "database-url",
                "TriggerAuthentication/dbos-app-keda",
                "the app's system database URL (restricted role)",
            );
        }
    }
    // With cert-manager, cert-manager writes `dbos-tls` in the cluster: nothing to seal.
    if env.tls == TlsSource::SelfSigned {
        add(
            TLS_SECRET,
            "tls.crt",
            "Ingress/dbos",
            "the ingress TLS certificate (`dbos-gitops tls`)",
        );
        add(
            TLS_SECRET,
            "tls.key",
            "Ingress/dbos",
            "the ingress TLS private key (`dbos-gitops tls`)",
        );
    }
    if env.oidc == Oidc::Dex {
        // One key per user, each read by Dex's Deployment (`hashFromEnv`); before the first
        // user, the secret itself is what is missing.
        let users: Vec<&str> = env
            .dex
            .as_ref()
            .map(|dex| {
                dex.users
                    .iter()
                    .map(|user| user.secret_key.as_str())
                    .collect()
            })
            .unwrap_or_default();
        if users.is_empty() {
            add(
                DEX_USERS_SECRET,
                "",
                "Deployment/dex",
                "bcrypt hashes of Dex's static users (`dbos-gitops dex add-user`)",
            );
        }
        for key in users {
            add(
                DEX_USERS_SECRET,
                key,
                "Deployment/dex",
                "a Dex user's bcrypt hash (`dbos-gitops dex add-user`)",
            );
        }
    }
    if env.database_bootstrap() {
        // What the bootstrap Job reads (base/components/database-bootstrap/bootstrap-job.yaml):
        // the admin password, and each role's SCRAM verifier it sets as the role's password.
        let job = "Job/dbos-database-bootstrap";
        add(
            "postgres-admin",
            "password",
            job,
            "the database admin password (`dbos-gitops database init`)",
        );
        add(
            "conductor-db",
            "scram-verifier",
            job,
            "the SCRAM-SHA-256 verifier of Conductor's role (`database init`/`rotate conductor`)",
        );
        add(
            "dbos-app-db",
            "scram-verifier",
            job,
            "the SCRAM-SHA-256 verifier of the app's role (`database init`/`rotate app`)",
        );
    }
    references
}

/// The distinct secret names, in first-reference order.
pub fn secret_names(env: &Environment) -> Vec<&'static str> {
    let mut names = Vec::new();
    for reference in references(env) {
        if !names.contains(&reference.secret) {
            names.push(reference.secret);
        }
    }
    names
}

/// The keys the environment reads from `secret` (empty for a secret with free-form keys).
pub fn keys_of(env: &Environment, secret: &str) -> Vec<String> {
    let mut keys = Vec::new();
    for reference in references(env) {
        if reference.secret == secret && !reference.key.is_empty() && !keys.contains(&reference.key)
        {
            keys.push(reference.key);
        }
    }
    keys
}
