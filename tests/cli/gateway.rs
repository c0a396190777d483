//! Gateway API routing (#21) and the replica handover (#20.5), on what `kubectl kustomize`
//! renders: upstream CRD validation, the request routing table computed by the Gateway API
//! matching rules (and by ingress-nginx's for the Ingress), the NetworkPolicy peers per
//! implementation, the sync-wave order under Argo CD's health rules, and the
//! `ignoreDifferences` of autoscaled versions.

use serde_json::Value;

use crate::support::*;

const DOMAIN: &str = "dbos.acme.com";

fn env_repo(flags: &[&str]) -> TestRepo {
    let mut all = vec!["--domain", DOMAIN, "--app-image", "ghcr.io/acme/app:v1"];
    all.extend_from_slice(flags);
    // Gateway API unless the flags choose (the suite's helper defaults to the Ingress).
    let chosen = |flag: &&str| flag.starts_with("--gateway") || flag.starts_with("--ingress-class");
    if !flags.iter().any(chosen) {
        all.extend_from_slice(&["--gateway-implementation", "envoy-gateway"]);
    }
    TestRepo::with_env("prod", &all)
}

fn objects_of_kind<'a>(objects: &'a [Value], kind: &str) -> Vec<&'a Value> {
    objects
        .iter()
        .filter(|object| object["kind"] == kind)
        .collect()
}

fn cert_manager(repo: &TestRepo) {
    edit_env(repo, "prod", |text| {
        text.replace(
            "  tls: self-signed\n  # cluster-issuer: letsencrypt-prod\n",
            "  tls: cert-manager\n  cluster-issuer: letsencrypt-prod\n",
        )
    });
    repo.ok(&["build"]);
}

#[test]
fn init_env_defaults_to_an_own_envoy_gateway() {
    if !require_tool("kubectl", &["version", "--client"]) {
        return;
    }
    // No class given: `eg` (the helper adds `--ingress-class` only without any routing flag).
    let repo = env_repo(&[]);
    let objects = repo.kustomize("prod");
    assert!(names_of_kind(&objects, "Ingress").is_empty());
    let gateway = find(&objects, "Gateway", "dbos");
    assert_eq!(gateway["spec"]["gatewayClassName"], "eg");
    assert!(repo
        .read("environments/prod/env.yaml")
        .contains("    class: eg\n"));
}

/// Every new object, in every variant, against the upstream CRDs (Gateway API v1.6.1, Envoy
/// Gateway v1.9.0) and the Kubernetes schemas, strictly.
#[test]
fn every_variant_validates_against_the_upstream_crds() {
    if !require_tool("kubectl", &["version", "--client"]) {
        return;
    }
    let variants: Vec<(&str, Vec<&str>, bool)> = vec![
        ("own host", vec!["--gateway-class", "eg"], false),
        ("own path", vec!["--routing", "path"], false),
        ("own cert-manager", vec![], true),
        ("own dex", vec!["--oidc", "dex"], false),
        (
            "shared listener set",
            vec!["--gateway", "infra/shared"],
            false,
        ),
        (
            "shared listener set path cert-manager",
            vec!["--gateway", "infra/shared", "--routing", "path"],
            true,
        ),
        (
            "shared section",
            vec!["--gateway", "infra/shared/https", "--oidc", "dex"],
            false,
        ),
        (
            "ngf own",
            vec!["--gateway-implementation", "nginx-gateway-fabric"],
            false,
        ),
    ];
    for (what, flags, with_cert_manager) in variants {
        let repo = env_repo(&flags);
        if with_cert_manager {
            cert_manager(&repo);
        }
        if what == "own dex" {
            // HA and an external Conductor on top.
            edit_env(&repo, "prod", |text| {
                text.replacen("  replicas: 1\n", "  replicas: 3\n", 1)
                    .replace("  conductor: in-cluster\n", "  conductor: external\n")
            });
            repo.ok(&["build"]);
        }
        let objects = repo.kustomize("prod");
        assert!(
            !objects_of_kind(&objects, "HTTPRoute").is_empty(),
            "{what}: no HTTPRoute"
        );
        validate_schemas(&objects);
    }
}

/// Where a request lands: (Service, port, path the backend sees).
type Landing = (String, u64, String);

/// Gateway API `PathPrefix` matching (element-wise: `/app` matches `/app` and `/app/...`, not
/// `/apps`), the longest matching prefix across the host's rules winning, then the
/// `ReplacePrefixMatch` rewrite (the matched prefix replaced; no double slash).
fn route_request(routes: &[&Value], host: &str, path: &str) -> Option<Landing> {
    let mut best: Option<(usize, &Value, String)> = None;
    for route in routes {
        let hosts = route["spec"]["hostnames"].as_array().unwrap();
        if !hosts.iter().any(|candidate| candidate == host) {
            continue;
        }
        for rule in route["spec"]["rules"].as_array().unwrap() {
            for matched in rule["matches"].as_array().unwrap() {
                assert_eq!(matched["path"]["type"], "PathPrefix");
                let prefix = matched["path"]["value"].as_str().unwrap();
                let trimmed = prefix.trim_end_matches('/');
                let element_wise = trimmed.is_empty()
                    || path == trimmed
                    || path.starts_with(&format!("{trimmed}/"));
                if element_wise
                    && best
                        .as_ref()
                        .is_none_or(|(length, _, _)| trimmed.len() > *length)
                {
                    best = Some((trimmed.len(), rule, trimmed.to_string()));
                }
            }
        }
    }
    let (_, rule, prefix) = best?;
    let mut seen = path.to_string();
    for filter in rule["filters"].as_array().into_iter().flatten() {
        if filter["type"] == "URLRewrite" {
            let rewrite = &filter["urlRewrite"]["path"];
            assert_eq!(rewrite["type"], "ReplacePrefixMatch");
            let replacement = rewrite["replacePrefixMatch"].as_str().unwrap();
            let rest = &path[prefix.len()..];
            seen = match (replacement.ends_with('/'), rest.starts_with('/')) {
                (true, true) => format!("{replacement}{}", &rest[1..]),
                (false, false) if !rest.is_empty() => format!("{replacement}/{rest}"),
                _ => format!("{replacement}{rest}"),
            };
            if seen.is_empty() {
                seen = "/".to_string();
            }
        }
    }
    let backend = &rule["backendRefs"][0];
    Some((
        backend["name"].as_str().unwrap().to_string(),
        backend["port"].as_u64().unwrap(),
        seen,
    ))
}

/// ingress-nginx's reading of our Ingresses: the Ingresses of one host merge into one server;
/// with `use-regex` on any of them every path of the host is a case-insensitive regex anchored
/// at the start (`location ~* "^<path>"`), tried longest path first, and `rewrite-target: /$2`
/// rewrites to `/` plus the second group; without it `Prefix` paths match element-wise. Also
/// returns the Ingress whose location served the request (its annotations apply there).
fn ingress_request<'a>(
    ingresses: &[&'a Value],
    host: &str,
    path: &str,
) -> Option<(Landing, &'a Value)> {
    let mut paths: Vec<(&Value, &Value)> = Vec::new();
    for ingress in ingresses {
        for rule in ingress["spec"]["rules"].as_array().unwrap() {
            if rule["host"] == host {
                for candidate in rule["http"]["paths"].as_array().unwrap() {
                    paths.push((candidate, ingress));
                }
            }
        }
    }
    let regex = paths.iter().any(|(_, ingress)| {
        ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/use-regex"] == "true"
    });
    paths
        .sort_by_key(|(candidate, _)| std::cmp::Reverse(candidate["path"].as_str().unwrap().len()));
    for (candidate, ingress) in paths {
        let pattern = candidate["path"].as_str().unwrap();
        let backend = &candidate["backend"]["service"];
        let landing = |seen: String| {
            (
                backend["name"].as_str().unwrap().to_string(),
                backend["port"]["number"].as_u64().unwrap(),
                seen,
            )
        };
        if regex {
            let compiled = regex::Regex::new(&format!("(?i)^{pattern}")).unwrap();
            if let Some(captures) = compiled.captures(path) {
                let second = captures.get(2).map_or("", |group| group.as_str());
                return Some((landing(format!("/{second}")), ingress));
            }
        } else {
            assert_eq!(candidate["pathType"], "Prefix");
            let trimmed = pattern.trim_end_matches('/');
            if trimmed.is_empty() || path == trimmed || path.starts_with(&format!("{trimmed}/")) {
                return Some((landing(path.to_string()), ingress));
            }
        }
    }
    None
}

fn expected_table(path_routing: bool) -> Vec<(String, &'static str, Landing)> {
    let land = |service: &str, port: u64, seen: &str| (service.to_string(), port, seen.to_string());
    if path_routing {
        let host = DOMAIN.to_string();
        vec![
            (host.clone(), "/", land("console", 80, "/")),
            (
                host.clone(),
                "/workflows/42",
                land("console", 80, "/workflows/42"),
            ),
            (
                host.clone(),
                "/conductor-api/websocket/shop/KEY",
                land("conductor", 8090, "/websocket/shop/KEY"),
            ),
            (
                host.clone(),
                "/conductor-api/v1/apps",
                land("conductor", 8090, "/v1/apps"),
            ),
            (host.clone(), "/conductor-api", land("conductor", 8090, "/")),
            (
                host.clone(),
                "/conductor-api/websocket",
                land("conductor", 8090, "/websocket"),
            ),
            // Element-wise: not the WebSocket's prefix, but Conductor's.
            (
                host.clone(),
                "/conductor-api/websocketx",
                land("conductor", 8090, "/websocketx"),
            ),
            // Element-wise: not Conductor's prefix.
            (
                host.clone(),
                "/conductor-apix",
                land("console", 80, "/conductor-apix"),
            ),
            (
                host.clone(),
                "/app/healthz",
                land("dbos-app", 8080, "/healthz"),
            ),
            (host.clone(), "/apps", land("console", 80, "/apps")),
            (
                host.clone(),
                "/dex/.well-known/openid-configuration",
                land("dex", 5556, "/dex/.well-known/openid-configuration"),
            ),
        ]
    } else {
        let on = |sub: &str| format!("{sub}.{DOMAIN}");
        vec![
            (on("console"), "/", land("console", 80, "/")),
            (on("console"), "/apps/x", land("console", 80, "/apps/x")),
            (
                on("conductor"),
                "/websocket/shop/KEY",
                land("conductor", 8090, "/websocket/shop/KEY"),
            ),
            (
                on("conductor"),
                "/v1/apps",
                land("conductor", 8090, "/v1/apps"),
            ),
            (
                on("conductor"),
                "/websocket",
                land("conductor", 8090, "/websocket"),
            ),
            (
                on("conductor"),
                "/websocketx",
                land("conductor", 8090, "/websocketx"),
            ),
            (on("app"), "/healthz", land("dbos-app", 8080, "/healthz")),
            (
                on("dex"),
                "/dex/.well-known/openid-configuration",
                land("dex", 5556, "/dex/.well-known/openid-configuration"),
            ),
        ]
    }
}

/// The request table, computed from the rendered HTTPRoutes by the specification's rules, for
/// both routing modes; the same table from the rendered Ingress (`--ingress-class nginx`).
#[test]
fn requests_land_on_the_same_backends_through_routes_and_ingress() {
    if !require_tool("kubectl", &["version", "--client"]) {
        return;
    }
    for path_routing in [false, true] {
        let routing = if path_routing { "path" } else { "host" };
        let gateway = env_repo(&[
            "--routing",
            routing,
            "--oidc",
            "dex",
            "--gateway-class",
            "eg",
        ])
        .kustomize("prod");
        let routes = objects_of_kind(&gateway, "HTTPRoute");
        let ingress_objects = env_repo(&[
            "--routing",
            routing,
            "--oidc",
            "dex",
            "--ingress-class",
            "nginx",
        ])
        .kustomize("prod");
        let ingresses = objects_of_kind(&ingress_objects, "Ingress");
        assert_eq!(
            names_of_kind(&ingress_objects, "Ingress"),
            ["dbos", "dbos-conductor-websocket"]
        );
        for (host, path, expected) in expected_table(path_routing) {
            assert_eq!(
                route_request(&routes, &host, path).as_ref(),
                Some(&expected),
                "HTTPRoute {routing}: {host}{path}"
            );
            let (landing, served_by) = ingress_request(&ingresses, &host, path).unwrap();
            assert_eq!(landing, expected, "Ingress {routing}: {host}{path}");
            // #21.7: exactly the WebSocket requests (the API key in the path) go unlogged;
            // ingress-nginx logs unless `enable-access-log` is "false".
            let websocket = expected.2 == "/websocket" || expected.2.starts_with("/websocket/");
            let logged = served_by["metadata"]["annotations"]
                ["nginx.ingress.kubernetes.io/enable-access-log"]
                != "false";
            assert_eq!(logged, !websocket, "Ingress {routing}: {host}{path} logged");
            // The connection that matters keeps the WebSocket timeouts.
            assert_eq!(
                served_by["metadata"]["annotations"]
                    ["nginx.ingress.kubernetes.io/proxy-read-timeout"],
                "3600"
            );
        }
        // One Certificate: only `dbos` asks cert-manager; both serve `dbos-tls`.
        for ingress in &ingresses {
            assert_eq!(ingress["spec"]["tls"][0]["secretName"], "dbos-tls");
        }
        validate_schemas(&ingress_objects);
        // The WebSocket rule carries no request timeout (Envoy Gateway's default is 15 s).
        let websocket = routes
            .iter()
            .flat_map(|route| route["spec"]["rules"].as_array().unwrap())
            .find(|rule| {
                rule["matches"][0]["path"]["value"]
                    .as_str()
                    .unwrap()
                    .ends_with("/websocket")
            })
            .unwrap();
        assert_eq!(websocket["timeouts"]["request"], "0s");
    }
}

/// (init flags, the peer's namespace, the peer's pod labels).
type PeerCase = (
    Vec<&'static str>,
    &'static str,
    Vec<(&'static str, &'static str)>,
);

fn peers(objects: &[Value], policy: &str) -> Vec<Value> {
    find(objects, "NetworkPolicy", policy)["spec"]["ingress"][0]["from"]
        .as_array()
        .unwrap()
        .clone()
}

fn selects(peer: &Value, namespace: &str, labels: &[(&str, &str)]) -> bool {
    peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] == namespace
        && labels
            .iter()
            .all(|(key, value)| peer["podSelector"]["matchLabels"][*key] == *value)
        && peer["podSelector"]["matchLabels"]
            .as_object()
            .is_some_and(|found| found.len() == labels.len())
}

/// The NetworkPolicies admit the proxy pods of the implementation that carries the traffic,
/// by namespace and pod labels, never a whole namespace; the ingress-nginx peer only while the
/// Ingress is rendered.
#[test]
fn network_policies_admit_the_gateway_data_plane() {
    if !require_tool("kubectl", &["version", "--client"]) {
        return;
    }
    let policies = [
        "allow-conductor-ingress",
        "allow-console-ingress",
        "allow-dbos-app-ingress",
    ];
    let cases: Vec<PeerCase> = vec![
        (
            vec!["--gateway-class", "eg"],
            "envoy-gateway-system",
            vec![
                ("gateway.envoyproxy.io/owning-gateway-name", "dbos"),
                (
                    "gateway.envoyproxy.io/owning-gateway-namespace",
                    "dbos-prod",
                ),
            ],
        ),
        (
            vec!["--gateway", "infra/edge"],
            "envoy-gateway-system",
            vec![
                ("gateway.envoyproxy.io/owning-gateway-name", "edge"),
                ("gateway.envoyproxy.io/owning-gateway-namespace", "infra"),
            ],
        ),
        (
            vec!["--gateway-implementation", "nginx-gateway-fabric"],
            "dbos-prod",
            vec![("gateway.networking.k8s.io/gateway-name", "dbos")],
        ),
        (
            vec![
                "--gateway",
                "infra/edge/https",
                "--gateway-implementation",
                "istio",
            ],
            "infra",
            vec![("gateway.networking.k8s.io/gateway-name", "edge")],
        ),
        (
            vec!["--gateway-implementation", "kgateway"],
            "dbos-prod",
            vec![("gateway.networking.k8s.io/gateway-name", "dbos")],
        ),
        (
            vec![
                "--gateway",
                "infra/edge",
                "--gateway-implementation",
                "other",
            ],
            "infra",
            vec![("gateway.networking.k8s.io/gateway-name", "edge")],
        ),
    ];
    for (flags, namespace, labels) in cases {
        let objects = env_repo(&flags).kustomize("prod");
        for policy in policies {
            let found = peers(&objects, policy);
            assert!(
                selects(&found[0], namespace, &labels),
                "{flags:?} {policy}: {found:?}"
            );
            assert!(
                !found
                    .iter()
                    .any(|peer| peer["namespaceSelector"]["matchLabels"]
                        ["kubernetes.io/metadata.name"]
                        == "ingress-nginx"),
                "{flags:?} {policy}: {found:?}"
            );
        }
        // KEDA is not admitted without autoscaling; the app admits the proxies only.
        assert_eq!(peers(&objects, "allow-dbos-app-ingress").len(), 1);
    }

    // Cilium: no Kubernetes-selectable identity; the peer selects no pod, so `from` is never
    // empty (which would admit every source).
    let objects = env_repo(&["--gateway-implementation", "cilium"]).kustomize("prod");
    let found = peers(&objects, "allow-console-ingress");
    assert_eq!(found.len(), 1);
    assert!(found[0].get("namespaceSelector").is_none());
    assert!(!found[0]["podSelector"]["matchLabels"]
        .as_object()
        .unwrap()
        .is_empty());

    // An override in env.yaml, and both peers while the Ingress is kept.
    let repo = env_repo(&[]);
    edit_env(&repo, "prod", |text| {
        text.replace(
            "    # keep-ingress: true",
            "    keep-ingress: true\n    data-plane:\n      namespace: edge-proxies\n      labels:\n        app: edge\n    #",
        )
    });
    repo.ok(&["build"]);
    let objects = repo.kustomize("prod");
    assert_eq!(names_of_kind(&objects, "Ingress"), ["dbos"]);
    for policy in policies {
        let found = peers(&objects, policy);
        assert!(
            selects(&found[0], "edge-proxies", &[("app", "edge")]),
            "{found:?}"
        );
        assert_eq!(
            found[1]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"],
            "ingress-nginx"
        );
    }
}

/// A sync task as gitops-engine sees it.
struct Task {
    what: String,
    wave: i64,
    hook: bool,
    prune: bool,
}

/// Argo CD's health of a freshly applied object on a cluster whose load balancer never fills
/// the status: an Ingress is Progressing until `status.loadBalancer.ingress` is set
/// (gitops-engine `pkg/health/health_ingress.go`); a Gateway, ListenerSet or HTTPRoute without
/// status is Progressing (argo-cd `resource_customizations/gateway.networking.k8s.io/*/
/// health.lua`, "Waiting for ... status"). Workloads and the hook are assumed to come up.
fn settles(kind: &str) -> bool {
    !matches!(kind, "Ingress" | "Gateway" | "ListenerSet" | "HTTPRoute")
}

fn tasks_of(objects: &[Value], pruned: &[Value]) -> Vec<(Task, String)> {
    let wave = |object: &Value| -> i64 {
        object["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"]
            .as_str()
            .unwrap_or("0")
            .parse()
            .unwrap()
    };
    let task = |object: &Value, prune: bool| {
        let kind = object["kind"].as_str().unwrap().to_string();
        (
            Task {
                what: format!("{kind}/{}", object["metadata"]["name"].as_str().unwrap()),
                wave: wave(object),
                hook: object["metadata"]["annotations"]["argocd.argoproj.io/hook"].is_string(),
                prune,
            },
            kind,
        )
    };
    objects
        .iter()
        .map(|object| task(object, false))
        .chain(pruned.iter().map(|object| task(object, true)))
        .collect()
}

/// gitops-engine's sync (`pkg/sync/sync_context.go`): prune tasks take the reverse order of
/// their waves (the symmetric swap), with `PruneLast` they move to the last sync wave + 1;
/// waves run in order, and a wave that is not the final one must be healthy before the next
/// starts, while the final wave ends the sync once applied ("successful EVEN if those objects
/// subsequently degraded"). Returns what ran before the sync stalled, and whether it ended.
fn simulate(mut tasks: Vec<(Task, String)>, prune_last: bool) -> (Vec<String>, bool) {
    let mut prune_waves: Vec<i64> = tasks
        .iter()
        .filter(|(t, _)| t.prune)
        .map(|(t, _)| t.wave)
        .collect();
    prune_waves.sort();
    prune_waves.dedup();
    let swap: std::collections::BTreeMap<i64, i64> = prune_waves
        .iter()
        .zip(prune_waves.iter().rev())
        .map(|(from, to)| (*from, *to))
        .collect();
    let last_sync = tasks
        .iter()
        .filter(|(t, _)| !t.prune)
        .map(|(t, _)| t.wave)
        .max()
        .unwrap_or(0);
    for (task, _) in tasks.iter_mut().filter(|(t, _)| t.prune) {
        task.wave = if prune_last {
            last_sync.max(0) + 1
        } else {
            swap[&task.wave]
        };
    }
    let mut waves: Vec<i64> = tasks.iter().map(|(t, _)| t.wave).collect();
    waves.sort();
    waves.dedup();
    let mut ran = Vec::new();
    for (index, wave) in waves.iter().enumerate() {
        let in_wave: Vec<&(Task, String)> = tasks.iter().filter(|(t, _)| t.wave == *wave).collect();
        ran.extend(in_wave.iter().map(|(t, _)| t.what.clone()));
        let final_wave = index + 1 == waves.len();
        let healthy = in_wave
            .iter()
            .all(|(t, kind)| t.prune || settles(kind) || (t.hook && settles(kind)));
        if !final_wave && !healthy {
            return (ran, false);
        }
    }
    (ran, true)
}

/// No object whose health depends on the cluster's load balancer or Gateway controller holds
/// back the migrate hook, the version Deployments, the Service switch or a prune, with either
/// routing API; with `PruneLast` (the old setting) the prune would wait behind them.
#[test]
fn no_routing_object_holds_back_the_sync() {
    if !require_tool("kubectl", &["version", "--client"]) {
        return;
    }
    for flags in [
        vec!["--ingress-class", "nginx"],
        // With Conductor routed: the WebSocket's own Ingress, NGF's policy.
        vec!["--ingress-class", "nginx", "--oidc", "dex"],
        vec!["--gateway-class", "eg"],
        vec!["--gateway", "infra/shared"],
        vec![
            "--gateway-implementation",
            "nginx-gateway-fabric",
            "--oidc",
            "dex",
        ],
    ] {
        let repo = env_repo(&flags);
        repo.add_version("v2", "prod");
        let before = repo.kustomize("prod");
        repo.ok(&["retire", "v1", "--env", "prod", "--no-drain-check"]);
        let after = repo.kustomize("prod");
        let pruned: Vec<Value> = before
            .iter()
            .filter(|object| {
                !after.iter().any(|kept| {
                    kept["kind"] == object["kind"]
                        && kept["metadata"]["name"] == object["metadata"]["name"]
                })
            })
            .cloned()
            .collect();
        assert!(!pruned.is_empty(), "{flags:?}: retire prunes nothing");
        let (ran, ended) = simulate(tasks_of(&after, &pruned), false);
        assert!(ended, "{flags:?}: the sync stalls: {ran:?}");
        for wanted in [
            "Job/dbos-migrate",
            "Deployment/dbos-app-v2",
            "Service/dbos-app",
            "Deployment/dbos-app-v1",
        ] {
            assert!(
                ran.iter().any(|what| what == wanted),
                "{flags:?}: {wanted} never ran: {ran:?}"
            );
        }
        // The routing objects are all in the last wave.
        let (_, last) = simulate(tasks_of(&after, &[]), false);
        assert!(last);
        let (ran, ended) = simulate(tasks_of(&after, &pruned), true);
        assert!(
            !ended && !ran.contains(&"Deployment/dbos-app-v1".to_string()),
            "{flags:?}: PruneLast control"
        );
    }
}

/// #20.5: after `version add v2` the old autoscaled version keeps its live replica count: every
/// listed version's `/spec/replicas` is ignored (Argo CD matches ignore rules by name,
/// `controller/sync.go` `normalizeTargetResources`, and with RespectIgnoreDifferences applies
/// the live value), until it is retired; the active one renders no `replicas` at all.
#[test]
fn autoscaled_versions_keep_their_replicas_through_the_handover() {
    if !require_tool("kubectl", &["version", "--client"]) {
        return;
    }
    let repo = env_repo(&["--ingress-class", "nginx"]);
    edit_env(&repo, "prod", |text| {
        text.replace("  # autoscaling:                # KEDA on the active version\n  #   trigger: metrics-api      # metrics-api | postgresql (allows min-replicas: 0)\n  #   queue: taskQueue\n  #   worker-concurrency: 2\n",
            "  autoscaling:\n    trigger: metrics-api\n    queue: taskQueue\n    worker-concurrency: 2\n")
    });
    repo.ok(&["build"]);
    let ignored = |repo: &TestRepo| -> Vec<String> {
        let application = &parse_yaml_stream(&repo.read("argocd/applications/prod.yaml"))[0];
        application["spec"]["ignoreDifferences"]
            .as_array()
            .unwrap()
            .iter()
            .inspect(|rule| assert_eq!(rule["jsonPointers"][0], "/spec/replicas"))
            .map(|rule| rule["name"].as_str().unwrap().to_string())
            .collect()
    };
    let replicas = |repo: &TestRepo, version: &str| -> Value {
        find(
            &repo.kustomize("prod"),
            "Deployment",
            &format!("dbos-app-{version}"),
        )["spec"]
            .get("replicas")
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert_eq!(ignored(&repo), ["dbos-app-v1"]);
    assert_eq!(replicas(&repo, "v1"), Value::Null);
    repo.add_version("v2", "prod");
    assert_eq!(ignored(&repo), ["dbos-app-v1", "dbos-app-v2"]);
    assert_eq!(replicas(&repo, "v2"), Value::Null);
    repo.add_version("v3", "prod");
    assert_eq!(
        ignored(&repo),
        ["dbos-app-v1", "dbos-app-v2", "dbos-app-v3"]
    );
    repo.ok(&["retire", "v1", "--env", "prod", "--no-drain-check"]);
    assert_eq!(ignored(&repo), ["dbos-app-v2", "dbos-app-v3"]);
    assert_eq!(replicas(&repo, "v3"), Value::Null);
}

/// `check` says what the rendered objects cannot: no idle-timeout policy for an implementation
/// other than Envoy Gateway and NGINX Gateway Fabric, no selectable Cilium proxy.
#[test]
fn check_warns_where_the_implementation_needs_configuring() {
    let codes = |flags: &[&str]| -> String {
        let repo = env_repo(flags);
        repo.run(&["check", "--no-render", "--format", "json"])
            .stdout
    };
    let envoy = codes(&["--gateway-class", "eg"]);
    assert!(!envoy.contains("\"gateway-idle-timeout\""), "{envoy}");
    // NGINX Gateway Fabric gets its ProxySettingsPolicy: nothing to configure.
    let ngf = codes(&["--gateway-implementation", "nginx-gateway-fabric"]);
    assert!(!ngf.contains("\"gateway-idle-timeout\""), "{ngf}");
    let other = codes(&["--gateway-implementation", "other"]);
    assert!(other.contains("\"gateway-idle-timeout\""), "{other}");
    assert!(!ngf.contains("\"gateway-network-peer\""), "{ngf}");
    let shared = codes(&["--gateway", "infra/edge/https"]);
    assert!(shared.contains("\"gateway-idle-timeout\""), "{shared}");
    let cilium = codes(&["--gateway-implementation", "cilium"]);
    assert!(cilium.contains("\"gateway-network-peer\""), "{cilium}");
}

/// #21.9: names follow the Kubernetes rules for what they name; an IP address is no domain.
#[test]
fn gateway_and_class_names_and_ip_domains_are_refused() {
    let repo = TestRepo::new();
    for flags in [
        vec!["--ingress-class", "ngi nx"],
        vec!["--gateway-class", "e\ng"],
        vec!["--gateway", "infra"],
        vec!["--gateway", "Infra/edge"],
        vec!["--domain", "10.0.0.1"],
    ] {
        let mut arguments = vec!["init", "env", "prod"];
        arguments.extend_from_slice(&flags);
        let run = repo.fails(&arguments, 2);
        assert!(!run.stderr.is_empty(), "{flags:?}");
        assert!(
            !repo.exists("environments/prod"),
            "{flags:?} wrote the environment"
        );
    }
    let repo = env_repo(&["--ingress-class", "nginx"]);
    for (from, to, field) in [
        ("  class: nginx\n", "  class: \"ngi nx\"\n", "ingress.class"),
        (
            "domain: dbos.acme.com\n",
            "domain: 10.0.0.1\n",
            "IP address",
        ),
    ] {
        let before = repo.read("environments/prod/env.yaml");
        repo.write("environments/prod/env.yaml", &before.replace(from, to));
        let run = repo.fails(&["build"], 2);
        assert!(run.stderr.contains(field), "{}", run.stderr);
        repo.write("environments/prod/env.yaml", &before);
    }
}

/// #21.8: with Dex and a self-signed certificate Conductor trusts the published CA as the app
/// pods do (it may fetch the issuer's discovery document through the proxy), and keeps the
/// JWKS variable; Dex runs the release we test.
#[test]
fn conductor_trusts_the_self_signed_issuer() {
    if !require_tool("kubectl", &["version", "--client"]) {
        return;
    }
    let repo = env_repo(&["--oidc", "dex"]);
    repo.ok(&["tls", "--env", "prod"]);
    let objects = repo.kustomize("prod");
    let conductor = find(&objects, "Deployment", "conductor");
    let pod = &conductor["spec"]["template"]["spec"];
    assert_eq!(pod["initContainers"][0]["name"], "setup-certs");
    let volume = pod["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|volume| volume["name"] == "tls-cert")
        .unwrap();
    assert_eq!(volume["configMap"]["name"], "dbos-ca");
    // The ConfigMap exists in the same render.
    find(&objects, "ConfigMap", "dbos-ca");
    assert_eq!(
        container_env(conductor, "SSL_CERT_FILE").unwrap()["value"],
        "/certs/ca-certificates.crt"
    );
    assert!(container_env(conductor, "DBOS_OAUTH_JWKS_URL").is_some());
    assert_eq!(
        find(&objects, "Deployment", "dex")["spec"]["template"]["spec"]["containers"][0]["image"],
        "dexidp/dex:v2.45.1"
    );
    validate_schemas(&objects);
}

/// Validates `objects` strictly against the shared CRDs plus the vendored ones of `fixtures`
/// (folders under tests/fixtures/), with tests/support/validate_manifests.py.
fn validate_with_vendored_crds(objects: &[Value], fixtures: &[&str]) {
    if !require_tool(
        "python3",
        &["-c", "import kubernetes_validate, jsonschema, yaml"],
    ) {
        return;
    }
    let Some(shared) = shared_schemas() else {
        return;
    };
    let crds = tempfile::tempdir().unwrap();
    let mut sources: Vec<std::path::PathBuf> = vec![shared];
    sources.extend(
        fixtures
            .iter()
            .map(|name| project_root().join("tests/fixtures").join(name)),
    );
    let mut copied = 0;
    while let Some(dir) = sources.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                sources.push(path);
            } else if path.extension().is_some_and(|ext| ext == "yaml") {
                copied += 1;
                std::fs::copy(&path, crds.path().join(format!("{copied}.yaml"))).unwrap();
            }
        }
    }
    let text = objects
        .iter()
        .map(|object| serde_json::to_string(object).unwrap())
        .collect::<Vec<_>>()
        .join("\n---\n");
    let output = pipe(
        std::process::Command::new("python3")
            .arg(project_root().join("tests/support/validate_manifests.py"))
            .arg("--crd-dir")
            .arg(crds.path())
            .arg("-"),
        text.as_bytes(),
    );
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{report}");
    assert_eq!(
        report
            .lines()
            .filter(|line| line.starts_with("ok "))
            .count(),
        objects.len(),
        "{report}"
    );
}

/// #21.2: with NGINX Gateway Fabric Conductor's HTTPRoute gets a ProxySettingsPolicy with
/// hour-long read and send timeouts (NGF writes them as nginx's proxy_read_timeout and
/// proxy_send_timeout, the timers of an upgraded connection), valid against NGF's CRD and its
/// targetRef rules, and admitted by the AppProject; none when Conductor is not routed.
#[test]
fn ngf_proxy_settings_policy_validates_and_targets_the_conductor_route() {
    if !require_tool("kubectl", &["version", "--client"]) {
        return;
    }
    let crd = parse_yaml_stream(
        &std::fs::read_to_string(
            project_root().join("tests/fixtures/ngf/gateway.nginx.org_proxysettingspolicies.yaml"),
        )
        .unwrap(),
    );
    let rules: Vec<String> = crd[0]["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
        ["properties"]["spec"]["properties"]["targetRefs"]["x-kubernetes-validations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|rule| rule["rule"].as_str().unwrap().to_string())
        .collect();
    for flags in [
        vec![
            "--gateway-implementation",
            "nginx-gateway-fabric",
            "--oidc",
            "dex",
        ],
        vec![
            "--gateway-implementation",
            "nginx-gateway-fabric",
            "--oidc",
            "dex",
            "--routing",
            "path",
        ],
        vec![
            "--gateway",
            "infra/edge",
            "--gateway-implementation",
            "nginx-gateway-fabric",
            "--oidc",
            "dex",
        ],
    ] {
        let repo = env_repo(&flags);
        let objects = repo.kustomize("prod");
        let policy = find(&objects, "ProxySettingsPolicy", "dbos-conductor");
        assert_eq!(policy["apiVersion"], "gateway.nginx.org/v1alpha1");
        assert_eq!(
            policy["spec"]["timeout"],
            serde_json::json!({ "read": "3600s", "send": "3600s" })
        );
        // The CRD's CEL rules (not checked by the JSON-schema validator): same-namespace
        // Gateway/HTTPRoute/GRPCRoute targets of the Gateway API group, no duplicates.
        for rule in [
            "t.kind == 'Gateway' || t.kind == 'HTTPRoute' || t.kind == 'GRPCRoute'",
            "t.group == 'gateway.networking.k8s.io'",
        ] {
            assert!(
                rules.iter().any(|found| found.contains(rule)),
                "the vendored CRD no longer says {rule}: {rules:?}"
            );
        }
        let targets = policy["spec"]["targetRefs"].as_array().unwrap();
        assert_eq!(targets.len(), 1);
        assert_eq!(targets[0]["group"], "gateway.networking.k8s.io");
        assert_eq!(targets[0]["kind"], "HTTPRoute");
        assert!(targets[0].get("namespace").is_none());
        // The target is the route that carries Conductor's WebSocket, in our namespace.
        let route = find(&objects, "HTTPRoute", targets[0]["name"].as_str().unwrap());
        let routes = [route];
        let (host, path) = if flags.contains(&"path") {
            (DOMAIN.to_string(), "/conductor-api/websocket/shop/KEY")
        } else {
            (format!("conductor.{DOMAIN}"), "/websocket/shop/KEY")
        };
        assert_eq!(
            route_request(&routes, &host, path).map(|landing| landing.0),
            Some("conductor".to_string()),
            "{flags:?}"
        );
        let project = &parse_yaml_stream(&repo.read("argocd/project.yaml"))[0];
        assert!(
            project["spec"]["namespaceResourceWhitelist"]
                .as_array()
                .unwrap()
                .iter()
                .any(|kind| kind["group"] == "gateway.nginx.org"
                    && kind["kind"] == "ProxySettingsPolicy"),
            "{project}"
        );
        let policies: Vec<Value> = objects
            .iter()
            .filter(|object| {
                object["apiVersion"]
                    .as_str()
                    .is_some_and(|api| api.starts_with("gateway."))
            })
            .cloned()
            .collect();
        validate_with_vendored_crds(&policies, &["ngf"]);
    }
    // Conductor not routed (no OAuth, apps in-cluster): no policy, and none admitted.
    let repo = env_repo(&["--gateway-implementation", "nginx-gateway-fabric"]);
    assert!(names_of_kind(&repo.kustomize("prod"), "ProxySettingsPolicy").is_empty());
    assert!(!repo
        .read("argocd/project.yaml")
        .contains("ProxySettingsPolicy"));
}

/// The README's EnvoyProxy access-log block (#21.7): valid against Envoy Gateway v1.9.0's
/// EnvoyProxy CRD (`spec.telemetry.accessLog`), and its CEL match, `!request.path.contains(X)`,
/// is false exactly for the requests the routes send to Conductor's WebSocket, before and
/// after the `/conductor-api` rewrite.
#[test]
fn the_readme_envoy_proxy_access_log_setting_validates() {
    let readme = std::fs::read_to_string(project_root().join("README.md")).unwrap();
    let block = readme
        .split("```yaml\n")
        .skip(1)
        .map(|rest| rest.split("```").next().unwrap())
        .find(|block| block.contains("kind: EnvoyProxy"))
        .expect("README has the EnvoyProxy block");
    let dedented: String = block
        .lines()
        .map(|line| line.strip_prefix("  ").unwrap_or(line))
        .collect::<Vec<_>>()
        .join("\n");
    let proxy = &parse_yaml_stream(&dedented)[0];
    let settings = proxy["spec"]["telemetry"]["accessLog"]["settings"]
        .as_array()
        .unwrap();
    let pattern = regex::Regex::new(r"^!request\.path\.contains\('([^']+)'\)$").unwrap();
    for setting in settings {
        let matches = setting["matches"].as_array().unwrap();
        assert_eq!(matches.len(), 1);
        let needle = pattern
            .captures(matches[0].as_str().unwrap())
            .expect("the documented CEL form")
            .get(1)
            .unwrap()
            .as_str()
            .to_string();
        let logged = |path: &str| !path.contains(&needle);
        for path_routing in [false, true] {
            for (_, path, (service, _, seen)) in expected_table(path_routing) {
                let websocket = service == "conductor" && seen.starts_with("/websocket/");
                assert_eq!(logged(path), !websocket, "{path}");
                assert_eq!(logged(&seen), !websocket, "{seen}");
            }
        }
    }
    if require_tool("python3", &["-c", "import jsonschema"]) {
        validate_with_vendored_crds(std::slice::from_ref(proxy), &["envoy-gateway"]);
    }
}

/// #21.7 for Gateway API: no object of ours keeps the key out of the proxy's log, so `check`
/// says what to set when apps dial Conductor through a Gateway other than Envoy Gateway's
/// (README gives its setting); not with the Ingress (its WebSocket Ingress does it), not for
/// in-cluster apps. NGF's timeouts are rendered: no
/// idle-timeout warning.
#[test]
fn check_warns_where_the_gateway_logs_the_api_key() {
    let findings = |flags: &[&str], external: bool| -> String {
        let repo = env_repo(flags);
        if external {
            edit_env(&repo, "prod", |text| {
                text.replace("  conductor: in-cluster\n", "  conductor: external\n")
            });
            repo.ok(&["build"]);
        }
        repo.run(&["check", "--no-render", "--format", "json"])
            .stdout
    };
    // Envoy Gateway's EnvoyProxy setting is README's (validated above): no warning.
    let envoy = findings(&["--oidc", "dex"], true);
    assert!(!envoy.contains("\"gateway-access-log\""), "{envoy}");
    let istio = findings(
        &["--oidc", "dex", "--gateway-implementation", "istio"],
        true,
    );
    assert!(istio.contains("\"gateway-access-log\""), "{istio}");
    assert!(istio.contains("Telemetry"), "{istio}");
    let ngf = findings(
        &[
            "--oidc",
            "dex",
            "--gateway-implementation",
            "nginx-gateway-fabric",
        ],
        true,
    );
    assert!(ngf.contains("\"gateway-access-log\""), "{ngf}");
    assert!(ngf.contains("spec.logging.accessLog.disable"), "{ngf}");
    assert!(!ngf.contains("\"gateway-idle-timeout\""), "{ngf}");
    let in_cluster = findings(&["--oidc", "dex"], false);
    assert!(
        !in_cluster.contains("\"gateway-access-log\""),
        "{in_cluster}"
    );
    let ingress = findings(&["--oidc", "dex", "--ingress-class", "nginx"], true);
    assert!(!ingress.contains("\"gateway-access-log\""), "{ingress}");
}

/// #21.7 with cert-manager: only `dbos` asks for the certificate (a second Ingress naming
/// `dbos-tls` with the annotation would make ingress-shim claim the same Certificate twice);
/// both serve the Secret; both validate.
#[test]
fn the_websocket_ingress_leaves_the_certificate_to_dbos() {
    if !require_tool("kubectl", &["version", "--client"]) {
        return;
    }
    let repo = env_repo(&[
        "--ingress-class",
        "nginx",
        "--oidc",
        "dex",
        "--routing",
        "path",
    ]);
    cert_manager(&repo);
    let objects = repo.kustomize("prod");
    let annotated: Vec<&str> = objects_of_kind(&objects, "Ingress")
        .into_iter()
        .filter(|ingress| {
            ingress["metadata"]["annotations"]["cert-manager.io/cluster-issuer"].is_string()
        })
        .map(|ingress| ingress["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(annotated, ["dbos"]);
    let websocket = find(&objects, "Ingress", "dbos-conductor-websocket");
    assert_eq!(websocket["spec"]["tls"][0]["secretName"], "dbos-tls");
    assert_eq!(
        websocket["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"],
        "5"
    );
    validate_schemas(&objects);
}

/// #21.8: `dex.image` in env.yaml replaces the base's Dex (the rendered Deployment runs it),
/// and `check` warns `dex-image-older` on a release older than the one we test, not on that
/// release, a newer one, or a tag that names no release.
#[test]
fn check_warns_on_a_dex_older_than_the_tested_release() {
    if !require_tool("kubectl", &["version", "--client"]) {
        return;
    }
    let base =
        std::fs::read_to_string(project_root().join("base/components/dex/dex.yaml")).unwrap();
    let tested = base
        .lines()
        .find_map(|line| line.trim().strip_prefix("image: "))
        .unwrap()
        .to_string();
    assert_eq!(tested, "dexidp/dex:v2.45.1");
    let repo = env_repo(&["--oidc", "dex"]);
    let original = repo.read("environments/prod/env.yaml");
    for (image, older) in [
        ("dexidp/dex:v2.41.1", true),
        ("dexidp/dex:v2.9.9-distroless", true),
        ("dexidp/dex:v2.45.1", false),
        ("dexidp/dex:v2.100.0", false),
        ("registry.acme.com/dex:hardened-1", false),
    ] {
        repo.write(
            "environments/prod/env.yaml",
            &format!("{original}dex:\n  image: {image}\n"),
        );
        repo.ok(&["build"]);
        let deployment = find(&repo.kustomize("prod"), "Deployment", "dex").clone();
        assert_eq!(
            deployment["spec"]["template"]["spec"]["containers"][0]["image"],
            image
        );
        let report = repo
            .run(&["check", "--no-render", "--format", "json"])
            .stdout;
        assert_eq!(
            report.contains("\"dex-image-older\""),
            older,
            "{image}: {report}"
        );
        if older {
            assert!(report.contains("v2.45.1"), "{report}");
        }
    }
    // `latest` is unpinned, not older; a reference that is no image is refused at build.
    repo.write(
        "environments/prod/env.yaml",
        &format!("{original}dex:\n  image: dexidp/dex:latest\n"),
    );
    repo.ok(&["build"]);
    let report = repo
        .run(&["check", "--no-render", "--format", "json"])
        .stdout;
    assert!(report.contains("\"unpinned-image\""), "{report}");
    assert!(report.contains("dex.image"), "{report}");
    assert!(!report.contains("\"dex-image-older\""), "{report}");
    repo.write(
        "environments/prod/env.yaml",
        &format!("{original}dex:\n  image: \"dex dex\"\n"),
    );
    let run = repo.fails(&["build"], 2);
    assert!(run.stderr.contains("dex.image"), "{}", run.stderr);
    // `dex:` without `oidc: dex` would be read by nothing: refused.
    repo.write(
        "environments/prod/env.yaml",
        &format!(
            "{}dex:\n  image: dexidp/dex:v2.45.1\n",
            original.replace("oidc: dex", "oidc: none")
        ),
    );
    let run = repo.fails(&["build"], 2);
    assert!(run.stderr.contains("oidc"), "{}", run.stderr);
    // Without the override: the tested release, no finding.
    repo.write("environments/prod/env.yaml", &original);
    repo.ok(&["build"]);
    let report = repo
        .run(&["check", "--no-render", "--format", "json"])
        .stdout;
    assert!(!report.contains("\"dex-image-older\""), "{report}");
}
