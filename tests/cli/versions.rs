//! `version add|list|activate` (issue #5): each version its own Deployment, the Service and the
//! autoscaler on the active one, old versions kept at one replica, and every refusal leaving the
//! tree byte-identical.

use serde_json::Value;

use crate::support::*;

fn annotation<'a>(object: &'a Value, key: &str) -> Option<&'a str> {
    object["metadata"]["annotations"][key].as_str()
}

/// An env `prod` with v1 and the given `app.autoscaling` block (YAML, indented by four).
fn repo_with_autoscaling(autoscaling: &str) -> TestRepo {
    let repo = TestRepo::prod();
    if !autoscaling.is_empty() {
        let env = repo.read("environments/prod/env.yaml");
        let env = env.replace(
            "  # autoscaling:                # KEDA on the active version\n",
            &format!("  autoscaling:\n{autoscaling}"),
        );
        assert!(env.contains("  autoscaling:\n    "), "{env}");
        repo.write("environments/prod/env.yaml", &env);
        repo.ok(&["build"]);
    }
    repo
}

fn wave(object: &Value) -> i64 {
    annotation(object, "argocd.argoproj.io/sync-wave")
        .unwrap_or("0")
        .parse()
        .unwrap()
}

#[test]
fn issue_5_version_add_makes_a_deployment_and_moves_the_service_and_autoscaler() {
    let repo = repo_with_autoscaling("    queue: taskQueue\n    worker-concurrency: 4\n");
    let stdout = repo.add_version("v2", "prod");
    assert!(
        stdout.starts_with(
            "added version `v2` to `prod`: the Service and the autoscaler now point at it; `v1` keeps running"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("created environments/prod/versions/v2/deployment.yaml"),
        "{stdout}"
    );
    assert!(
        stdout.contains("dbos-gitops retire v1 --env prod"),
        "{stdout}"
    );
    assert_eq!(
        repo.read("environments/prod/versions.yaml"),
        "# yaml-language-server: $schema=../../.dbos-gitops/schema/versions.json\n\
         # Application versions of this environment, one Deployment each. Maintained by\n\
         # `dbos-gitops version add|activate` and `dbos-gitops retire`.\n\
         active: v2\nversions:\n- name: v1\n  image: ghcr.io/acme/app:v1\n- name: v2\n  image: ghcr.io/acme/app:v2\n"
    );
    assert_eq!(
        repo.run(&["build", "--check"]).code,
        0,
        "add left stale files"
    );

    let list = repo.ok(&["version", "list", "--env", "prod"]);
    assert_eq!(
        list,
        "VERSION  IMAGE                ACTIVE  AUTOSCALED\n\
         v1       ghcr.io/acme/app:v1  no      no\n\
         v2       ghcr.io/acme/app:v2  yes     yes\n"
    );
    // --env may be left out: the repository has one environment.
    let json: Value = serde_json::from_str(&repo.ok(&["version", "list", "--format", "json"]))
        .expect("version list --format json is JSON");
    assert_eq!(json["env"], "prod");
    assert_eq!(json["active"], "v2");
    assert_eq!(json["newest"], "v2");
    assert_eq!(
        json["versions"][0],
        serde_json::json!({ "name": "v1", "image": "ghcr.io/acme/app:v1", "active": false,
            "newest": false, "autoscaled": false, "replicas": 1, "deployment": "dbos-app-v1" })
    );
    assert_eq!(json["versions"][1]["autoscaled"], true);
    assert_eq!(json["versions"][1]["replicas"], Value::Null);

    let application = &parse_yaml_stream(&repo.read("argocd/applications/prod.yaml"))[0];
    assert_eq!(
        application["spec"]["ignoreDifferences"],
        // #20.5: v1 keeps the live count it had under KEDA until it is retired.
        serde_json::json!([
            { "group": "apps", "kind": "Deployment", "name": "dbos-app-v1",
              "jsonPointers": ["/spec/replicas"] },
            { "group": "apps", "kind": "Deployment", "name": "dbos-app-v2",
              "jsonPointers": ["/spec/replicas"] },
        ])
    );

    if !require_tool("kubectl", &["version", "--client"]) {
        return;
    }
    let objects = repo.kustomize("prod");
    assert_eq!(
        names_of_kind(&objects, "Deployment"),
        ["conductor", "console", "dbos-app-v1", "dbos-app-v2"]
    );
    let v1 = find(&objects, "Deployment", "dbos-app-v1");
    let v2 = find(&objects, "Deployment", "dbos-app-v2");
    assert_eq!(
        v1["spec"]["replicas"], 1,
        "an old version keeps a replica to recover its workflows"
    );
    assert!(
        v2["spec"].get("replicas").is_none(),
        "KEDA owns the active version's replicas: {v2}"
    );
    for (deployment, version) in [(v1, "v1"), (v2, "v2")] {
        assert_eq!(
            container_env(deployment, "DBOS__APPVERSION").unwrap()["value"],
            version
        );
        assert_eq!(
            deployment["spec"]["selector"]["matchLabels"],
            serde_json::json!({ "app.kubernetes.io/name": "dbos-app", "app.kubernetes.io/version": version })
        );
        assert_eq!(
            deployment["spec"]["template"]["spec"]["containers"][0]["image"],
            format!("ghcr.io/acme/app:{version}")
        );
    }
    assert_eq!(
        find(&objects, "Service", "dbos-app")["spec"]["selector"],
        serde_json::json!({ "app.kubernetes.io/name": "dbos-app", "app.kubernetes.io/version": "v2" })
    );
    assert_eq!(
        find(&objects, "Job", "dbos-migrate")["spec"]["template"]["spec"]["containers"][0]["image"],
        "ghcr.io/acme/app:v2"
    );
    // One autoscaler, on the active version, with the guide's metrics-api trigger.
    assert_eq!(names_of_kind(&objects, "ScaledObject"), ["dbos-app-v2"]);
    let scaled = find(&objects, "ScaledObject", "dbos-app-v2");
    assert_eq!(scaled["spec"]["scaleTargetRef"]["name"], "dbos-app-v2");
    assert_eq!(scaled["spec"]["minReplicaCount"], 1);
    let trigger = &scaled["spec"]["triggers"][0];
    assert_eq!(trigger["type"], "metrics-api");
    assert_eq!(
        trigger["metadata"],
        serde_json::json!({
            "url": "http://dbos-app.dbos-prod.svc.cluster.local:8080/metrics/taskQueue",
            "valueLocation": "queue_length",
            "targetValue": "4",
        })
    );
    assert!(names_of_kind(&objects, "TriggerAuthentication").is_empty());
    // Sync order: migrate hook, then the Deployments, then the autoscaler.
    let job = find(&objects, "Job", "dbos-migrate");
    assert!(wave(job) < wave(v2) && wave(v1) == wave(v2) && wave(v2) < wave(scaled));
    validate_schemas(&objects);
}

#[test]
fn issue_5_postgresql_trigger_reads_a_sealed_secret_and_allows_scale_to_zero() {
    let repo = repo_with_autoscaling(
        "    trigger: postgresql\n    queue: orders\n    worker-concurrency: 3\n    max-replicas: 7\n",
    );
    repo.ok(&["version", "add", "v2", "--image", "ghcr.io/acme/app:v2"]);
    if !require_tool("kubectl", &["version", "--client"]) {
        return;
    }
    let objects = repo.kustomize("prod");
    let scaled = find(&objects, "ScaledObject", "dbos-app-v2");
    assert_eq!(scaled["spec"]["minReplicaCount"], 0);
    assert_eq!(scaled["spec"]["maxReplicaCount"], 7);
    let trigger = &scaled["spec"]["triggers"][0];
    assert_eq!(trigger["type"], "postgresql");
    assert_eq!(trigger["authenticationRef"]["name"], "dbos-app-keda");
    for (key, value) in trigger["metadata"].as_object().unwrap() {
        assert!(
            value.is_string(),
            "trigger metadata `{key}` is not a string"
        );
    }
    assert_eq!(trigger["metadata"]["targetQueryValue"], "3");
    let query = trigger["metadata"]["query"].as_str().unwrap();
    assert!(
        query.contains("'orders'")
            && query.contains("'ENQUEUED'")
            && query.contains("'v2'")
            && query.contains("IS NULL")
            && !query.contains("'v1'"),
        "{query}"
    );
    let authentication = find(&objects, "TriggerAuthentication", "dbos-app-keda");
    assert_eq!(
        authentication["spec"]["secretTargetRef"],
        serde_json::json!([ { "parameter": "connection", "name": "dbos-app-db", "key": "database-url" } ])
    );
    // Credentials exist before anything uses them; the autoscaler comes last.
    let v2 = find(&objects, "Deployment", "dbos-app-v2");
    assert!(wave(authentication) < wave(find(&objects, "Job", "dbos-migrate")));
    assert!(wave(authentication) < wave(v2) && wave(v2) < wave(scaled));
    assert!(v2["spec"].get("replicas").is_none());
    assert_eq!(
        find(&objects, "Deployment", "dbos-app-v1")["spec"]["replicas"],
        1
    );
    validate_schemas(&objects);
}

#[test]
fn issue_5_no_activate_leaves_traffic_and_activate_moves_it_back_and_forth() {
    let repo = repo_with_autoscaling("    queue: taskQueue\n    worker-concurrency: 2\n");
    repo.ok(&["version", "add", "v2", "--image", "ghcr.io/acme/app:v2"]);
    let stdout = repo.ok(&[
        "version",
        "add",
        "v3",
        "--image",
        "ghcr.io/acme/app:v3",
        "--no-activate",
    ]);
    assert!(
        stdout.contains("without activating it: the Service and the autoscaler stay on `v2`"),
        "{stdout}"
    );
    assert!(
        stdout.contains("next: dbos-gitops version activate v3 --env prod"),
        "{stdout}"
    );
    let list = repo.ok(&["version", "list"]);
    assert!(
        list.contains("v2       ghcr.io/acme/app:v2  yes     yes\n")
            && list.contains("v3       ghcr.io/acme/app:v3  no      no\n"),
        "{list}"
    );

    let check_render = |active: &str, others: &[&str]| {
        if !require_tool("kubectl", &["version", "--client"]) {
            return;
        }
        let objects = repo.kustomize("prod");
        assert_eq!(
            find(&objects, "Service", "dbos-app")["spec"]["selector"]["app.kubernetes.io/version"],
            active
        );
        assert_eq!(
            names_of_kind(&objects, "ScaledObject"),
            [format!("dbos-app-{active}")]
        );
        assert!(
            find(&objects, "Deployment", &format!("dbos-app-{active}"))["spec"]
                .get("replicas")
                .is_none()
        );
        for other in others {
            assert_eq!(
                find(&objects, "Deployment", &format!("dbos-app-{other}"))["spec"]["replicas"],
                1
            );
        }
        // The newest version's image runs the migrations, whichever is active.
        assert_eq!(
            find(&objects, "Job", "dbos-migrate")["spec"]["template"]["spec"]["containers"][0]
                ["image"],
            "ghcr.io/acme/app:v3"
        );
    };
    check_render("v2", &["v1", "v3"]);

    let stdout = repo.ok(&["version", "activate", "v3", "--env", "prod"]);
    assert!(
        stdout.starts_with("activated `v3` in `prod`: the Service and the autoscaler now point at it; `v2` keeps running"),
        "{stdout}"
    );
    check_render("v3", &["v1", "v2"]);
    // A rollback is an activate of an older version; without a database it moves traffic only
    // when told to (tests/cli/rollback.rs has the database side).
    repo.ok(&["version", "activate", "v1", "--traffic-only"]);
    check_render("v1", &["v2", "v3"]);
    assert_eq!(repo.run(&["build", "--check"]).code, 0);

    let before = repo.snapshot();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let again = repo.ok(&["version", "activate", "v1"]);
    assert!(again.contains("already the active version"), "{again}");
    assert_eq!(repo.snapshot(), before, "a no-op activate touched files");
}

#[test]
fn issue_5_the_first_version_of_an_env_without_an_app_brings_the_service() {
    let repo = TestRepo::with_env("prod", &["--domain", "dbos.acme.com"]);
    let list = repo.ok(&["version", "list"]);
    assert!(
        list.contains("no application versions in `prod` yet"),
        "{list}"
    );
    let json: Value =
        serde_json::from_str(&repo.ok(&["version", "list", "--format", "json"])).unwrap();
    assert_eq!(json["active"], Value::Null);
    assert_eq!(json["versions"], serde_json::json!([]));

    let before = repo.snapshot();
    let refused = repo.fails(
        &[
            "version",
            "add",
            "v1",
            "--image",
            "ghcr.io/acme/app:v1",
            "--no-activate",
        ],
        2,
    );
    assert!(
        refused.stderr.contains("without an active version"),
        "{}",
        refused.stderr
    );
    assert_eq!(repo.snapshot(), before);

    let stdout = repo.ok(&["version", "add", "v1", "--image", "ghcr.io/acme/app:v1"]);
    assert!(
        stdout.starts_with("added version `v1` to `prod` (active)"),
        "{stdout}"
    );
    assert_eq!(repo.run(&["build", "--check"]).code, 0);
    if require_tool("kubectl", &["version", "--client"]) {
        let objects = repo.kustomize("prod");
        assert_eq!(
            find(&objects, "Service", "dbos-app")["spec"]["selector"]["app.kubernetes.io/version"],
            "v1"
        );
        assert_eq!(
            find(&objects, "Job", "dbos-migrate")["spec"]["template"]["spec"]["containers"][0]
                ["image"],
            "ghcr.io/acme/app:v1"
        );
        validate_schemas(&objects);
    }
}

#[test]
fn issue_5_bad_version_requests_are_refused_and_leave_the_tree_byte_identical() {
    let repo = TestRepo::with_env("prod", &["--app-image", "ghcr.io/acme/app:v1"]);
    repo.ok(&["version", "add", "v2", "--image", "ghcr.io/acme/app:v2"]);
    let before = repo.snapshot();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let cases: &[(&[&str], i32, &str)] = &[
        (
            &[
                "version",
                "add",
                "v2",
                "--env",
                "prod",
                "--image",
                "ghcr.io/acme/app:v9",
            ],
            1,
            "version `v2` already exists in `prod`",
        ),
        (
            &["version", "add", "V3", "--image", "ghcr.io/acme/app:v3"],
            2,
            "version name `V3` is not a DNS-1123 label",
        ),
        (
            &["version", "add", "v_3", "--image", "ghcr.io/acme/app:v3"],
            2,
            "`v_3`",
        ),
        (
            &["version", "add", "v3-", "--image", "ghcr.io/acme/app:v3"],
            2,
            "`v3-`",
        ),
        (
            &["version", "add", "1.2.3", "--image", "ghcr.io/acme/app:v3"],
            2,
            "`1.2.3`",
        ),
        (
            &[
                "version",
                "add",
                &"v".repeat(55),
                "--image",
                "ghcr.io/acme/app:v3",
            ],
            2,
            "the limit is 54",
        ),
        (
            &["version", "add", "", "--image", "ghcr.io/acme/app:v3"],
            2,
            "must not be empty",
        ),
        (
            &["version", "add", "v3", "--image", "Ghcr.io/Acme/App:v3"],
            2,
            "image `Ghcr.io/Acme/App:v3`",
        ),
        (
            &["version", "add", "v3", "--image", "ghcr.io/acme/app :v3"],
            2,
            "is not a valid image reference",
        ),
        (&["version", "add", "v3"], 2, "--image"),
        (
            &[
                "version",
                "add",
                "v3",
                "--env",
                "staging",
                "--image",
                "ghcr.io/acme/app:v3",
            ],
            2,
            "no environment `staging`",
        ),
        (
            &["version", "activate", "v9", "--env", "prod"],
            2,
            "environment `prod` has no version `v9`",
        ),
        (&["version", "activate", "V1"], 2, "DNS-1123"),
        (
            &["version", "list", "--format", "yaml"],
            2,
            "invalid value 'yaml'",
        ),
    ];
    for (arguments, code, reason) in cases {
        let run = repo.fails(arguments, *code);
        assert!(
            run.stderr.contains(reason),
            "dbos-gitops {arguments:?}: expected `{reason}` in:\n{}",
            run.stderr
        );
        assert!(
            run.stdout.is_empty(),
            "dbos-gitops {arguments:?} printed:\n{}",
            run.stdout
        );
        assert_eq!(
            repo.snapshot(),
            before,
            "dbos-gitops {arguments:?} changed the tree"
        );
    }
    let unknown = repo.fails(&["version", "activate", "v9"], 2);
    assert!(
        unknown.stderr.contains("hint: known versions: `v1`, `v2`"),
        "{}",
        unknown.stderr
    );
}

#[test]
fn issue_5_a_hand_edited_generated_file_refuses_the_change_and_nothing_is_written() {
    let repo = TestRepo::with_env("prod", &["--app-image", "ghcr.io/acme/app:v1"]);
    repo.ok(&["version", "add", "v2", "--image", "ghcr.io/acme/app:v2"]);
    let path = "environments/prod/patches/app-service.yaml";
    repo.write(path, &(repo.read(path) + "# mine\n"));
    let before = repo.snapshot();
    for arguments in [
        &["version", "add", "v3", "--image", "ghcr.io/acme/app:v3"][..],
        &["version", "activate", "v1", "--traffic-only"][..],
    ] {
        let run = repo.fails(arguments, 1);
        assert!(run.stderr.contains(path), "{}", run.stderr);
        assert!(
            run.stderr.contains("dbos-gitops build --env prod --force"),
            "{}",
            run.stderr
        );
        assert_eq!(repo.snapshot(), before, "{arguments:?} wrote something");
    }
}

#[test]
fn issue_5_env_must_be_named_when_there_are_several() {
    let repo = TestRepo::with_env("prod", &["--app-image", "ghcr.io/acme/app:v1"]);
    repo.ok(&[
        "init",
        "env",
        "staging",
        "--app-image",
        "ghcr.io/acme/app:v1",
    ]);
    let before = repo.snapshot();
    let run = repo.fails(
        &["version", "add", "v2", "--image", "ghcr.io/acme/app:v2"],
        2,
    );
    assert!(
        run.stderr.contains("say which with `--env`"),
        "{}",
        run.stderr
    );
    assert_eq!(repo.snapshot(), before);
    repo.add_version("v2", "staging");
    assert!(repo
        .read("environments/staging/versions.yaml")
        .contains("active: v2"));
    assert!(repo
        .read("environments/prod/versions.yaml")
        .contains("active: v1"));
    assert!(!repo.exists("environments/prod/versions/v2"));
}

#[test]
fn issue_5_an_unpinned_image_is_added_with_a_note() {
    let repo = TestRepo::with_env("prod", &["--app-image", "ghcr.io/acme/app:v1"]);
    for (version, image) in [
        ("v2", "ghcr.io/acme/app:latest"),
        ("v3", "ghcr.io/acme/app"),
    ] {
        let run = repo.run(&["version", "add", version, "--image", image]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(
            run.stderr.contains(&format!(
                "note: image `{image}` has no tag or digest, or the tag `latest`"
            )),
            "{}",
            run.stderr
        );
    }
    let run = repo.run(&[
        "version",
        "add",
        "v4",
        "--image",
        "ghcr.io/acme/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // A pinned image: only the Transact Enterprise note (issue 20), no image note.
    assert_eq!(
        run.stderr,
        "note: the pods of `v4` get `DBOS_CONDUCTOR_KEY`, and DBOS 3.x connects to Conductor only through Transact Enterprise: build the image with the `dbos-enterprise` package beside `dbos`, or its pods crash-loop at launch\n"
    );
}

/// The paths a dry run says it would write (the ownership record aside).
fn dry_run_paths(stdout: &str) -> Vec<String> {
    let mut paths: Vec<String> = stdout
        .lines()
        .filter_map(|line| line.strip_prefix("  would "))
        .filter_map(|rest| rest.split_once(' ').map(|(_, rest)| rest))
        .filter_map(|rest| rest.split_once(" (").map(|(path, _)| path.to_string()))
        .filter(|path| path != ".dbos-gitops.sha256")
        .collect();
    paths.sort();
    paths
}

/// The paths whose bytes differ between two snapshots (the ownership record aside).
fn changed_paths(
    before: &std::collections::BTreeMap<String, (Vec<u8>, std::time::SystemTime)>,
    after: &std::collections::BTreeMap<String, (Vec<u8>, std::time::SystemTime)>,
) -> Vec<String> {
    let mut paths: Vec<String> = before
        .keys()
        .chain(after.keys())
        .filter(|path| path.as_str() != ".dbos-gitops.sha256")
        .filter(|path| before.get(*path).map(|e| &e.0) != after.get(*path).map(|e| &e.0))
        .cloned()
        .collect();
    paths.sort();
    paths.dedup();
    paths
}

#[test]
fn issue_24_version_add_and_retire_dry_runs_print_the_change_and_write_nothing() {
    let repo = TestRepo::prod();
    let add = ["version", "add", "v2", "--image", "ghcr.io/acme/app:v2"];
    let dry_add: Vec<&str> = add.iter().copied().chain(["--dry-run"]).collect();
    let before = repo.snapshot();
    let dry = repo.ok(&dry_add);
    assert_eq!(repo.snapshot(), before, "--dry-run wrote (bytes or mtimes)");
    assert!(
        dry.starts_with(
            "dry run: would add version `v2` (image `ghcr.io/acme/app:v2`) to `prod`: the Service would point at it; `v1` would keep running\n  would update environments/prod/versions.yaml (+3 -1 lines)\n      - active: v1\n      + active: v2\n"
        ),
        "{dry}"
    );
    assert!(dry.ends_with("nothing was written (--dry-run)\n"), "{dry}");
    // A dry run refuses what the real run refuses, and still writes nothing.
    let existing = repo.fails(
        &[
            "version",
            "add",
            "v1",
            "--image",
            "ghcr.io/acme/app:v9",
            "--dry-run",
        ],
        1,
    );
    assert!(
        existing.stderr.contains("already exists"),
        "{}",
        existing.stderr
    );
    assert_eq!(repo.snapshot(), before);
    repo.ok(&add);
    let after = repo.snapshot();
    // What the dry run named is exactly what the real run changed, with the real line counts.
    assert_eq!(dry_run_paths(&dry), changed_paths(&before, &after), "{dry}");
    let deployment = "environments/prod/versions/v2/deployment.yaml";
    let lines = repo.read(deployment).lines().count();
    assert!(
        dry.contains(&format!(
            "  would create {deployment} (+{lines} -0 lines)\n"
        )),
        "{dry}"
    );

    // retire: the same checks as without --dry-run (no source: refused), then nothing written.
    let before = repo.snapshot();
    let refused = repo.fails(&["retire", "v1", "--dry-run"], 1);
    assert!(
        refused.stderr.contains("no database url"),
        "{}",
        refused.stderr
    );
    let dry = repo.ok(&["retire", "v1", "--no-drain-check", "--dry-run"]);
    assert_eq!(repo.snapshot(), before, "--dry-run wrote (bytes or mtimes)");
    assert!(
        dry.starts_with(
            "dry run: would retire `v1` from `prod`: would remove environments/prod/versions/v1\n"
        ),
        "{dry}"
    );
    assert!(
        dry.contains("  would remove environments/prod/versions/v1/deployment.yaml (+0 -"),
        "{dry}"
    );
    repo.ok(&["retire", "v1", "--no-drain-check"]);
    assert_eq!(
        dry_run_paths(&dry),
        changed_paths(&before, &repo.snapshot()),
        "{dry}"
    );
}
