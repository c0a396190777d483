//! What the current upstream guide asks of a running stack that a declaration can still miss:
//! pinned Conductor, Console and Dex images with Conductor and Console in step, no public
//! Conductor without authentication, a migrate image for apps whose image has no DBOS CLI, and
//! no Dex older than the release we test (`dex-image-older`, #21.8).

use super::env_check::EnvCheck;
use super::finding::Finding;
use crate::declare::{ConductorConnection, Language, Oidc};
use crate::model::Environment;

/// The Dex image the embedded base runs (`base/components/dex/dex.yaml`).
fn dex_image() -> Option<&'static str> {
    crate::render::BASE_FILES
        .iter()
        .find(|(path, _)| *path == "components/dex/dex.yaml")
        .and_then(|(_, text)| {
            text.lines()
                .find_map(|line| line.trim().strip_prefix("image: "))
        })
}

/// The tag of an image reference; `None` without one. A digest pins too.
fn tag(image: &str) -> Option<&str> {
    if let Some((_, digest)) = image.split_once('@') {
        return Some(digest);
    }
    match image.rsplit_once(':') {
        Some((_, tag)) if !tag.contains('/') => Some(tag),
        _ => None,
    }
}

pub fn check(check: &EnvCheck<'_>) -> Vec<Finding> {
    let Some(env) = &check.env else {
        return Vec::new();
    };
    let file = format!("{}/env.yaml", check.dir);
    let mut findings = images(env, &file);
    findings.extend(older_dex(env, &file));
    findings.extend(unauthenticated_conductor(env, &file));
    if env.language == Language::Go && env.migrate_image.is_none() && !env.versions.is_empty() {
        findings.push(
            Finding::error(
                "missing-migrate-image",
                &file,
                "app.language is `go`, whose app image has no `dbos` CLI: no migrate Job is rendered and the system tables are never created",
            )
            .hint("set `app.migrate.image` to an image with the DBOS Go CLI (`go install github.com/dbos-inc/dbos-transact-golang/cmd/dbos`)"),
        );
    }
    findings
}

fn images(env: &Environment, file: &str) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut candidates = vec![
        ("conductor.image", env.conductor_image.as_str()),
        ("console.image", env.console_image.as_str()),
    ];
    if env.oidc == Oidc::Dex {
        match env.dex.as_ref().and_then(|dex| dex.image.as_deref()) {
            Some(image) => candidates.push(("dex.image", image)),
            None => {
                if let Some(image) = dex_image() {
                    candidates.push(("the Dex image of base/components/dex/dex.yaml", image));
                }
            }
        }
    }
    for (field, image) in candidates {
        if matches!(tag(image), None | Some("latest")) {
            findings.push(
                Finding::warning(
                    "unpinned-image",
                    file,
                    format!("{field} `{image}` is not pinned: every restart may pull a different release"),
                )
                .hint("pin an explicit version tag, e.g. `dbosdev/conductor:<version>` and the same `dbosdev/console:<version>`"),
            );
        }
    }
    let conductor = tag(&env.conductor_image);
    let console = tag(&env.console_image);
    if conductor != console {
        findings.push(
            Finding::warning(
                "unpinned-image",
                file,
                format!(
                    "conductor.image `{}` and console.image `{}` differ in version: upstream releases them together",
                    env.conductor_image, env.console_image
                ),
            )
            .hint("use the same tag for both (a Console newer than Conductor is not supported)"),
        );
    }
    findings
}

/// `vMAJOR.MINOR.PATCH` at the start of a tag (Dex tags `v2.45.1`, `v2.45.1-distroless`).
fn release(tag: &str) -> Option<(u64, u64, u64)> {
    let mut parts = tag.strip_prefix('v').unwrap_or(tag).splitn(3, '.');
    let number = |part: Option<&str>| -> Option<u64> {
        let part = part?;
        let end = part
            .find(|character: char| !character.is_ascii_digit())
            .unwrap_or(part.len());
        part[..end].parse().ok()
    };
    Some((
        number(parts.next())?,
        number(parts.next())?,
        number(parts.next())?,
    ))
}

/// `dex.image` with a release older than the base's: the issuer discovery, CORS and
/// `hashFromEnv` behaviour our config relies on is tested with the base's release only. A tag
/// that names no release (a digest, a custom tag) cannot be compared and passes.
fn older_dex(env: &Environment, file: &str) -> Option<Finding> {
    let image = env.dex.as_ref()?.image.as_deref()?;
    let tested = dex_image()?;
    let (declared, known) = (release(tag(image)?)?, release(tag(tested)?)?);
    (declared < known).then(|| {
        Finding::warning(
            "dex-image-older",
            file,
            format!("dex.image `{image}` is older than `{tested}`, the Dex release dbos-gitops tests (base/components/dex/dex.yaml)"),
        )
        .field("dex.image")
        .hint(format!("remove `dex.image` to run `{tested}`, or pin that release or a newer one"))
    })
}

fn unauthenticated_conductor(env: &Environment, file: &str) -> Option<Finding> {
    let public = env.oidc == Oidc::None
        && env.conductor_connection == ConductorConnection::External
        && env.service_host("conductor").is_some();
    (public && !env.conductor_allow_unauthenticated).then(|| {
        Finding::error(
            "unauthenticated-conductor",
            file,
            "Conductor is routed publicly (`app.conductor: external`) but `oidc` is `none`: without OAuth it authenticates nothing and does not verify API keys",
        )
        .hint("set `oidc: dex`, or run the app in-cluster (`app.conductor: in-cluster`), or accept it with `allow-unauthenticated: true` under `conductor:`")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_digests() {
        assert_eq!(tag("dbosdev/conductor"), None);
        assert_eq!(tag("localhost:5000/conductor"), None);
        assert_eq!(tag("dbosdev/conductor:latest"), Some("latest"));
        assert_eq!(tag("localhost:5000/conductor:1.2"), Some("1.2"));
        assert_eq!(tag("dbosdev/conductor@sha256:ab"), Some("sha256:ab"));
        assert!(dex_image().is_some_and(|image| image.starts_with("dexidp/dex:v")));
    }

    #[test]
    fn releases_compare_as_numbers() {
        assert_eq!(release("v2.45.1"), Some((2, 45, 1)));
        assert_eq!(release("v2.45.1-distroless"), Some((2, 45, 1)));
        assert!(release("v2.9.0") < release("v2.10.0"));
        assert_eq!(release("latest"), None);
        assert_eq!(release("sha256:ab"), None);
    }
}
