//! Render: the resolved model in, the generated file tree out. Pure and deterministic: no I/O,
//! no clock, no randomness; the same model gives byte-identical files. One file per component.

mod app;
mod argocd;
mod base;
mod dex;
mod ingress;
mod keda;
mod kustomize;
pub mod meta;
mod patches;

use std::collections::BTreeMap;

use crate::model::{Environment, Repo};

pub use base::BASE_FILES;

/// Generated files by repository-relative path (always `/`-separated).
pub type Tree = BTreeMap<String, String>;

/// Every file the tool owns for this repository.
pub fn render_repo(repo: &Repo) -> Tree {
    let mut tree = Tree::new();
    for (path, text) in BASE_FILES {
        tree.insert(format!("base/{path}"), text.to_string());
    }
    for env in &repo.environments {
        render_env(env, &mut tree);
    }
    argocd::render(repo, &mut tree);
    // Editor schemas of env.yaml and dbos-gitops.yaml (#15).
    crate::spec::schema::render(&mut tree);
    tree
}

fn render_env(env: &Environment, tree: &mut Tree) {
    let dir = format!("environments/{}", env.name);
    let source = format!("{dir}/env.yaml");
    let mut add = |path: String, documents: Vec<serde_json::Value>| {
        tree.insert(path, meta::generated_file(&source, &documents));
    };
    add(format!("{dir}/ingress.yaml"), vec![ingress::ingress(env)]);
    add(
        format!("{dir}/patches/conductor.yaml"),
        vec![patches::conductor(env)],
    );
    add(
        format!("{dir}/patches/console.yaml"),
        vec![patches::console(env)],
    );
    add(
        format!("{dir}/patches/app-service.yaml"),
        vec![patches::app_service(env)],
    );
    add(
        format!("{dir}/patches/migrate.yaml"),
        vec![patches::migrate(env)],
    );
    if let Some(documents) = keda::documents(env) {
        add(format!("{dir}/autoscaling.yaml"), documents);
    }
    for version in &env.versions {
        let version_dir = format!("{dir}/versions/{}", version.name);
        add(
            format!("{version_dir}/kustomization.yaml"),
            vec![app::version_kustomization(version)],
        );
        add(
            format!("{version_dir}/deployment.yaml"),
            vec![app::version_patch(env, version)],
        );
    }
    add(
        format!("{dir}/kustomization.yaml"),
        vec![kustomize::env_kustomization(env)],
    );
    if let Some(dex) = &env.dex {
        // Also compiled from the tool-owned user list.
        let source = format!("{dir}/env.yaml and {dir}/{}", crate::spec::DEX_USERS_FILE);
        for (file, document) in [
            (kustomize::DEX_CONFIG_FILE, dex::config_map(dex)),
            (kustomize::DEX_PATCH_FILE, dex::deployment_patch(dex)),
        ] {
            tree.insert(
                format!("{dir}/{file}"),
                meta::generated_file(&source, &[document]),
            );
        }
    }
}
