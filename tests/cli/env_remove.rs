//! `env remove NAME` (#24): the environment leaves Git through the repository layer (nothing
//! written on a refusal), `argocd/` follows, and the command says what keeps running and how to
//! delete it; the root Application lives in our AppProject, which must admit what it syncs.
//! `--cascade` (#24.7) removes it in three steps through Git that Argo CD performs; a small
//! model of Argo CD's rules over the rendered objects says what each sync deletes.

use crate::support::*;
use serde_json::Value;
use std::collections::BTreeMap;

/// `prod` and `staging`, staging with a sealed secret.
fn two_environments() -> TestRepo {
    let repo = TestRepo::prod();
    repo.add_env("staging");
    let set = [
        "secrets",
        "set",
        "--env",
        "staging",
        "conductor-db",
        "database-url",
        "--from-stdin",
    ];
    let run = repo.run_with_stdin(&set, Some(b"postgres://u:p@db/conductor"));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(repo.exists("environments/staging/secrets/conductor-db.yaml"));
    repo
}

/// The files under `dir` with their bytes.
fn files(repo: &TestRepo, dir: &str) -> Vec<(String, Vec<u8>)> {
    repo.snapshot()
        .into_iter()
        .filter(|(path, _)| path.starts_with(dir))
        .map(|(path, (bytes, _))| (path, bytes))
        .collect()
}

#[test]
fn env_remove_takes_the_environment_out_of_git_and_says_what_keeps_running() {
    let repo = two_environments();
    let prod = files(&repo, "environments/prod");
    let before = repo.snapshot();
    let dry = repo.ok(&["env", "remove", "staging", "--dry-run"]);
    assert_eq!(repo.snapshot(), before, "--dry-run wrote something");
    for line in [
        "would remove environments/staging/env.yaml",
        "would remove environments/staging/secrets/conductor-db.yaml",
        "would remove argocd/applications/staging.yaml",
        "would update argocd/project.yaml",
    ] {
        assert!(dry.contains(line), "{line}: {dry}");
    }
    let out = repo.ok(&["env", "remove", "staging"]);
    assert!(!repo.exists("environments/staging"), "{out}");
    assert!(!repo.exists("argocd/applications/staging.yaml"));
    assert!(!repo.read("argocd/kustomization.yaml").contains("staging"));
    assert!(!repo.read("argocd/project.yaml").contains("dbos-staging"));
    // The other environment is untouched, and the tree is what `build` makes of it.
    assert_eq!(files(&repo, "environments/prod"), prod);
    repo.ok(&["build", "--check"]);
    assert!(!repo.exists(".dbos-gitops-journal"));
    assert!(
        dry.contains("dbos-gitops env remove staging --cascade --dry-run"),
        "{dry}"
    );
    // What keeps running, and the two ways out.
    for text in [
        "What keeps running: everything.",
        "the root Application `dbos-gitops-root` prunes only an Application marked for the cascade",
        "keeps running in namespace `dbos-staging` on https://kubernetes.default.svc",
        "kubectl -n argocd delete application dbos-staging      # no finalizer",
        "dbos-gitops env remove staging --cascade\n",
    ] {
        assert!(out.contains(text), "{text}: {out}");
    }
    // Gone means gone: a second removal is an unknown environment.
    let again = repo.fails(&["env", "remove", "staging"], 2);
    assert!(
        again.stderr.contains("no environment `staging`"),
        "{}",
        again.stderr
    );
}

#[test]
fn a_hand_edited_generated_file_is_refused_unless_forced() {
    let repo = two_environments();
    let path = "environments/staging/kustomization.yaml";
    repo.write(path, &format!("{}# mine\n", repo.read(path)));
    let before = repo.snapshot();
    let refused = repo.fails(&["env", "remove", "staging"], 1);
    assert!(
        refused
            .stderr
            .contains("refusing to overwrite files edited by hand")
            && refused.stderr.contains(path),
        "{}",
        refused.stderr
    );
    assert_eq!(repo.snapshot(), before);
    repo.ok(&["env", "remove", "staging", "--force"]);
    assert!(!repo.exists("environments/staging"));
}

#[test]
fn env_remove_of_an_unknown_environment_is_exit_2_and_writes_nothing() {
    let repo = two_environments();
    let before = repo.snapshot();
    let run = repo.fails(&["env", "remove", "qa"], 2);
    assert!(
        run.stderr
            .contains("no environment `qa` in this repository")
            && run.stderr.contains("known environments: `prod`, `staging`"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert_eq!(repo.snapshot(), before);
    let invalid = repo.fails(&["env", "remove", "Not_A_Name"], 2);
    assert!(invalid.stdout.is_empty());
    assert_eq!(repo.snapshot(), before);
}

/// Argo CD's own permission check for one object of an Application in `project`
/// (`AppProject.IsGroupKindNamePermitted` and `IsDestinationPermitted`, exact entries): a
/// namespaced kind must be in the namespaced whitelist, its namespace among the destinations.
fn permitted(project: &Value, object: &Value, server: &str) -> bool {
    let api = object["apiVersion"].as_str().unwrap();
    let group = api.rsplit_once('/').map_or("", |(group, _)| group);
    let kind = object["kind"].as_str().unwrap();
    let namespace = object["metadata"]["namespace"].as_str().unwrap_or("");
    let spec = &project["spec"];
    let listed = |list: &str| {
        spec[list]
            .as_array()
            .into_iter()
            .flatten()
            .any(|entry| entry["group"] == group && entry["kind"] == kind)
    };
    if namespace.is_empty() {
        return listed("clusterResourceWhitelist");
    }
    listed("namespaceResourceWhitelist")
        && spec["destinations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["server"] == server && d["namespace"] == namespace)
}

#[test]
fn root_application_is_in_our_project_and_the_project_admits_what_it_syncs() {
    if !require_tool("kubectl", &["version", "--client"]) {
        return;
    }
    let repo = two_environments();
    let objects = parse_yaml_stream(&repo.kustomize_text("argocd"));
    validate_schemas(&objects);
    let project = find(&objects, "AppProject", "dbos");
    let root = find(&objects, "Application", "dbos-gitops-root");
    assert_eq!(root["spec"]["project"], "dbos");
    assert!(project["spec"]["sourceRepos"]
        .as_array()
        .unwrap()
        .contains(&root["spec"]["source"]["repoURL"]));
    let server = root["spec"]["destination"]["server"].as_str().unwrap();
    assert_eq!(root["spec"]["destination"]["namespace"], "argocd");
    // Every object the root syncs (the project, itself, the environments' Applications).
    assert!(objects.len() >= 4);
    for object in &objects {
        assert!(
            permitted(project, object, server),
            "the project refuses {}/{}",
            object["kind"],
            object["metadata"]["name"]
        );
    }
    // And an environment's Application may still deploy only into its own namespace: the
    // project's namespaced kinds are namespaced, nothing cluster-wide beyond Namespace.
    assert_eq!(
        project["spec"]["clusterResourceWhitelist"],
        serde_json::json!([{"group": "", "kind": "Namespace"}])
    );
    let child = find(&objects, "Application", "dbos-staging");
    let deployment = serde_json::json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "x", "namespace": "dbos-staging"}});
    assert!(permitted(
        project,
        &deployment,
        child["spec"]["destination"]["server"].as_str().unwrap()
    ));
}

fn destination_namespaces(repo: &TestRepo) -> Vec<String> {
    let project = parse_yaml_stream(&repo.read("argocd/project.yaml")).remove(0);
    project["spec"]["destinations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["namespace"].as_str().unwrap().to_string())
        .collect()
}

const REMOVAL: &str = "environments/staging/removal.yaml";
const STAGING_APP: &str = "argocd/applications/staging.yaml";

#[test]
fn cascade_step_1_marks_the_application_and_a_dry_run_prints_the_diff() {
    let repo = two_environments();
    commit_all(repo.path(), "two environments");
    let before = repo.snapshot();
    let dry = repo.ok(&["env", "remove", "staging", "--cascade", "--dry-run"]);
    assert_eq!(repo.snapshot(), before, "--dry-run wrote something");
    for line in [
        "cascade step 1 of 3: mark environment `staging` for removal (--dry-run: nothing written)",
        "+++ b/environments/staging/removal.yaml",
        "+namespace: dbos-staging",
        "--- a/argocd/applications/staging.yaml",
        "-    argocd.argoproj.io/sync-options: Prune=false",
        "+    argocd.argoproj.io/sync-options: Prune=true",
        "+  - resources-finalizer.argocd.argoproj.io",
    ] {
        assert!(dry.contains(line), "{line}: {dry}");
    }
    assert!(!dry.contains("argocd/project.yaml"), "{dry}");
    let out = repo.ok(&["env", "remove", "staging", "--cascade"]);
    for text in [
        "wrote   environments/staging/removal.yaml",
        "updated argocd/applications/staging.yaml",
        "Nothing is deleted yet",
        "kubectl -n argocd get application dbos-staging -o jsonpath=",
        "# expect: [\"resources-finalizer.argocd.argoproj.io\"] Prune=true",
        "argocd app get dbos-gitops-root",
    ] {
        assert!(out.contains(text), "{text}: {out}");
    }
    // The environment is still declared and built; the dry run printed what was written.
    assert!(repo.exists("environments/staging/env.yaml"));
    assert!(repo.exists("environments/staging/kustomization.yaml"));
    let record: Value = parse_yaml_stream(&repo.read(REMOVAL)).remove(0);
    assert_eq!(record["namespace"], "dbos-staging");
    assert_eq!(record["cluster"], "https://kubernetes.default.svc");
    let app = parse_yaml_stream(&repo.read(STAGING_APP)).remove(0);
    assert_eq!(
        app["metadata"]["finalizers"],
        serde_json::json!(["resources-finalizer.argocd.argoproj.io"])
    );
    assert_eq!(
        app["metadata"]["annotations"]["argocd.argoproj.io/sync-options"],
        "Prune=true"
    );
    let prod = parse_yaml_stream(&repo.read("argocd/applications/prod.yaml")).remove(0);
    assert!(prod["metadata"].get("finalizers").is_none());
    assert_eq!(
        prod["metadata"]["annotations"]["argocd.argoproj.io/sync-options"],
        "Prune=false"
    );
    // `build` reads the record back: the tree is what it makes of the repository.
    repo.ok(&["build", "--check"]);
}

#[test]
fn cascade_steps_go_through_git_in_order_and_out_of_order_is_refused() {
    let repo = two_environments();
    commit_all(repo.path(), "two environments");
    let prod = files(&repo, "environments/prod");
    repo.ok(&["env", "remove", "staging", "--cascade"]);
    // Step 2 before step 1 is committed: one sync would remove an Application whose live copy
    // still says Prune=false.
    let before = repo.snapshot();
    let early = repo.fails(&["env", "remove", "staging", "--cascade"], 2);
    assert!(
        early
            .stderr
            .contains("needs step 1 committed and synced first")
            && early.stderr.contains("is not in HEAD"),
        "{}",
        early.stderr
    );
    // A plain removal now would drop the project's destination with the Application.
    let plain = repo.fails(&["env", "remove", "staging"], 2);
    assert!(
        plain.stderr.contains("is being removed with the cascade")
            && plain.stderr.contains("continue with step 2"),
        "{}",
        plain.stderr
    );
    assert_eq!(repo.snapshot(), before, "a refusal wrote something");

    commit_all(repo.path(), "step 1");
    let dry = repo.ok(&["env", "remove", "staging", "--cascade", "--dry-run"]);
    assert_eq!(repo.snapshot(), before, "--dry-run wrote something");
    for line in [
        "cascade step 2 of 3 for environment `staging`: take it out of Git (--dry-run",
        "would remove environments/staging/env.yaml",
        "would remove environments/staging/secrets/conductor-db.yaml",
        "--- a/argocd/applications/staging.yaml",
        "+++ /dev/null",
    ] {
        assert!(dry.contains(line), "{line}: {dry}");
    }
    assert!(!dry.contains(&format!("would remove {REMOVAL}")), "{dry}");
    let out = repo.ok(&["env", "remove", "staging", "--cascade"]);
    assert!(
        out.contains("prunes Application `dbos-staging`")
            && out
                .contains("kubectl -n argocd get application dbos-staging      # expect: NotFound"),
        "{out}"
    );
    assert!(!repo.exists("environments/staging/env.yaml"));
    assert!(!repo.exists("environments/staging/kustomization.yaml"));
    assert!(!repo.exists(STAGING_APP));
    assert!(!repo.read("argocd/kustomization.yaml").contains("staging"));
    assert!(repo.exists(REMOVAL));
    // The project still admits the namespace Argo CD is deleting in.
    assert!(destination_namespaces(&repo).contains(&"dbos-staging".to_string()));
    repo.ok(&["build", "--check"]);

    // A new environment of that name now would be deleted with the old one's destination.
    let before = repo.snapshot();
    let cert = fixture("go-cert.pem").to_string_lossy().into_owned();
    let again = repo.fails(&["init", "env", "staging", "--cert", &cert], 1);
    assert!(
        again
            .stderr
            .contains("environment `staging` is being removed with the cascade")
            && again.stderr.contains("finish the removal first"),
        "{}",
        again.stderr
    );
    assert_eq!(repo.snapshot(), before);

    // Step 3 before step 2 is committed would drop the destination the deletion needs.
    let early = repo.fails(&["env", "remove", "staging", "--cascade"], 2);
    assert!(
        early
            .stderr
            .contains("needs step 2 committed and synced first"),
        "{}",
        early.stderr
    );
    let plain = repo.fails(&["env", "remove", "staging"], 2);
    assert!(
        plain.stderr.contains("continue with step 3"),
        "{}",
        plain.stderr
    );
    assert_eq!(repo.snapshot(), before);

    commit_all(repo.path(), "step 2");
    let dry = repo.ok(&["env", "remove", "staging", "--cascade", "--dry-run"]);
    assert!(
        dry.contains("--- a/argocd/project.yaml")
            && dry.contains("-    namespace: dbos-staging")
            && dry.contains(&format!("would remove {REMOVAL}")),
        "{dry}"
    );
    assert_eq!(repo.snapshot(), before);
    let out = repo.ok(&["env", "remove", "staging", "--cascade"]);
    assert!(
        out.contains("kubectl delete namespace dbos-staging"),
        "{out}"
    );
    assert!(!repo.exists("environments/staging"));
    assert!(!destination_namespaces(&repo).contains(&"dbos-staging".to_string()));
    repo.ok(&["build", "--check"]);
    // Done: the name is unknown again; the other environment never moved.
    let again = repo.fails(&["env", "remove", "staging", "--cascade"], 2);
    assert!(
        again.stderr.contains("no environment `staging`"),
        "{}",
        again.stderr
    );
    assert_eq!(files(&repo, "environments/prod"), prod);
}

#[test]
fn cascade_step_2_outside_git_is_refused_and_writes_nothing() {
    let repo = two_environments();
    repo.ok(&["env", "remove", "staging", "--cascade"]);
    let before = repo.snapshot();
    let run = repo.fails(&["env", "remove", "staging", "--cascade"], 2);
    assert!(
        run.stderr.contains("the cascade goes through Git"),
        "{}",
        run.stderr
    );
    assert_eq!(repo.snapshot(), before);
}

/// An object's identity in the model: kind, namespace, name.
type Key = (String, String, String);

fn key(object: &Value) -> Key {
    let text = |v: &Value| v.as_str().unwrap_or("").to_string();
    (
        text(&object["kind"]),
        text(&object["metadata"]["namespace"]),
        text(&object["metadata"]["name"]),
    )
}

/// The cluster as the model sees it: what the root tracks, and each environment's objects by
/// the Application that tracks them.
struct Cluster {
    root: BTreeMap<Key, Value>,
    workloads: BTreeMap<Key, (String, Value)>,
}

/// The `Prune` value an object's live copy says (`argocd.argoproj.io/sync-options`, a comma
/// separated list of `Key=value`), else the root's own `Prune=` sync option (Argo CD 3.4's
/// default, `isPruningDisabled`).
fn prune_option(live: &Value, root: &Value) -> Option<String> {
    let from = |list: &str| {
        list.split(',')
            .filter_map(|option| option.trim().split_once('='))
            .find(|(name, _)| *name == "Prune")
            .map(|(_, value)| value.to_string())
    };
    live["metadata"]["annotations"]["argocd.argoproj.io/sync-options"]
        .as_str()
        .and_then(from)
        .or_else(|| {
            root["spec"]["syncPolicy"]["syncOptions"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .find_map(from)
        })
}

impl Cluster {
    /// `kubectl apply -k argocd/` (the bootstrap) and the environments' first syncs.
    fn bootstrap(argocd: &[Value], environments: &[(&str, Vec<Value>)]) -> Self {
        let mut cluster = Cluster {
            root: BTreeMap::new(),
            workloads: BTreeMap::new(),
        };
        for object in argocd {
            cluster.root.insert(key(object), object.clone());
        }
        for (env, objects) in environments {
            let app = find(argocd, "Application", &format!("dbos-{env}"));
            let namespace = app["spec"]["destination"]["namespace"].as_str().unwrap();
            for object in objects {
                let mut object = object.clone();
                if object["metadata"]["namespace"].is_null() {
                    object["metadata"]["namespace"] = Value::from(namespace);
                }
                let owner = format!("dbos-{env}");
                cluster.workloads.insert(key(&object), (owner, object));
            }
        }
        cluster
    }

    /// One sync of the root to `target` (the rendered `argocd/`), as gitops-engine runs it:
    /// what left Git is pruned when the root prunes and its live copy does not say
    /// `Prune=false` (`pruneObject`); `Prune=confirm` would hold the sync (none of ours says
    /// it). A pruned Application with the cascade finalizer has the application controller
    /// delete the objects it tracks that its AppProject permits (`finalizeApplicationDeletion`,
    /// `getPermittedAppLiveObjects`), judged against the project this sync leaves, which is
    /// the one the controller sees while it deletes. Returns what was deleted.
    fn sync(&mut self, target: &[Value]) -> Vec<Key> {
        let root = find(target, "Application", "dbos-gitops-root").clone();
        let prunes = root["spec"]["syncPolicy"]["automated"]["prune"] == true;
        let wanted: Vec<Key> = target.iter().map(key).collect();
        let gone: Vec<Key> = self
            .root
            .keys()
            .filter(|k| !wanted.contains(k))
            .cloned()
            .collect();
        let mut pruned = Vec::new();
        for k in gone {
            let live = &self.root[&k];
            let option = prune_option(live, &root);
            assert_ne!(
                option.as_deref(),
                Some("confirm"),
                "{k:?} would hold the sync"
            );
            if prunes && option.as_deref() != Some("false") {
                pruned.push(self.root.remove(&k).unwrap());
            }
        }
        for object in target {
            self.root.insert(key(object), object.clone());
        }
        let project = self
            .root
            .values()
            .find(|o| o["kind"] == "AppProject")
            .unwrap()
            .clone();
        let mut deleted: Vec<Key> = pruned.iter().map(key).collect();
        for app in pruned.iter().filter(|o| o["kind"] == "Application") {
            let cascades = app["metadata"]["finalizers"].as_array().is_some_and(|f| {
                f.contains(&Value::from("resources-finalizer.argocd.argoproj.io"))
            });
            if !cascades {
                continue;
            }
            let name = app["metadata"]["name"].as_str().unwrap();
            let server = app["spec"]["destination"]["server"].as_str().unwrap();
            let doomed: Vec<Key> = self
                .workloads
                .iter()
                .filter(|(_, (owner, object))| owner == name && permitted(&project, object, server))
                .map(|(k, _)| k.clone())
                .collect();
            for k in doomed {
                self.workloads.remove(&k);
                deleted.push(k);
            }
        }
        deleted.sort();
        deleted
    }
}

fn argocd_objects(repo: &TestRepo) -> Vec<Value> {
    let objects = parse_yaml_stream(&repo.kustomize_text("argocd"));
    validate_schemas(&objects);
    objects
}

#[test]
fn argo_cd_deletes_only_the_cascading_environment_and_only_after_each_step_synced() {
    if !require_tool("kubectl", &["version", "--client"]) {
        return;
    }
    let repo = two_environments();
    commit_all(repo.path(), "two environments");
    let staging = repo.kustomize("staging");
    let prod = repo.kustomize("prod");
    let start = argocd_objects(&repo);
    let fresh = || {
        Cluster::bootstrap(
            &start,
            &[("staging", staging.clone()), ("prod", prod.clone())],
        )
    };
    let staging_keys: Vec<Key> = {
        let cluster = fresh();
        let mut keys: Vec<Key> = cluster
            .workloads
            .iter()
            .filter(|(_, (owner, _))| owner == "dbos-staging")
            .map(|(k, _)| k.clone())
            .collect();
        keys.push(("Application".into(), "argocd".into(), "dbos-staging".into()));
        keys.sort();
        keys
    };
    assert!(staging_keys.len() > 5, "{staging_keys:?}");

    // Without the cascade: the env directory deleted and built, synced: nothing is deleted.
    let plain = two_environments();
    std::fs::remove_dir_all(plain.path().join("environments/staging")).unwrap();
    plain.ok(&["build"]);
    let mut cluster = fresh();
    assert_eq!(cluster.sync(&argocd_objects(&plain)), Vec::<Key>::new());
    let staging_app: Key = ("Application".into(), "argocd".into(), "dbos-staging".into());
    assert!(
        cluster.root.contains_key(&staging_app),
        "the root keeps the Application"
    );
    assert_eq!(cluster.workloads.len(), fresh().workloads.len());

    // The cascade, each step synced before the next.
    repo.ok(&["env", "remove", "staging", "--cascade"]);
    let marked = argocd_objects(&repo);
    commit_all(repo.path(), "step 1");
    repo.ok(&["env", "remove", "staging", "--cascade"]);
    let out_of_git = argocd_objects(&repo);
    commit_all(repo.path(), "step 2");
    repo.ok(&["env", "remove", "staging", "--cascade"]);
    let finished = argocd_objects(&repo);

    let mut cluster = fresh();
    assert_eq!(
        cluster.sync(&marked),
        Vec::<Key>::new(),
        "step 1 deletes nothing"
    );
    assert_eq!(
        cluster.sync(&out_of_git),
        staging_keys,
        "step 2 deletes staging, all of it"
    );
    assert_eq!(
        cluster.sync(&finished),
        Vec::<Key>::new(),
        "step 3 deletes nothing"
    );
    assert!(cluster
        .workloads
        .values()
        .all(|(owner, _)| owner == "dbos-prod"));
    assert_eq!(
        cluster.workloads.len(),
        fresh().workloads.len() - (staging_keys.len() - 1)
    );
    for name in ["dbos-gitops-root", "dbos-prod"] {
        assert!(cluster
            .root
            .contains_key(&("Application".into(), "argocd".into(), name.into())));
    }
    assert!(cluster.root.keys().any(|k| k.0 == "AppProject"));

    // The rules the steps rest on, shown by skipping one. Step 2's tree synced while the live
    // Application still says Prune=false: the root keeps it, nothing is deleted.
    let mut cluster = fresh();
    assert_eq!(cluster.sync(&out_of_git), Vec::<Key>::new());
    // Step 3's tree synced right after step 1 (the destination dropped in the same sync): the
    // Application is pruned, but the project no longer permits its objects, so none go.
    let mut cluster = fresh();
    cluster.sync(&marked);
    assert_eq!(
        cluster.sync(&finished),
        vec![(
            "Application".to_string(),
            "argocd".to_string(),
            "dbos-staging".to_string()
        )]
    );
    assert_eq!(cluster.workloads.len(), fresh().workloads.len());
}
