//! Dex for `oidc: dex`: what varies per environment over `base/components/dex`. The
//! `dex-config` ConfigMap (issuer and redirect URI from the env's hosts, the public PKCE client
//! of the Console, the static users without their hashes) and a patch that gives the Dex
//! container one `secretKeyRef` variable per user, read by Dex's `hashFromEnv`. The bcrypt
//! hashes stay sealed; the ConfigMap holds nothing secret.

use serde_json::{json, Value};

use super::meta;
use crate::inventory::DEX_USERS_SECRET;
use crate::model::{Dex, DEX_CLIENT_ID};

/// Pod-template annotation: a digest of the configuration and the users' password revisions,
/// so a changed ConfigMap (a user added or removed, a new host) or a changed password rolls
/// Dex, which reads both only at start.
pub const CONFIG_DIGEST_ANNOTATION: &str = "dbos-gitops.io/dex-config-sha256";

/// Dex's `config.yaml`.
pub fn config(dex: &Dex) -> Value {
    let users: Vec<Value> = dex
        .users
        .iter()
        .map(|user| {
            json!({
                "email": user.email,
                "username": user.username,
                "userID": user.user_id,
                "hashFromEnv": user.hash_env,
            })
        })
        .collect();
    json!({
        "issuer": dex.issuer,
        "storage": { "type": "memory" },
        // The Console runs the PKCE flow in the browser, on another origin than Dex with host
        // routing. Dex (server/server.go) wraps its discovery, `/token`, `/userinfo` and `/keys`
        // handlers in a CORS handler only when `web.allowedOrigins` (cmd/dex/config.go, `Web`)
        // is non-empty, and lets through the request headers of `web.allowedHeaders`: the
        // Console's origin and its bearer `Authorization` header.
        "web": {
            "http": "0.0.0.0:5556",
            "allowedOrigins": [dex.console_origin],
            "allowedHeaders": ["Authorization"],
        },
        "oauth2": { "skipApprovalScreen": true, "responseTypes": ["code"] },
        "staticClients": [ {
            "id": DEX_CLIENT_ID,
            "name": "DBOS Console",
            "redirectURIs": [dex.redirect_uri],
            "public": true,
        } ],
        "enablePasswordDB": true,
        "staticPasswords": users,
    })
}

pub fn config_map(dex: &Dex) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": { "name": "dex-config", "labels": meta::labels("dex-config", "dex") },
        "data": { "config.yaml": crate::yaml::emit(&config(dex)) },
    })
}

/// One variable per user from its key of `dex-users`, and the config digest.
pub fn deployment_patch(dex: &Dex) -> Value {
    let environment: Vec<Value> = dex
        .users
        .iter()
        .map(|user| {
            json!({
                "name": user.hash_env,
                "valueFrom": { "secretKeyRef": { "name": DEX_USERS_SECRET, "key": user.secret_key } },
            })
        })
        .collect();
    let mut digested = crate::yaml::emit(&config(dex));
    for user in &dex.users {
        digested.push_str(&format!(
            "# {} password revision {}\n",
            user.secret_key, user.password_revision
        ));
    }
    let digest = crate::layout::digest(digested.as_bytes());
    let mut container = json!({ "name": "dex" });
    if let Some(image) = &dex.image {
        // env.yaml's `dex.image` over the base's release (#21.8).
        container["image"] = json!(image);
    }
    if !environment.is_empty() {
        container["env"] = Value::Array(environment);
    }
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": { "name": "dex" },
        "spec": { "template": {
            "metadata": { "annotations": { CONFIG_DIGEST_ANNOTATION: digest } },
            "spec": { "containers": [container] },
        } },
    })
}

/// Conductor validates every API call's JWT: keys from the in-cluster Dex, issuer and audience
/// as Dex issues them for the Console's client.
pub fn conductor_environment(dex: &Dex) -> Vec<Value> {
    vec![
        json!({ "name": "DBOS_OAUTH_ENABLED", "value": "true" }),
        json!({ "name": "DBOS_OAUTH_JWKS_URL", "value": dex.jwks_url }),
        json!({ "name": "DBOS_OAUTH_ISSUER", "value": dex.issuer }),
        json!({ "name": "DBOS_OAUTH_AUDIENCE", "value": DEX_CLIENT_ID }),
    ]
}

/// The Console logs users in with the authorization-code flow and PKCE (no client secret).
pub fn console_environment(dex: &Dex) -> Vec<Value> {
    vec![
        json!({ "name": "DBOS_OAUTH_ENABLED", "value": "true" }),
        json!({ "name": "DBOS_OAUTH_AUTHORIZATION_URL", "value": format!("{}/auth", dex.issuer) }),
        json!({ "name": "DBOS_OAUTH_TOKEN_URL", "value": format!("{}/token", dex.issuer) }),
        json!({ "name": "DBOS_OAUTH_CLIENT_ID", "value": DEX_CLIENT_ID }),
        json!({ "name": "DBOS_OAUTH_SCOPE", "value": "openid profile email" }),
        json!({ "name": "DBOS_OAUTH_USERINFO_URL", "value": format!("{}/userinfo", dex.issuer) }),
        json!({ "name": "DBOS_OAUTH_AUDIENCE", "value": DEX_CLIENT_ID }),
    ]
}
