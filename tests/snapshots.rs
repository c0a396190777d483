//! Snapshots of every generated file for the model variants that matter (issue 13): host and
//! path routing, HA Conductor, Dex, KEDA metrics-api and postgresql, cert-manager, external
//! Conductor. Each variant is declared the way users write it and loaded the way the CLI loads
//! it (files on disk, `repo::load_repo`, `model::resolve`), then rendered by the pure
//! `render::render_repo`. A reviewer reads the whole output once; any later change to it shows
//! up as a snapshot diff.
//!
//! Review and accept changed snapshots with `INSTA_UPDATE=always cargo test --test snapshots`
//! (or `cargo insta review` when cargo-insta is installed), then read `git diff tests/snapshots`.

// Test helpers unwrap: a failure here is a failed test, with the panic's message.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use serde::Deserialize as _;

use dbos_gitops::render::{render_repo, Tree, BASE_FILES};

const REPO: &str = "repo-url: https://github.com/acme/dbos-deploy.git\nrevision: main\n";
const VERSIONS: &str = "active: v2\nversions:\n- name: v1\n  image: ghcr.io/acme/shop:v1\n- name: v2\n  image: ghcr.io/acme/shop:v2\n";
/// The default declaration: host routing, no OIDC, in-cluster Conductor, no autoscaling.
const HOST: &str = "namespace: dbos-prod\ndomain: dbos.acme.com\napp:\n  name: shop\n";

/// Writes the declarations into a fresh repository, with the sealed secrets the env needs
/// (placeholders: render reads only their names) and the published certificate, then loads,
/// resolves and renders it as `dbos-gitops build` does.
fn render(env_yaml: &str) -> Tree {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let env_dir = root.join("environments/prod");
    std::fs::create_dir_all(env_dir.join("secrets")).unwrap();
    std::fs::write(root.join("dbos-gitops.yaml"), REPO).unwrap();
    std::fs::write(env_dir.join("env.yaml"), env_yaml).unwrap();
    std::fs::write(env_dir.join("versions.yaml"), VERSIONS).unwrap();
    let model = load(root);
    let env = &model.environments[0];
    let namespace = env.namespace.to_string();
    for secret in dbos_gitops::inventory::secret_names(env) {
        // Render reads only the file name; kustomize needs an object.
        let file = env_dir.join("secrets").join(format!("{secret}.yaml"));
        let placeholder = format!(
            "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: {secret}\n  \
             namespace: {namespace}\nspec:\n  encryptedData:\n    key: AgBplaceholder\n"
        );
        std::fs::write(file, placeholder).unwrap();
    }
    if env_yaml.contains("oidc: dex") {
        std::fs::write(
            env_dir.join("dex-users.yaml"),
            "users:\n- email: admin@acme.com\n  username: admin\n  user-id: 5f3a0c2e-0000-4000-8000-000000000001\n  secret-key: admin-acme-com\n  password-revision: 1\n",
        )
        .unwrap();
    }
    if !env_yaml.contains("tls: cert-manager") {
        let certificate = std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/sealed-secrets-go/go-cert.pem"),
        )
        .unwrap();
        std::fs::write(env_dir.join("tls.crt"), certificate).unwrap();
    }
    let tree = render_repo(&load(root));
    kustomize_renders(root, &tree);
    renders_no_plain_secret(&tree);
    tree
}

/// No rendered file holds a Secret-like object: `check` relies on it when it leaves the
/// generated files that are byte-for-byte as written out of its plain-Secret scan
/// (`check::plaintext`).
fn renders_no_plain_secret(tree: &Tree) {
    for (path, text) in tree.iter().filter(|(path, _)| path.ends_with(".yaml")) {
        for document in serde_yaml::Deserializer::from_str(text) {
            let value = serde_json::Value::deserialize(document).unwrap();
            assert!(
                !dbos_gitops::check::plaintext::is_secret_like(&value),
                "{path} renders a Secret-like object"
            );
        }
    }
}

/// The tree on disk renders with the real `kubectl kustomize`, as Argo CD will render it.
fn kustomize_renders(root: &Path, tree: &Tree) {
    if !dbos_gitops_test_support::skip::require_tool("kubectl", &["version", "--client"]) {
        return;
    }
    for (path, text) in tree {
        let file = root.join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, text).unwrap();
    }
    let output = std::process::Command::new("kubectl")
        .args(["kustomize", "environments/prod"])
        .current_dir(root)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "kubectl kustomize environments/prod: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn load(root: &Path) -> dbos_gitops::model::Repo {
    let loaded = dbos_gitops::repo::load_repo(root).unwrap_or_else(|error| panic!("{error}"));
    dbos_gitops::model::resolve(&loaded.spec, loaded.environments)
        .unwrap_or_else(|error| panic!("{error}"))
}

/// Every generated file but the static base (held by `base_is_the_repository_base`) and the
/// editor schemas (the same for every environment, held by `tests/cli/schema.rs`), each under a
/// `# ==> path <==` header.
fn generated(tree: &Tree) -> String {
    let mut out = String::new();
    for (path, text) in tree
        .iter()
        .filter(|(path, _)| !path.starts_with("base/") && !path.starts_with(".dbos-gitops/schema/"))
    {
        out.push_str(&format!("# ==> {path} <==\n{text}"));
    }
    out
}

/// PEM blocks, bcrypt hashes and ciphertext, should any reach a generated file.
fn assert_masked(name: &str, tree: &Tree) {
    masked().bind(|| insta::assert_snapshot!(name, generated(tree)));
}

fn masked() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(
        r"-----BEGIN ([A-Z ]+)-----[\s\S]*?-----END [A-Z ]+-----",
        "[PEM $1]",
    );
    settings.add_filter(r"\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}", "[BCRYPT]");
    settings.add_filter(r"\b[A-Za-z0-9+/]{200,}={0,2}", "[CIPHERTEXT]");
    settings.set_prepend_module_to_snapshot(false);
    settings
}

/// The masks do mask: a certificate, a bcrypt hash and a long ciphertext.
#[test]
fn masking_hides_pem_bcrypt_and_ciphertext() {
    let certificate = String::from_utf8(
        std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/sealed-secrets-go/go-cert.pem"),
        )
        .unwrap(),
    )
    .unwrap();
    let text = format!(
        "ca: |\n{certificate}hash: $2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy\nsealed: {}\n",
        "AgB".repeat(100)
    );
    masked().bind(|| {
        insta::assert_snapshot!(text, @r"
        ca: |
        [PEM CERTIFICATE]
        hash: [BCRYPT]
        sealed: [CIPHERTEXT]
        ");
    });
}

#[test]
fn host_routing() {
    assert_masked("host_routing", &render(HOST));
}

#[test]
fn path_routing() {
    assert_masked(
        "path_routing",
        &render(&HOST.replace(
            "domain: dbos.acme.com\n",
            "domain: dbos.acme.com\nrouting: path\n",
        )),
    );
}

#[test]
fn ha_conductor() {
    assert_masked(
        "ha_conductor",
        &render(&format!("{HOST}conductor:\n  replicas: 3\n")),
    );
}

#[test]
fn dex() {
    assert_masked(
        "dex",
        &render(&HOST.replace(
            "domain: dbos.acme.com\n",
            "domain: dbos.acme.com\noidc: dex\n",
        )),
    );
}

#[test]
fn keda_metrics_api() {
    assert_masked(
        "keda_metrics_api",
        &render(&format!(
            "{HOST}  autoscaling:\n    trigger: metrics-api\n    queue: taskQueue\n    worker-concurrency: 2\n    min-replicas: 1\n    max-replicas: 10\n"
        )),
    );
}

#[test]
fn keda_postgresql() {
    assert_masked(
        "keda_postgresql",
        &render(&format!(
            "{HOST}  autoscaling:\n    trigger: postgresql\n    queue: taskQueue\n    worker-concurrency: 2\n    min-replicas: 0\n    max-replicas: 5\n"
        )),
    );
}

#[test]
fn cert_manager() {
    assert_masked(
        "cert_manager",
        &render(&format!(
            "{HOST}ingress:\n  tls: cert-manager\n  cluster-issuer: letsencrypt-prod\n"
        )),
    );
}

#[test]
fn external_conductor() {
    assert_masked(
        "external_conductor",
        &render(
            "namespace: dbos-prod\ndomain: dbos.acme.com\noidc: dex\napp:\n  name: shop\n  conductor: external\n",
        ),
    );
}

/// The static base is the repository's own `base/`, byte for byte (it is embedded from there),
/// and the same in every variant.
#[test]
fn base_is_the_repository_base() {
    let tree = render(HOST);
    let base: Vec<(&String, &String)> = tree
        .iter()
        .filter(|(p, _)| p.starts_with("base/"))
        .collect();
    assert_eq!(base.len(), BASE_FILES.len());
    for (path, text) in base {
        let on_disk = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
            .unwrap_or_else(|error| panic!("{path}: {error}"));
        assert!(*text == on_disk, "{path} differs from the repository's");
    }
    let paths: Vec<&String> = tree.keys().filter(|p| p.starts_with("base/")).collect();
    insta::with_settings!({ prepend_module_to_snapshot => false }, {
        insta::assert_debug_snapshot!("base_files", paths);
    });
}

/// Gateway API (#21): the environment's own Envoy Gateway, host routing.
const GATEWAY: &str = "namespace: dbos-prod\ndomain: dbos.acme.com\ningress:\n  gateway:\n    class: eg\n    implementation: envoy-gateway\napp:\n  name: shop\n";

#[test]
fn gateway_own_host_routing() {
    assert_masked("gateway_own_host_routing", &render(GATEWAY));
}

#[test]
fn gateway_shared_listener_set_path_routing_cert_manager() {
    assert_masked(
        "gateway_shared_listener_set_path_routing_cert_manager",
        &render(
            "namespace: dbos-prod\ndomain: dbos.acme.com\nrouting: path\noidc: dex\ningress:\n  tls: cert-manager\n  cluster-issuer: letsencrypt-prod\n  gateway:\n    parent: infra/shared\n    implementation: envoy-gateway\napp:\n  name: shop\n",
        ),
    );
}

#[test]
fn gateway_shared_section_keep_ingress() {
    assert_masked(
        "gateway_shared_section_keep_ingress",
        &render(
            "namespace: dbos-prod\ndomain: dbos.acme.com\ningress:\n  gateway:\n    parent: infra/shared/https\n    implementation: nginx-gateway-fabric\n    keep-ingress: true\napp:\n  name: shop\n",
        ),
    );
}
