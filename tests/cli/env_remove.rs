//! `env remove NAME` (#24): the environment leaves Git through the repository layer (nothing
//! written on a refusal), `argocd/` follows, and the command says what keeps running and how to
//! delete it; the root Application lives in our AppProject, which must admit what it syncs.

use crate::support::*;
use serde_json::Value;

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
    // What keeps running, and the two ways out.
    for text in [
        "What keeps running: everything.",
        "the root Application `dbos-gitops-root` never prunes",
        "keeps running in namespace `dbos-staging` on https://kubernetes.default.svc",
        "kubectl -n argocd delete application dbos-staging      # no finalizer",
        "dbos-gitops env remove staging --cascade --dry-run",
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

/// The `-p '...'` payloads of the printed kubectl commands, parsed.
fn patches(out: &str) -> Vec<Value> {
    out.lines()
        .filter_map(|line| line.split_once(" -p '"))
        .map(|(_, rest)| serde_json::from_str(rest.trim_end_matches('\'')).unwrap())
        .collect()
}

#[test]
fn cascade_steps_run_while_the_project_still_admits_the_namespace() {
    let repo = two_environments();
    let before = repo.snapshot();
    let out = repo.ok(&["env", "remove", "staging", "--cascade", "--dry-run"]);
    assert_eq!(repo.snapshot(), before);
    // In order: pause the root, finalizer, delete, restore the root from Git, the namespace.
    let steps = [
        "kubectl -n argocd patch application dbos-gitops-root --type json",
        "kubectl -n argocd patch application dbos-staging --type merge",
        "kubectl -n argocd delete application dbos-staging --wait",
        "kubectl apply -f argocd/root.yaml",
        "kubectl delete namespace dbos-staging",
    ];
    let positions: Vec<usize> = steps
        .iter()
        .map(|step| out.find(step).unwrap_or_else(|| panic!("{step}: {out}")))
        .collect();
    assert!(positions.windows(2).all(|pair| pair[0] < pair[1]), "{out}");
    let patches = patches(&out);
    assert_eq!(patches.len(), 2, "{out}");
    // The JSON patch removes a path the rendered root really has (a remove of a missing path
    // fails), and what it removes is what makes the root sync by itself.
    assert_eq!(
        patches[0],
        serde_json::json!([{"op": "remove", "path": "/spec/syncPolicy/automated"}])
    );
    let root: Value = parse_yaml_stream(&repo.read("argocd/root.yaml")).remove(0);
    assert_eq!(root["spec"]["syncPolicy"]["automated"]["selfHeal"], true);
    // The merge patch sets exactly Argo CD's cascade finalizer.
    assert_eq!(
        patches[1],
        serde_json::json!({"metadata": {"finalizers": ["resources-finalizer.argocd.argoproj.io"]}})
    );
    // The project that step 2 relies on (the work tree before the change) admits dbos-staging.
    let project = parse_yaml_stream(&repo.read("argocd/project.yaml")).remove(0);
    assert!(project["spec"]["destinations"]
        .as_array()
        .unwrap()
        .iter()
        .any(|destination| destination["namespace"] == "dbos-staging"));
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
