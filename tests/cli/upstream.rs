//! Issue 10, "runs on today's stack": each case renders an environment with `kubectl kustomize`
//! and asserts what the current upstream DBOS guide and the components' source require of it
//! (docs/upstream-requirements.md maps each requirement to its test here).

use serde_json::{json, Value};

use crate::support::*;

fn annotation<'a>(object: &'a Value, key: &str) -> Option<&'a str> {
    object["metadata"]["annotations"][key].as_str()
}

fn wave(object: &Value) -> i64 {
    annotation(object, "argocd.argoproj.io/sync-wave")
        .unwrap_or_else(|| panic!("no sync wave on {object}"))
        .parse()
        .unwrap()
}

fn from_namespace(policy: &Value, peer: usize) -> &Value {
    &policy["spec"]["ingress"][0]["from"][peer]["namespaceSelector"]["matchLabels"]
        ["kubernetes.io/metadata.name"]
}

/// Items 10 and 11: the control plane before the migrate hook, the hook before the versions'
/// Deployments, the Service only after them (Argo CD waits for a wave to be healthy before the
/// next, and a failed hook stops the sync at its own wave), the ScaledObject last.
#[test]
fn sync_waves_keep_a_failed_migration_from_the_control_plane_and_switch_the_service_last() {
    if !require_tool("kubectl", &["version", "--client"]) {
        return;
    }
    let repo = TestRepo::with_env(
        "prod",
        &[
            "--domain",
            "dbos.acme.com",
            "--oidc",
            "dex",
            "--app-image",
            "app:v1",
        ],
    );
    edit_env(&repo, "prod", |text| {
        text.replace(
            "  # autoscaling:",
            "  autoscaling:\n    queue: q\n    worker-concurrency: 2\n  # was autoscaling:",
        )
    });
    repo.ok(&["version", "add", "v2", "--env", "prod", "--image", "app:v2"]);
    let objects = repo.kustomize("prod");
    let job = wave(find(&objects, "Job", "dbos-migrate"));
    for name in ["conductor", "console", "dex"] {
        assert!(wave(find(&objects, "Deployment", name)) < job, "{name}");
    }
    // #21.5: the Ingress (Progressing until its load balancer status is filled) comes last.
    let ingress = wave(find(&objects, "Ingress", "dbos"));
    assert!(job < ingress);
    for version in ["v1", "v2"] {
        assert!(job < wave(find(&objects, "Deployment", &format!("dbos-app-{version}"))));
    }
    let deployments = wave(find(&objects, "Deployment", "dbos-app-v2"));
    let service = wave(find(&objects, "Service", "dbos-app"));
    assert!(deployments < service);
    let scaled_object = wave(find(&objects, "ScaledObject", "dbos-app-v2"));
    assert!(service < scaled_object);
    assert!(scaled_object < ingress);
    assert_eq!(
        find(&objects, "Service", "dbos-app")["spec"]["selector"]["app.kubernetes.io/version"],
        "v2"
    );
}

/// Item 3: Dex sends CORS headers to the Console's origin (host routing: its own host).
#[test]
fn dex_allows_the_console_origin_and_the_authorization_header() {
    if !require_tool("kubectl", &["version", "--client"]) {
        return;
    }
    let repo = TestRepo::with_env("prod", &["--domain", "dbos.acme.com", "--oidc", "dex"]);
    let objects = repo.kustomize("prod");
    let config = find(&objects, "ConfigMap", "dex-config")["data"]["config.yaml"]
        .as_str()
        .unwrap()
        .to_string();
    let config = &parse_yaml_stream(&config)[0];
    assert_eq!(
        config["web"]["allowedOrigins"],
        json!(["https://console.dbos.acme.com"])
    );
    assert_eq!(config["web"]["allowedHeaders"], json!(["Authorization"]));
    assert_eq!(config["web"]["http"], "0.0.0.0:5556");
    // With OAuth, Conductor is public (it verifies tokens).
    let hosts = find(&objects, "Ingress", "dbos")["spec"]["tls"][0]["hosts"].clone();
    assert_eq!(
        hosts,
        json!([
            "console.dbos.acme.com",
            "conductor.dbos.acme.com",
            "dex.dbos.acme.com"
        ])
    );
}

/// Items 7 and 8: the controllers' namespaces are settings used by every policy naming them,
/// and the ACME HTTP-01 solver is reachable from the ingress controller with cert-manager.
#[test]
fn controller_namespaces_and_the_cert_manager_solver() {
    if !require_tool("kubectl", &["version", "--client"]) {
        return;
    }
    let repo = TestRepo::prod();
    edit_env(&repo, "prod", |text| {
        text.replace("tls: self-signed\n", "tls: cert-manager\n  cluster-issuer: le\n")
            .replace(
                "controller-namespace: ingress-nginx",
                "controller-namespace: nginx-system",
            )
            .replace(
                "  # autoscaling:",
                "  autoscaling:\n    queue: q\n    worker-concurrency: 2\n    keda-namespace: keda-system\n  # was autoscaling:",
            )
    });
    repo.ok(&["build"]);
    let objects = repo.kustomize("prod");
    for policy in [
        "allow-conductor-ingress",
        "allow-console-ingress",
        "allow-dex-ingress",
        "allow-dbos-app-ingress",
        "allow-acme-http01-solver",
    ] {
        let policy = find(&objects, "NetworkPolicy", policy);
        assert_eq!(from_namespace(policy, 0), "nginx-system", "{policy}");
    }
    let app = find(&objects, "NetworkPolicy", "allow-dbos-app-ingress");
    assert_eq!(from_namespace(app, 1), "keda-system");
    let solver = find(&objects, "NetworkPolicy", "allow-acme-http01-solver");
    assert_eq!(
        solver["spec"]["podSelector"],
        json!({ "matchLabels": { "acme.cert-manager.io/http01-solver": "true" } })
    );
    assert_eq!(
        solver["spec"]["ingress"][0]["ports"],
        json!([{ "protocol": "TCP", "port": 8089 }])
    );
    // Egress stays open: Conductor checks its license at https://cloud.dbos.dev on start.
    for name in names_of_kind(&objects, "NetworkPolicy") {
        let policy = find(&objects, "NetworkPolicy", &name);
        assert_eq!(policy["spec"]["policyTypes"], json!(["Ingress"]), "{name}");
    }
    assert!(!kustomize_text_has(&repo, "ingress-nginx"));
    assert!(!kustomize_text_has(&repo, "metadata.name: keda\n"));
    validate_schemas(&objects);

    // Self-signed: no solver policy.
    edit_env(&repo, "prod", |text| {
        text.replace(
            "tls: cert-manager\n  cluster-issuer: le\n",
            "tls: self-signed\n",
        )
    });
    repo.ok(&["build"]);
    let objects = repo.kustomize("prod");
    assert!(!names_of_kind(&objects, "NetworkPolicy").contains(&"allow-acme-http01-solver".into()));
}

fn kustomize_text_has(repo: &TestRepo, needle: &str) -> bool {
    repo.kustomize_text("environments/prod").contains(needle)
}

/// Items 4, 5 and 9: an app outside the cluster reaches Conductor at the guide's
/// `/conductor-api` prefix, trusts the self-signed CA in every runtime, and its pods roll when
/// the CA changes.
#[test]
fn external_conductor_trust_for_every_runtime_rolls_with_the_ca() {
    if !require_tool("kubectl", &["version", "--client"]) {
        return;
    }
    let repo = TestRepo::with_env(
        "prod",
        &[
            "--domain",
            "dbos.acme.com",
            "--routing",
            "path",
            "--app-image",
            "app:v1",
        ],
    );
    edit_env(&repo, "prod", |text| {
        text.replace("conductor: in-cluster", "conductor: external")
            .replace(
                "conductor:\n  image:",
                "conductor:\n  allow-unauthenticated: true\n  image:",
            )
    });
    repo.write("environments/prod/tls.crt", "first certificate\n");
    repo.ok(&["build"]);
    let digest = |repo: &TestRepo| -> String {
        let objects = repo.kustomize("prod");
        let app = find(&objects, "Deployment", "dbos-app-v1");
        assert_eq!(
            container_env(app, "DBOS_CONDUCTOR_URL").unwrap()["value"],
            "wss://dbos.acme.com/conductor-api"
        );
        for variable in ["SSL_CERT_FILE", "NODE_EXTRA_CA_CERTS"] {
            assert_eq!(
                container_env(app, variable).unwrap()["value"],
                "/certs/ca-certificates.crt",
                "{variable}"
            );
        }
        // Public without OAuth only because env.yaml says so; routed at the guide's prefix.
        let paths = find(&objects, "Ingress", "dbos")["spec"]["rules"][0]["http"]["paths"][0]
            ["path"]
            .clone();
        assert_eq!(paths, "/conductor-api(/|$)(.*)");
        app["spec"]["template"]["metadata"]["annotations"]["dbos-gitops.io/ca-sha256"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let first = digest(&repo);
    assert_eq!(
        first,
        dbos_gitops::repo::ownership::digest(b"first certificate\n")
    );
    assert_eq!(first, digest(&repo), "deterministic");
    repo.write("environments/prod/tls.crt", "reissued certificate\n");
    repo.ok(&["build"]);
    assert_ne!(digest(&repo), first, "a new CA rolls the pods");
}

/// Item 11: the migrate command follows the app's language; a Go app names its CLI image.
#[test]
fn migrate_command_and_image_per_language() {
    if !require_tool("kubectl", &["version", "--client"]) {
        return;
    }
    let repo = TestRepo::prod();
    let migrate = |repo: &TestRepo| -> Option<Value> {
        let objects = repo.kustomize("prod");
        names_of_kind(&objects, "Job")
            .contains(&"dbos-migrate".to_string())
            .then(|| {
                find(&objects, "Job", "dbos-migrate")["spec"]["template"]["spec"]["containers"][0]
                    .clone()
            })
    };
    edit_env(&repo, "prod", |text| {
        text.replace("language: python", "language: typescript")
    });
    repo.ok(&["build"]);
    let container = migrate(&repo).unwrap();
    assert_eq!(container["image"], "ghcr.io/acme/app:v1");
    assert_eq!(
        container["command"],
        json!([
            "npx",
            "--no",
            "dbos",
            "schema",
            "$(DBOS_SYSTEM_DATABASE_URL)",
            "--app-role",
            "dbos_app_role"
        ])
    );

    edit_env(&repo, "prod", |text| {
        text.replace("language: typescript", "language: go")
    });
    repo.ok(&["build"]);
    assert!(migrate(&repo).is_none(), "the Go app image has no CLI");

    edit_env(&repo, "prod", |text| {
        text.replace(
            "    # image: ghcr.io/acme/dbos-migrate:v1",
            "    image: ghcr.io/acme/dbos-cli:v1\n    # was image:",
        )
    });
    repo.ok(&["build"]);
    let container = migrate(&repo).unwrap();
    assert_eq!(container["image"], "ghcr.io/acme/dbos-cli:v1");
    assert_eq!(
        container["command"],
        json!([
            "dbos",
            "migrate",
            "--db-url",
            "$(DBOS_SYSTEM_DATABASE_URL)",
            "--app-role",
            "dbos_app_role"
        ])
    );
}

/// Item 6: `init env --conductor-version X` pins both images; a bad tag is exit 2 and writes
/// nothing; without the flag both run `latest` and the command says so.
#[test]
fn init_env_pins_conductor_and_console_together() {
    let repo = TestRepo::with_env("prod", &["--conductor-version", "2.1.0"]);
    let env = repo.read("environments/prod/env.yaml");
    assert!(env.contains("  image: dbosdev/conductor:2.1.0\n"), "{env}");
    assert!(env.contains("  image: dbosdev/console:2.1.0\n"), "{env}");

    let before = repo.snapshot();
    let bad = repo.fails(
        &["init", "env", "staging", "--conductor-version", "2.1 beta"],
        2,
    );
    assert!(
        bad.stderr.contains("`2.1 beta` is not an image tag"),
        "{}",
        bad.stderr
    );
    assert_eq!(repo.snapshot(), before);

    let unpinned = repo.ok(&["init", "env", "dev", "--namespace", "dbos-dev"]);
    assert!(
        unpinned.contains("Conductor and Console run `latest`"),
        "{unpinned}"
    );
    assert!(repo
        .read("environments/dev/env.yaml")
        .contains("  image: dbosdev/console:latest\n"));
}
