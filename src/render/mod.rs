//! Render: the resolved model in, the generated file tree out. Pure and deterministic: no I/O,
//! no clock, no randomness; the same model gives byte-identical files. One file per component.

mod app;
mod argocd;
mod base;
// The databases and roles of `database init` (#22).
mod bootstrap;
mod dex;
pub mod gateway;
mod ingress;
mod keda;
mod kustomize;
pub mod meta;
// NGINX Gateway Fabric's ProxySettingsPolicy (#21.2).
mod ngf;
mod patches;
pub mod rollout;

use crate::layout;
use crate::model::{Environment, Repo};

pub use crate::layout::Tree;
pub use base::BASE_FILES;
// What `env remove --cascade` records and names (#24.7).
pub use argocd::{removal_kinds, CASCADE_FINALIZER};

/// Every file the tool owns for this repository.
pub fn render_repo(repo: &Repo) -> Tree {
    render_repo_for(repo, None)
}

/// [`render_repo`] with the files of one environment only (`only`), beside `base/`, `argocd/`
/// and the schemas: what a command about one environment plans (its plan never touches another
/// environment's files), without rendering the other environments it would throw away.
pub fn render_repo_for(repo: &Repo, only: Option<&str>) -> Tree {
    let mut tree = Tree::new();
    for (path, text) in BASE_FILES {
        tree.insert(layout::base_file(path), text.to_string());
    }
    for env in &repo.environments {
        if only.is_none_or(|name| env.name.as_str() == name) {
            render_env(env, &mut tree);
        }
    }
    argocd::render(repo, &mut tree);
    // Editor schemas of env.yaml and dbos-gitops.yaml (#15).
    crate::declare::schema::render(&mut tree);
    tree
}

fn render_env(env: &Environment, tree: &mut Tree) {
    let dir = layout::env_dir(&env.name);
    let source = layout::env_file(&env.name);
    let mut add = |path: String, mut documents: Vec<serde_json::Value>| {
        documents
            .iter_mut()
            .for_each(|document| rollout::annotate(env, document));
        tree.insert(path, meta::generated_file(&source, &documents));
    };
    if env.ingress_rendered {
        add(format!("{dir}/ingress.yaml"), ingress::documents(env));
    }
    if let Some(gateway) = &env.gateway {
        add(
            format!("{dir}/{}", kustomize::GATEWAY_FILE),
            gateway::documents(env, gateway),
        );
    }
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
        let version_dir = layout::version_dir(&env.name, &version.name);
        add(
            format!("{version_dir}/{}", layout::KUSTOMIZATION_FILE),
            vec![app::version_kustomization(version)],
        );
        add(
            format!("{version_dir}/deployment.yaml"),
            vec![app::version_patch(env, version)],
        );
    }
    add(
        layout::env_path(&env.name, layout::KUSTOMIZATION_FILE),
        vec![kustomize::env_kustomization(env)],
    );
    if let Some(dex) = &env.dex {
        // Also compiled from the tool-owned user list.
        let source = format!("{source} and {}", layout::dex_users_file(&env.name));
        for (file, mut document) in [
            (layout::DEX_CONFIG_FILE, dex::config_map(dex)),
            (layout::DEX_PATCH_FILE, dex::deployment_patch(dex)),
        ] {
            rollout::annotate(env, &mut document);
            tree.insert(
                layout::env_path(&env.name, file),
                meta::generated_file(&source, &[document]),
            );
        }
    }
}
