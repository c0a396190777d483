//! The application: one Deployment per declared version with its replica count, and the
//! migrate Job (image, command, the CA digest its pods trust).

use super::checks::env_error;
use crate::declare::{
    ConductorConnection, EnvName, EnvSpec, Language, TlsSource, VersionName, VersionSpec,
    VersionsSpec,
};
use crate::error::ResolveError;

#[derive(Clone, Debug)]
pub struct Version {
    pub name: VersionName,
    pub image: String,
    pub active: bool,
    /// `None` when KEDA owns the replica count (autoscaled Deployments carry no `replicas`).
    pub replicas: Option<u32>,
}

/// Old versions keep at least one replica: only a live pod of the same version recovers a
/// dead pod's workflows. The active one has no count when KEDA owns it.
pub(super) fn versions(spec: &EnvSpec, versions: &VersionsSpec, autoscaled: bool) -> Vec<Version> {
    let fixed_replicas = spec.app.replicas.unwrap_or(1).max(1);
    versions
        .versions
        .iter()
        .map(|version| {
            let active = Some(&version.name) == versions.active.as_ref();
            Version {
                name: version.name.clone(),
                image: version.image.clone(),
                active,
                replicas: if active && autoscaled {
                    None
                } else {
                    Some(fixed_replicas)
                },
            }
        })
        .collect()
}

/// `app.replicas` lands in every fixed Deployment's `spec.replicas`.
pub(super) fn check_replicas(name: &EnvName, spec: &EnvSpec) -> Result<(), ResolveError> {
    match spec.app.replicas {
        Some(replicas) => super::checks::check_int32(name, "app.replicas", replicas, 0),
        None => Ok(()),
    }
}

/// The migrate container's system database URL: a reference the kubelet expands from the
/// container's `DBOS_SYSTEM_DATABASE_URL` (set from the `postgres-admin` Secret in
/// `base/migrate-job.yaml`) in `command` and `args`.
pub const SYSTEM_DATABASE_URL: &str = "$(DBOS_SYSTEM_DATABASE_URL)";

/// The migrate Job's image and full command line, `--app-role <role>` included.
pub(super) fn migrate(
    name: &EnvName,
    spec: &EnvSpec,
    newest: Option<&VersionSpec>,
) -> Result<(Option<String>, Vec<String>), ResolveError> {
    // Python images have `dbos` on PATH and TypeScript images `node_modules/.bin/dbos`, so the
    // newest version's image migrates; a Go binary has no CLI beside it (`check` reports
    // `missing-migrate-image`).
    let image = match spec.app.language {
        Language::Python | Language::Typescript => spec
            .app
            .migrate
            .image
            .clone()
            .or_else(|| newest.map(|version| version.image.clone())),
        Language::Go => spec.app.migrate.image.clone(),
    };
    let mut command: Vec<String> = match (&spec.app.migrate.command, spec.app.language) {
        (Some(command), _) if !command.is_empty() => command.clone(),
        (Some(_), _) => {
            return Err(
                env_error(name, "env.yaml", "app.migrate.command is empty".to_string())
                    .field("app.migrate.command")
                    .hint("remove it to use the language's default, e.g. `[dbos, migrate]`"),
            )
        }
        // Each SDK's CLI takes the system database URL its own way, and neither the Python nor
        // the TypeScript one reads `DBOS_SYSTEM_DATABASE_URL` outside DBOS Cloud (with no flag
        // and no dbos-config.yaml they exit 1: "Missing database URL"). So the URL is passed
        // explicitly, as `$(DBOS_SYSTEM_DATABASE_URL)`, which the kubelet expands from the
        // container's env (the Secret's value never enters the manifest). Read in the SDKs'
        // CLI source: dbos-transact-py `dbos/cli/cli.py` (`migrate`: `-s/--sys-db-url`,
        // `_resolve_db_urls`), dbos-transact-ts `src/cli/cli.ts` (`schema [systemDatabaseUrl]`,
        // a positional; `-s` there means `--schema`), dbos-transact-golang `cmd/dbos`
        // (`-D/--db-url`, which also wins over a `database_url` in a dbos-config.yaml the
        // image may carry). `--no` keeps npx from downloading a package.
        (None, Language::Python) => vec![
            "dbos".into(),
            "migrate".into(),
            "--sys-db-url".into(),
            SYSTEM_DATABASE_URL.into(),
        ],
        (None, Language::Go) => vec![
            "dbos".into(),
            "migrate".into(),
            "--db-url".into(),
            SYSTEM_DATABASE_URL.into(),
        ],
        (None, Language::Typescript) => vec![
            "npx".into(),
            "--no".into(),
            "dbos".into(),
            "schema".into(),
            SYSTEM_DATABASE_URL.into(),
        ],
    };
    command.extend(["--app-role".to_string(), spec.app.migrate.app_role.clone()]);
    if let Some(image) = &image {
        super::checks::check_image_field(name, "app.migrate.image", image)?;
    }
    Ok((image, command))
}

/// SHA-256 of the published self-signed CA, for app pods that reach Conductor through the
/// ingress and must trust it.
pub(super) fn ca_digest(spec: &EnvSpec, tls_certificate_digest: Option<String>) -> Option<String> {
    match (spec.app.conductor, spec.ingress.tls) {
        (ConductorConnection::External, TlsSource::SelfSigned) => tls_certificate_digest,
        _ => None,
    }
}
