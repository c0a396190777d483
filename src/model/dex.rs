//! Dex: the OAuth issuer, the URLs Conductor and Console derive from it, and the static users
//! of `dex-users.yaml` with the rules their emails and secret keys follow.

use super::checks::env_error;
use super::ingress::Host;
use crate::declare::{DexUserSpec, DexUsersSpec, EnvName, EnvSpec, Namespace, Routing};
use crate::error::ResolveError;

/// The OAuth client of the Console, and the audience Conductor checks.
pub const DEX_CLIENT_ID: &str = "dbos-console";

/// Dex and the OAuth settings of Conductor and Console, all derived from the env's hosts so
/// that they agree: the issuer Dex announces is the one Conductor checks and Console uses.
#[derive(Clone, Debug)]
pub struct Dex {
    /// `https://dex.<domain>/dex` (host routing) or `https://<domain>/dex` (path routing).
    pub issuer: String,
    /// In-cluster, so Conductor needs neither the ingress nor trust in its certificate.
    pub jwks_url: String,
    /// Console's OAuth callback.
    pub redirect_uri: String,
    /// The origin the Console's browser code runs on: Dex's CORS allow-list.
    pub console_origin: String,
    pub users: Vec<DexUser>,
    /// `dex.image` of env.yaml; `None` runs the base's release.
    pub image: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DexUser {
    pub email: String,
    pub username: String,
    pub user_id: String,
    /// Key of the `dex-users` secret holding the bcrypt hash.
    pub secret_key: String,
    /// The Dex container's variable the hash is read from (`hashFromEnv`).
    pub hash_env: String,
    pub password_revision: u32,
}

impl DexUser {
    /// `DEX_HASH_` and the key in upper case with `-` as `_`: one-to-one for keys of
    /// `[a-z0-9-]`.
    pub fn hash_env_for(secret_key: &str) -> String {
        format!(
            "DEX_HASH_{}",
            secret_key.to_ascii_uppercase().replace('-', "_")
        )
    }
}

/// Keys of the `dex-users` secret: lowercase letters, digits and `-`, not at either end (the
/// declaration layer's one DNS-label rule, at most 200 characters).
pub fn check_dex_secret_key(key: &str) -> Result<(), String> {
    if crate::declare::names::is_dns_label(key, 200) {
        Ok(())
    } else {
        Err(format!(
            "secret key `{key}` must be lowercase letters, digits and `-`"
        ))
    }
}

/// An email Dex can log in with: one `@`, no spaces or control characters, lowercase.
pub fn check_email(email: &str) -> Result<(), String> {
    let parts: Vec<&str> = email.split('@').collect();
    let ok = email.len() <= 254
        && parts.len() == 2
        && !parts[0].is_empty()
        && !parts[1].is_empty()
        && !email.chars().any(|character| {
            character.is_whitespace() || character.is_control() || character == '"'
        })
        && email == email.to_lowercase();
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{email}` is not a lowercase email address such as `admin@acme.com`"
        ))
    }
}

/// `dex:` of env.yaml configures the Dex of `oidc: dex`; without it nothing would read it.
pub(super) fn check_spec(name: &EnvName, spec: &EnvSpec) -> Result<(), ResolveError> {
    if spec.dex.is_some() && spec.oidc != crate::declare::Oidc::Dex {
        return Err(env_error(
            name,
            "env.yaml",
            "`dex:` is set but `oidc` is not `dex`: no Dex is rendered to use it".to_string(),
        )
        .field("dex")
        .hint("set `oidc: dex`, or remove the `dex:` block"));
    }
    Ok(())
}

pub(super) fn resolve_dex(
    name: &EnvName,
    spec: &EnvSpec,
    hosts: &[Host],
    namespace: &Namespace,
    users: &DexUsersSpec,
) -> Result<Dex, ResolveError> {
    let external = |service: &str| -> String {
        match spec.routing {
            Routing::Host => {
                let host = hosts
                    .iter()
                    .find(|host| host.service == service)
                    .map(|host| host.host.as_str())
                    .unwrap_or("");
                format!("https://{host}")
            }
            Routing::Path => format!("https://{}", spec.domain),
        }
    };
    // Dex serves under its issuer's path; `/dex` in both routings keeps the probes on
    // `/dex/healthz` and the guide's `/()(dex/.*)` rule.
    let issuer = format!("{}/dex", external("dex"));
    let image = spec.dex.as_ref().and_then(|dex| dex.image.clone());
    if let Some(image) = &image {
        super::checks::check_image_field(name, "dex.image", image)?;
    }
    let mut resolved: Vec<DexUser> = Vec::new();
    for user in &users.users {
        if let Some((field, problem)) = user_problem(user, &resolved) {
            return Err(env_error(name, crate::declare::DEX_USERS_FILE, problem)
                .field(format!("users[{}].{field}", resolved.len()))
                .hint(
                    "this file is maintained by `dbos-gitops dex add-user|remove-user`; undo the hand edit",
                ));
        }
        resolved.push(DexUser {
            email: user.email.clone(),
            username: user.username.clone(),
            user_id: user.user_id.clone(),
            secret_key: user.secret_key.clone(),
            hash_env: DexUser::hash_env_for(&user.secret_key),
            password_revision: user.password_revision,
        });
    }
    Ok(Dex {
        issuer,
        jwks_url: format!("http://dex.{namespace}.svc.cluster.local:5556/dex/keys"),
        redirect_uri: format!("{}/oauth/callback", external("console")),
        console_origin: external("console"),
        users: resolved,
        image,
    })
}

/// The first broken rule of one user (its key in `dex-users.yaml` and the message), given the
/// users before it.
fn user_problem(user: &DexUserSpec, earlier: &[DexUser]) -> Option<(&'static str, String)> {
    if let Err(problem) = check_email(&user.email) {
        return Some(("email", problem));
    }
    if let Err(problem) = check_dex_secret_key(&user.secret_key) {
        return Some(("secret-key", problem));
    }
    if earlier.iter().any(|other| other.email == user.email) {
        return Some(("email", format!("user `{}` is listed twice", user.email)));
    }
    if earlier
        .iter()
        .any(|other| other.secret_key == user.secret_key)
    {
        return Some((
            "secret-key",
            format!("secret key `{}` is used twice", user.secret_key),
        ));
    }
    if user.username.trim().is_empty() {
        return Some(("username", needs_names(user)));
    }
    if user.user_id.trim().is_empty() {
        return Some(("user-id", needs_names(user)));
    }
    None
}

fn needs_names(user: &DexUserSpec) -> String {
    format!("user `{}` needs a username and a user-id", user.email)
}
