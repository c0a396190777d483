//! What `kubectl kustomize environments/<env>` renders: the objects Argo CD will apply.

use serde_json::Value;

use crate::support::*;

fn annotation<'a>(object: &'a Value, key: &str) -> Option<&'a str> {
    object["metadata"]["annotations"][key].as_str()
}

#[test]
fn host_routing_single_replica_single_version() {
    if !require_tool("kubectl", &["version", "--client"]) {
        return;
    }
    let repo = TestRepo::prod();
    let objects = repo.kustomize("prod");

    // Everything lands in the env's namespace and carries our labels, never Argo CD's.
    for object in &objects {
        assert_eq!(object["metadata"]["namespace"], "dbos-prod", "{object}");
        let labels = &object["metadata"]["labels"];
        assert_eq!(
            labels["app.kubernetes.io/managed-by"], "dbos-gitops",
            "{object}"
        );
        assert_eq!(labels["app.kubernetes.io/part-of"], "dbos", "{object}");
        assert!(labels.get("app.kubernetes.io/instance").is_none());
    }
    assert_eq!(
        names_of_kind(&objects, "Deployment"),
        ["conductor", "console", "dbos-app-v1"]
    );
    assert!(names_of_kind(&objects, "PodDisruptionBudget").is_empty());

    let conductor = find(&objects, "Deployment", "conductor");
    assert_eq!(conductor["spec"]["replicas"], 1);
    let container = &conductor["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(
        container["image"],
        format!("dbosdev/conductor:{TEST_CONDUCTOR_VERSION}")
    );
    assert_eq!(container["ports"][0]["containerPort"], 8090);
    assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/healthz");
    assert_eq!(
        container_env(conductor, "DBOS__CONDUCTOR_DB_URL").unwrap()["valueFrom"]["secretKeyRef"],
        serde_json::json!({ "name": "conductor-db", "key": "database-url" })
    );
    assert_eq!(
        container_env(conductor, "DBOS_CONDUCTOR_LICENSE_KEY").unwrap()["valueFrom"]
            ["secretKeyRef"]["name"],
        "conductor-license"
    );
    assert!(container_env(conductor, "DBOS__ADVERTISE_ADDRESS").is_none());
    assert!(conductor["spec"]["template"]["spec"]
        .get("affinity")
        .is_none());
    for selector_key in conductor["spec"]["selector"]["matchLabels"]
        .as_object()
        .unwrap()
        .keys()
    {
        assert!(!selector_key.contains("part-of") && !selector_key.contains("managed-by"));
    }

    let console = find(&objects, "Deployment", "console");
    assert_eq!(
        container_env(console, "DBOS_CONDUCTOR_URL").unwrap()["value"],
        "conductor.dbos-prod.svc.cluster.local:8090"
    );
    // Issue 10 item 1: the console image listens on 8080; the Service publishes it on 80.
    let console_container = &console["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(
        console_container["image"],
        format!("dbosdev/console:{TEST_CONDUCTOR_VERSION}")
    );
    assert_eq!(console_container["ports"][0]["containerPort"], 8080);
    for probe in ["livenessProbe", "readinessProbe"] {
        assert_eq!(console_container[probe]["httpGet"]["path"], "/health");
        assert_eq!(console_container[probe]["httpGet"]["port"], 8080);
    }
    let console_service = find(&objects, "Service", "console");
    assert_eq!(console_service["spec"]["ports"][0]["port"], 80);
    assert_eq!(console_service["spec"]["ports"][0]["targetPort"], 8080);
    let console_policy = find(&objects, "NetworkPolicy", "allow-console-ingress");
    assert_eq!(
        console_policy["spec"]["ingress"][0]["ports"],
        serde_json::json!([{ "protocol": "TCP", "port": 8080 }])
    );

    let app = find(&objects, "Deployment", "dbos-app-v1");
    assert_eq!(
        app["spec"]["selector"]["matchLabels"],
        serde_json::json!({ "app.kubernetes.io/name": "dbos-app", "app.kubernetes.io/version": "v1" })
    );
    assert_eq!(
        container_env(app, "DBOS__APPVERSION").unwrap()["value"],
        "v1"
    );
    assert_eq!(
        container_env(app, "DBOS_CONDUCTOR_URL").unwrap()["value"],
        "ws://conductor.dbos-prod.svc.cluster.local:8090"
    );
    assert_eq!(
        container_env(app, "DBOS_SYSTEM_DATABASE_URL").unwrap()["valueFrom"]["secretKeyRef"]
            ["name"],
        "dbos-app-db"
    );
    assert_eq!(
        container_env(app, "DBOS_CONDUCTOR_KEY").unwrap()["valueFrom"]["secretKeyRef"]["name"],
        "conductor-api-key"
    );
    assert_eq!(
        app["spec"]["template"]["spec"]["containers"][0]["image"],
        "ghcr.io/acme/app:v1"
    );
    assert_eq!(annotation(app, "argocd.argoproj.io/sync-wave"), Some("2"));

    let service = find(&objects, "Service", "dbos-app");
    assert_eq!(
        service["spec"]["selector"]["app.kubernetes.io/version"],
        "v1"
    );
    assert_eq!(service["spec"]["ports"][0]["port"], 8080);

    let migrate = find(&objects, "Job", "dbos-migrate");
    assert_eq!(annotation(migrate, "argocd.argoproj.io/hook"), Some("Sync"));
    assert_eq!(
        annotation(migrate, "argocd.argoproj.io/hook-delete-policy"),
        Some("BeforeHookCreation")
    );
    assert_eq!(
        annotation(migrate, "argocd.argoproj.io/sync-wave"),
        Some("1")
    );
    let migrate_container = &migrate["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(migrate_container["image"], "ghcr.io/acme/app:v1");
    assert_eq!(
        migrate_container["command"],
        serde_json::json!([
            "dbos",
            "migrate",
            "--sys-db-url",
            "$(DBOS_SYSTEM_DATABASE_URL)",
            "--app-role",
            "dbos_app_role"
        ])
    );
    assert!(migrate_container.get("args").is_none());
    assert_eq!(
        migrate_container["env"][0]["valueFrom"]["secretKeyRef"],
        serde_json::json!({ "name": "postgres-admin", "key": "database-url" })
    );

    let ingress = find(&objects, "Ingress", "dbos");
    let hosts: Vec<&str> = ingress["spec"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|rule| rule["host"].as_str().unwrap())
        .collect();
    // Issue 10 item 5: without OAuth and with the app in-cluster, Conductor (which then
    // authenticates nothing) is not routed publicly; the Console reaches it in-cluster.
    assert_eq!(hosts, ["console.dbos.acme.com", "app.dbos.acme.com"]);
    assert_eq!(ingress["spec"]["tls"][0]["secretName"], "dbos-tls");
    assert_eq!(
        ingress["spec"]["tls"][0]["hosts"],
        serde_json::json!(["console.dbos.acme.com", "app.dbos.acme.com"])
    );
    assert_eq!(
        annotation(ingress, "nginx.ingress.kubernetes.io/proxy-read-timeout"),
        Some("3600")
    );
    assert_eq!(
        annotation(ingress, "nginx.ingress.kubernetes.io/proxy-send-timeout"),
        Some("3600")
    );
    assert!(annotation(ingress, "nginx.ingress.kubernetes.io/rewrite-target").is_none());

    assert_eq!(
        names_of_kind(&objects, "NetworkPolicy"),
        [
            "allow-conductor-ingress",
            "allow-console-ingress",
            "allow-dbos-app-ingress",
            "allow-dex-ingress",
            "default-deny-ingress"
        ]
    );
    let deny = find(&objects, "NetworkPolicy", "default-deny-ingress");
    assert_eq!(deny["spec"]["podSelector"], serde_json::json!({}));
    let conductor_policy = find(&objects, "NetworkPolicy", "allow-conductor-ingress");
    let sources = conductor_policy["spec"]["ingress"][0]["from"].to_string();
    assert!(
        sources.contains("ingress-nginx")
            && sources.contains("console")
            && sources.contains("dbos-app")
    );
    // Issue 10 item 8: nothing autoscaled, so no KEDA peer; the controller namespace default.
    let app_policy = find(&objects, "NetworkPolicy", "allow-dbos-app-ingress");
    assert_eq!(
        app_policy["spec"]["ingress"][0]["from"],
        serde_json::json!([{ "namespaceSelector": { "matchLabels": {
            "kubernetes.io/metadata.name": "ingress-nginx" } } }])
    );
    // Issue 10 item 2: one Conductor has no peer to admit.
    assert!(!names_of_kind(&objects, "NetworkPolicy").contains(&"allow-conductor-peers".into()));
    validate_schemas(&objects);
}

#[test]
fn path_routing_with_ha_conductor_and_several_versions() {
    if !require_tool("kubectl", &["version", "--client"]) {
        return;
    }
    let repo = TestRepo::with_env(
        "staging",
        &[
            "--domain",
            "staging.acme.com",
            "--routing",
            "path",
            "--oidc",
            "dex",
            "--namespace",
            "dbos",
            "--app-image",
            "ghcr.io/acme/app:v1",
        ],
    );
    let env = repo
        .read("environments/staging/env.yaml")
        .replace("replicas: 1\nconsole", "replicas: 3\nconsole");
    assert!(env.contains("replicas: 3"), "{env}");
    repo.write("environments/staging/env.yaml", &env);
    repo.write(
        "environments/staging/versions.yaml",
        "active: v2\nversions:\n- name: v1\n  image: ghcr.io/acme/app:v1\n- name: v2\n  image: ghcr.io/acme/app:v2\n- name: v3\n  image: ghcr.io/acme/app:v3\n",
    );
    repo.ok(&["build"]);
    let objects = repo.kustomize("staging");

    let conductor = find(&objects, "Deployment", "conductor");
    assert_eq!(conductor["spec"]["replicas"], 3);
    let advertise = container_env(conductor, "DBOS__ADVERTISE_ADDRESS").expect("advertise address");
    assert_eq!(
        advertise["valueFrom"]["fieldRef"]["fieldPath"],
        "status.podIP"
    );
    let anti_affinity = &conductor["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"];
    assert_eq!(
        anti_affinity["preferredDuringSchedulingIgnoredDuringExecution"][0]["podAffinityTerm"]
            ["topologyKey"],
        "kubernetes.io/hostname"
    );
    // Issue 10 item 2: instances forward to the owner at its advertised address on 8090.
    let peers = find(&objects, "NetworkPolicy", "allow-conductor-peers");
    assert_eq!(
        peers["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/name"],
        "conductor"
    );
    assert_eq!(
        peers["spec"]["ingress"][0],
        serde_json::json!({
            "from": [{ "podSelector": { "matchLabels": { "app.kubernetes.io/name": "conductor" } } }],
            "ports": [{ "protocol": "TCP", "port": 8090 }],
        })
    );
    // Issue 10 item 3: with path routing the Console's origin is the one host.
    let dex_config = find(&objects, "ConfigMap", "dex-config")["data"]["config.yaml"]
        .as_str()
        .unwrap()
        .to_string();
    let dex_config = &parse_yaml_stream(&dex_config)[0];
    assert_eq!(
        dex_config["web"]["allowedOrigins"],
        serde_json::json!(["https://staging.acme.com"])
    );
    let pdb = find(&objects, "PodDisruptionBudget", "conductor");
    assert_eq!(pdb["spec"]["minAvailable"], 1);
    assert_eq!(
        pdb["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"],
        "conductor"
    );

    assert_eq!(
        names_of_kind(&objects, "Deployment"),
        [
            "conductor",
            "console",
            "dbos-app-v1",
            "dbos-app-v2",
            "dbos-app-v3",
            "dex"
        ]
    );
    for version in ["v1", "v2", "v3"] {
        let app = find(&objects, "Deployment", &format!("dbos-app-{version}"));
        assert_eq!(
            container_env(app, "DBOS__APPVERSION").unwrap()["value"],
            version
        );
        assert_eq!(
            app["spec"]["selector"]["matchLabels"]["app.kubernetes.io/version"],
            version
        );
        assert_eq!(
            app["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/version"],
            version
        );
        assert_eq!(
            app["spec"]["template"]["spec"]["containers"][0]["image"],
            format!("ghcr.io/acme/app:{version}")
        );
        assert_eq!(
            app["spec"]["replicas"], 1,
            "old and new versions keep a replica"
        );
    }
    // The Service follows the active version; migrations use the newest image.
    assert_eq!(
        find(&objects, "Service", "dbos-app")["spec"]["selector"]["app.kubernetes.io/version"],
        "v2"
    );
    assert_eq!(
        find(&objects, "Job", "dbos-migrate")["spec"]["template"]["spec"]["containers"][0]["image"],
        "ghcr.io/acme/app:v3"
    );

    let ingress = find(&objects, "Ingress", "dbos");
    assert_eq!(
        annotation(ingress, "nginx.ingress.kubernetes.io/rewrite-target"),
        Some("/$2")
    );
    assert_eq!(
        annotation(ingress, "nginx.ingress.kubernetes.io/use-regex"),
        Some("true")
    );
    let rules = ingress["spec"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 1);
    assert_eq!(rules[0]["host"], "staging.acme.com");
    let paths: Vec<(&str, &str)> = rules[0]["http"]["paths"]
        .as_array()
        .unwrap()
        .iter()
        .map(|path| {
            (
                path["path"].as_str().unwrap(),
                path["backend"]["service"]["name"].as_str().unwrap(),
            )
        })
        .collect();
    // Issue 10 item 4: the current guide's prefix; `/conductor/...` are Console pages.
    assert_eq!(
        paths,
        [
            ("/conductor-api(/|$)(.*)", "conductor"),
            ("/app(/|$)(.*)", "dbos-app"),
            ("/()(dex/.*)", "dex"),
            ("/()(.*)", "console")
        ]
    );
    assert_eq!(
        ingress["spec"]["tls"][0]["hosts"],
        serde_json::json!(["staging.acme.com"])
    );
    for object in &objects {
        assert_eq!(object["metadata"]["namespace"], "dbos");
    }
    validate_schemas(&objects);
}

#[test]
fn argocd_objects_follow_the_sync_policy_and_validate() {
    let repo = TestRepo::prod();
    repo.ok(&[
        "init",
        "env",
        "staging",
        "--app-image",
        "ghcr.io/acme/app:v1",
        "--cluster",
        "https://staging.k8s.acme.com",
    ]);
    let application = &parse_yaml_stream(&repo.read("argocd/applications/prod.yaml"))[0];
    assert_eq!(application["kind"], "Application");
    assert_eq!(application["metadata"]["name"], "dbos-prod");
    assert_eq!(application["metadata"]["namespace"], "argocd");
    assert!(
        application["metadata"].get("finalizers").is_none(),
        "deleting an Application must not cascade"
    );
    let spec = &application["spec"];
    assert_eq!(spec["project"], "dbos");
    assert_eq!(spec["source"]["repoURL"], REPO_URL);
    assert_eq!(spec["source"]["path"], "environments/prod");
    assert_eq!(spec["destination"]["namespace"], "dbos-prod");
    assert_eq!(
        spec["syncPolicy"]["automated"],
        serde_json::json!({ "prune": true, "selfHeal": true })
    );
    let options: Vec<&str> = spec["syncPolicy"]["syncOptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|option| option.as_str().unwrap())
        .collect();
    for wanted in [
        "CreateNamespace=true",
        "ServerSideApply=true",
        "RespectIgnoreDifferences=true",
    ] {
        assert!(options.contains(&wanted), "{options:?}");
    }
    // #21.5: with PruneLast, gitops-engine puts every prune in a wave after the routing wave
    // (`syncPhaseLastWave + 1`), which waits for the Ingress's or Gateway's health.
    assert!(!options.contains(&"PruneLast=true"), "{options:?}");
    // #21.6: Argo CD 3.x Server-Side Diff.
    assert_eq!(
        application["metadata"]["annotations"]["argocd.argoproj.io/compare-options"],
        "ServerSideDiff=true"
    );
    assert!(spec["syncPolicy"]["retry"]["limit"].as_u64().unwrap() > 0);

    let root = &parse_yaml_stream(&repo.read("argocd/root.yaml"))[0];
    // The root prunes only what opted in (#24.7): every object it syncs says Prune=false
    // (`tests/cli/env_remove.rs` models what that deletes).
    assert_eq!(root["spec"]["syncPolicy"]["automated"]["prune"], true);
    assert_eq!(
        root["spec"]["syncPolicy"]["syncOptions"],
        serde_json::json!(["Prune=false"])
    );
    let project = &parse_yaml_stream(&repo.read("argocd/project.yaml"))[0];
    let destinations = project["spec"]["destinations"].as_array().unwrap();
    // Each environment's, and the Argo CD namespace the root Application syncs into (#24).
    assert_eq!(destinations.len(), 3);
    assert!(destinations
        .iter()
        .any(|destination| destination["server"] == "https://staging.k8s.acme.com"));
    let kinds: Vec<&str> = project["spec"]["namespaceResourceWhitelist"]
        .as_array()
        .unwrap()
        .iter()
        .map(|kind| kind["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"SealedSecret")
            && kinds.contains(&"Deployment")
            && !kinds.contains(&"Secret")
    );

    if require_tool("kubectl", &["version", "--client"]) {
        let objects = parse_yaml_stream(&repo.kustomize_text("argocd"));
        assert_eq!(
            names_of_kind(&objects, "Application"),
            ["dbos-gitops-root", "dbos-prod", "dbos-staging"]
        );
        validate_schemas(&objects);
        for object in &objects {
            assert_eq!(
                object["metadata"]["annotations"]["argocd.argoproj.io/sync-options"], "Prune=false",
                "{}",
                object["metadata"]["name"]
            );
        }
    }
}

/// Kubernetes reads YAML 1.1, where `on`, `yes`, `no`, `off`, `y`, `1:20` and `0755` are not
/// strings. Every such value we write must come back from kustomize as the same string.
#[test]
fn yaml_1_1_lookalikes_stay_strings_through_kustomize() {
    if !require_tool("kubectl", &["version", "--client"]) {
        return;
    }
    let repo = TestRepo::with_env(
        "on",
        &[
            "--namespace",
            "yes",
            "--version",
            "no",
            "--app-image",
            "ghcr.io/acme/app:v1",
            "--domain",
            "y.example.com",
        ],
    );
    let env = repo
        .read("environments/on/env.yaml")
        .replace("app-role: dbos_app_role", "app-role: \"0755\"");
    // A class must be a Kubernetes name since #21.9 (`1:20` is refused); `0x1f` is YAML 1.1 hex.
    let env = env.replace("class: nginx", "class: \"0x1f\"");
    repo.write("environments/on/env.yaml", &env);
    repo.write(
        "environments/on/versions.yaml",
        "active: \"no\"\nversions:\n- name: \"no\"\n  image: ghcr.io/acme/app:v1\n- name: \"off\"\n  image: ghcr.io/acme/app:v2\n",
    );
    repo.ok(&["build"]);
    let text = repo.kustomize_text("environments/on");
    // Parse as YAML 1.1 would: PyYAML implements 1.1 resolution.
    if !require_tool("python3", &["-c", "import yaml"]) {
        return;
    }
    let script = "import sys, json, yaml; print(json.dumps(list(yaml.safe_load_all(sys.stdin))))";
    let output = pipe(
        std::process::Command::new("python3").args(["-c", script]),
        text.as_bytes(),
    );
    let objects: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    for object in &objects {
        assert_eq!(object["metadata"]["namespace"], "yes");
    }
    assert_eq!(
        find(&objects, "Service", "dbos-app")["spec"]["selector"]["app.kubernetes.io/version"],
        "no"
    );
    let old = find(&objects, "Deployment", "dbos-app-off");
    assert_eq!(
        container_env(old, "DBOS__APPVERSION").unwrap()["value"],
        "off"
    );
    assert_eq!(
        old["metadata"]["labels"]["app.kubernetes.io/version"],
        "off"
    );
    let command = find(&objects, "Job", "dbos-migrate")["spec"]["template"]["spec"]["containers"]
        [0]["command"]
        .as_array()
        .unwrap();
    assert_eq!(command[command.len() - 2], "--app-role");
    assert_eq!(command[command.len() - 1], "0755");
    assert_eq!(
        find(&objects, "Ingress", "dbos")["spec"]["ingressClassName"],
        "0x1f"
    );
}

#[test]
fn an_env_without_an_app_renders_conductor_and_console_only() {
    if !require_tool("kubectl", &["version", "--client"]) {
        return;
    }
    let repo = TestRepo::with_env("prod", &["--domain", "dbos.acme.com"]);
    assert!(!repo.exists("environments/prod/versions.yaml"));
    let objects = repo.kustomize("prod");
    assert_eq!(
        names_of_kind(&objects, "Deployment"),
        ["conductor", "console"]
    );
    assert!(names_of_kind(&objects, "Job").is_empty());
    assert_eq!(names_of_kind(&objects, "Service"), ["conductor", "console"]);
    let ingress = find(&objects, "Ingress", "dbos");
    // The Console only: no app yet, and Conductor is not public without OAuth.
    assert_eq!(ingress["spec"]["rules"].as_array().unwrap().len(), 1);
}

/// DBOS hands workflows enqueued without a version only to its latest version: the postgresql
/// trigger counts them for the active version only while it is DBOS's latest.
#[test]
fn postgresql_trigger_counts_unversioned_work_only_for_the_newest_version() {
    let repo = TestRepo::prod();
    let env = repo.read("environments/prod/env.yaml").replace(
        "  # autoscaling:",
        "  autoscaling:\n    trigger: postgresql\n    queue: taskQueue\n    worker-concurrency: 2\n  # was autoscaling:",
    );
    repo.write("environments/prod/env.yaml", &env);
    let query = |active: &str| {
        repo.write(
            "environments/prod/versions.yaml",
            &format!("active: {active}\nversions:\n- name: v1\n  image: app:v1\n- name: v2\n  image: app:v2\n"),
        );
        repo.ok(&["build"]);
        let documents = parse_yaml_stream(&repo.read("environments/prod/autoscaling.yaml"));
        find(&documents, "ScaledObject", &format!("dbos-app-{active}"))["spec"]["triggers"][0]
            ["metadata"]["query"]
            .as_str()
            .unwrap()
            .to_string()
    };
    // Issue 20: whether the active version takes version-less rows is decided by the query
    // against `application_versions` when KEDA runs it (DBOS's latest can change by rollback);
    // the database test is crates/drain/tests/cutover.rs.
    for active in ["v2", "v1"] {
        let sql = query(active);
        assert!(
            sql.contains(&format!("\"application_version\" = '{active}'"))
                && sql.contains("\"application_version\" IS NULL")
                && sql.contains(&format!(
                    "ORDER BY \"version_timestamp\" DESC LIMIT 1) = '{active}'"
                )),
            "{sql}"
        );
    }
}
