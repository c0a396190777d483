//! What several targets share: the seeds a declaration is resolved against, and resolving.
#![allow(dead_code)]

use std::path::Path;

use dbos_gitops::declare::{self, EnvName, EnvSpec, RepoSpec, VersionsSpec};
use dbos_gitops::model::EnvInput;

pub const ENV: &str = "namespace: dbos-prod\ndomain: dbos.acme.com\nrouting: path\noidc: dex\nconductor:\n  replicas: 2\napp:\n  name: shop\n  autoscaling:\n    trigger: postgresql\n    queue: taskQueue\n    worker-concurrency: 2\n    min-replicas: 0\n";
pub const VERSIONS: &str = "active: v2\nversions:\n- name: v1\n  image: ghcr.io/acme/app:v1\n- name: v2\n  image: ghcr.io/acme/app:v2\n";
pub const REPO: &str = "repo-url: https://github.com/acme/dbos-deploy.git\nrevision: main\nargocd:\n  namespace: argocd\n  project: dbos\n";

/// UTF-8 text, as every loader requires; other bytes are not an input the parsers see.
pub fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

/// A declaration error (of any layer) names the file it is about.
pub fn assert_names_file(error: impl Into<dbos_gitops::error::Error>, file: &str) {
    let report = error.into().report();
    assert!(
        report.contains(file),
        "error does not name `{file}`: {report}"
    );
}

/// Resolves one environment and renders the repository: a model or a clean error, never a
/// panic.
pub fn resolve_and_render(repo: &RepoSpec, spec: EnvSpec, versions: VersionsSpec) {
    let input = EnvInput {
        name: EnvName::new("prod").expect("a valid name"),
        spec,
        versions,
        secret_files: vec![],
        dex_users: Default::default(),
        tls_certificate: true,
        tls_certificate_digest: None,
        secret_digests: Default::default(),
    };
    if let Ok(model) = dbos_gitops::model::resolve(repo, vec![input]) {
        let _ = dbos_gitops::render::render_repo(&model);
    }
}

pub fn seed_repo() -> RepoSpec {
    declare::parse_repo(Path::new("dbos-gitops.yaml"), REPO).expect("seed parses")
}

pub fn seed_env() -> EnvSpec {
    declare::parse_env(Path::new("env.yaml"), ENV).expect("seed parses")
}

pub fn seed_versions() -> VersionsSpec {
    declare::parse_versions(Path::new("versions.yaml"), VERSIONS).expect("seed parses")
}
