//! `diff` in proportion to the change (#26) and its bounded pool (#23): an environment whose
//! inputs are the same at REV and in the work tree is not rendered, the others render through
//! the render cache `check` shares, never more `kubectl` at once than the machine has cores.
//! Renders are counted by a `kubectl` wrapper first on PATH, which also records how many of
//! its copies run at once, and runs the real kubectl.

use crate::support::*;
use std::ffi::OsString;
use std::path::PathBuf;

struct Spy {
    tools: tempfile::TempDir,
    path: OsString,
}

impl Spy {
    fn new() -> Option<Spy> {
        if !require_tool("kubectl", &["version", "--client"]) {
            return None;
        }
        let real = std::env::split_paths(&std::env::var_os("PATH")?)
            .map(|dir| dir.join("kubectl"))
            .find(|candidate| candidate.is_file())?;
        let tools = tempfile::tempdir().unwrap();
        let bin = tools.path().join("bin");
        let running = tools.path().join("running");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::create_dir_all(&running).unwrap();
        // Each kustomize marks itself running, records how many are, lingers so that
        // overlapping runs overlap, and unmarks itself.
        let script = format!(
            "#!/bin/sh\necho \"$*\" >> '{t}/calls.log'\n\
             if [ \"$1\" = kustomize ]; then\n\
               touch '{t}/running/'$$\n\
               ls '{t}/running' | wc -l >> '{t}/concurrent.log'\n\
               sleep 0.2\n\
               '{real}' \"$@\"; status=$?\n\
               rm -f '{t}/running/'$$\n\
               exit $status\n\
             fi\n\
             exec '{real}' \"$@\"\n",
            t = tools.path().display(),
            real = real.display()
        );
        let wrapper = bin.join("kubectl");
        std::fs::write(&wrapper, script).unwrap();
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
        let path = std::env::join_paths(
            std::iter::once(bin).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
        )
        .unwrap();
        Some(Spy { tools, path })
    }

    fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.tools.path().join(name)).unwrap_or_default()
    }

    /// The `kubectl kustomize` runs so far, by directory.
    fn renders(&self) -> Vec<String> {
        self.log("calls.log")
            .lines()
            .filter_map(|line| line.strip_prefix("kustomize "))
            .map(str::to_string)
            .collect()
    }

    fn most_at_once(&self) -> usize {
        self.log("concurrent.log")
            .lines()
            .filter_map(|line| line.trim().parse().ok())
            .max()
            .unwrap_or(0)
    }

    fn run(&self, repo: &TestRepo, arguments: &[&str]) -> Run {
        let mut command = repo.command(arguments);
        command.env("PATH", &self.path);
        Run::from(command.output().unwrap())
    }
}

/// prod and `extra` more environments.
fn repo_with(extra: &[&str]) -> TestRepo {
    let repo = TestRepo::prod();
    let cert = fixture("go-cert.pem").to_string_lossy().into_owned();
    for name in extra {
        repo.ok(&[
            "init",
            "env",
            name,
            "--cert",
            &cert,
            "--conductor-version",
            TEST_CONDUCTOR_VERSION,
        ]);
    }
    repo
}

fn cores() -> usize {
    std::thread::available_parallelism()
        .map(usize::from)
        .unwrap_or(1)
}

#[test]
fn only_changed_environments_render_and_each_render_happens_once() {
    let Some(spy) = Spy::new() else { return };
    let repo = repo_with(&["staging", "qa", "dev"]);
    commit_all(repo.path(), "state");

    // Nothing changed: nothing renders.
    let run = spy.run(&repo, &["diff"]);
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "no changes against `HEAD`\n"),
        "{}",
        run.stderr
    );
    assert_eq!(spy.renders(), Vec::<String>::new());

    // One environment changed: it renders at HEAD and in the work tree, nothing else does.
    let env_yaml = repo.read("environments/staging/env.yaml");
    repo.write(
        "environments/staging/env.yaml",
        &env_yaml.replace("replicas: 1", "replicas: 3"),
    );
    repo.ok(&["build"]);
    let run = spy.run(&repo, &["diff"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .lines()
            .any(|line| line.starts_with("environments/staging")
                && line.contains("Deployment/conductor")),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("environments/prod"), "{}", run.stdout);
    let mut renders = spy.renders();
    renders.sort();
    assert_eq!(renders, ["environments/staging", "environments/staging"]);

    // The same diff again, and `check` of the work tree: both renders are in the cache.
    assert_eq!(spy.run(&repo, &["diff"]).stdout, run.stdout);
    let checked = spy.run(&repo, &["check"]);
    assert_ne!(checked.code, 2, "{}", checked.stderr);
    assert_eq!(
        spy.renders().len() - 2,
        3,
        "check renders only the three environments diff did not: {:?}",
        spy.renders()
    );
    assert_eq!(spy.run(&repo, &["diff"]).stdout, run.stdout);
    assert_eq!(spy.renders().len(), 5);

    // The change committed: HEAD's render is the work tree's, from the cache.
    commit_all(repo.path(), "state");
    let run = spy.run(&repo, &["diff", "HEAD~1"]);
    assert_eq!(run.code, 1);
    assert_eq!(spy.renders().len(), 5, "{:?}", spy.renders());
}

#[test]
fn every_render_waits_for_a_core() {
    let Some(spy) = Spy::new() else { return };
    let repo = repo_with(&["staging", "qa", "dev", "test"]);
    commit_all(repo.path(), "state");
    // base/ is read by every environment: all five change, argocd/ does not.
    let base = repo.read("base/conductor.yaml");
    repo.write(
        "base/conductor.yaml",
        &format!("{base}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: touched\n"),
    );
    let run = spy.run(&repo, &["diff"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(!run.stdout.contains("argocd"), "{}", run.stdout);
    assert_eq!(spy.renders().len(), 10, "{:?}", spy.renders());
    let most = spy.most_at_once();
    assert!(
        (1..=cores()).contains(&most),
        "{most} kubectl at once on {} cores",
        cores()
    );
}

#[test]
fn an_overlay_reading_elsewhere_is_compared_on_what_it_reads() {
    let Some(spy) = Spy::new() else { return };
    let repo = repo_with(&["staging"]);
    // kustomize loads a file outside the kustomization's root only as a kustomization
    // directory of its own.
    repo.write("shared/kustomization.yaml", "resources:\n- extra.yaml\n");
    repo.write(
        "shared/extra.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\ndata:\n  level: one\n",
    );
    let kustomization = repo.read("environments/prod/kustomization.yaml");
    repo.write(
        "environments/prod/kustomization.yaml",
        &kustomization.replacen("resources:\n", "resources:\n- ../../shared\n", 1),
    );
    commit_all(repo.path(), "state");
    assert_eq!(spy.run(&repo, &["diff"]).code, 0);
    assert_eq!(spy.renders(), Vec::<String>::new());

    // Only a file outside every unit's directory changes.
    repo.write(
        "shared/extra.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\ndata:\n  level: two\n",
    );
    let run = spy.run(&repo, &["diff"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("ConfigMap/extra") && run.stdout.contains("data.level: one -> two"),
        "{}",
        run.stdout
    );
    assert_eq!(spy.renders(), ["environments/prod", "environments/prod"]);

    // check keys that overlay on the whole repository too: the change renders it again.
    let prod_renders = || {
        spy.renders()
            .iter()
            .filter(|dir| *dir == "environments/prod")
            .count()
    };
    spy.run(&repo, &["check"]);
    assert_eq!(
        prod_renders(),
        2,
        "diff's render is check's: {:?}",
        spy.renders()
    );
    repo.write(
        "shared/extra.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\ndata:\n  level: three\n",
    );
    spy.run(&repo, &["check"]);
    assert_eq!(prod_renders(), 3, "shared/ changed: {:?}", spy.renders());
}

/// The first `kubectl` on PATH that a shell would run: a non-executable one is skipped.
#[test]
fn a_non_executable_kubectl_earlier_on_path_is_skipped() {
    let Some(spy) = Spy::new() else { return };
    let repo = TestRepo::prod();
    commit_all(repo.path(), "state");
    let decoy: PathBuf = spy.tools.path().join("decoy");
    std::fs::create_dir_all(&decoy).unwrap();
    std::fs::write(decoy.join("kubectl"), "#!/bin/sh\nexit 99\n").unwrap();
    let path = std::env::join_paths(std::iter::once(decoy).chain(std::env::split_paths(&spy.path)))
        .unwrap();
    let mut command = repo.command(&["check", "--strict"]);
    command.env("PATH", &path);
    let run = Run::from(command.output().unwrap());
    assert!(
        !run.stdout.contains("render check skipped"),
        "{}{}",
        run.stdout,
        run.stderr
    );
    assert_eq!(spy.renders(), ["environments/prod"]);
}
