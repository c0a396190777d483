//! `check`'s render cache (#15): an unchanged environment is not rendered again, a changed one
//! is, `--no-cache` renders everything, and a cache that cannot be written never fails the
//! check. Renders are counted by a `kubectl` wrapper on PATH that logs each call and runs the
//! real kubectl. The cache keeps what the findings need from a render ("facts") with the
//! version of the code that extracted them; the tests tamper with those entries to show that
//! a cached fact is used, and that one of another version or a damaged one is not.

use crate::support::*;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// A test repository with a counting `kubectl` first on PATH.
struct Harness {
    repo: TestRepo,
    tools: tempfile::TempDir,
    log: PathBuf,
    real: PathBuf,
    path: OsString,
}

impl Harness {
    /// `None` (after a loud skip) without kubectl.
    fn new(repo: TestRepo) -> Option<Harness> {
        if !require_tool("kubectl", &["version", "--client"]) {
            return None;
        }
        let real = std::env::split_paths(&std::env::var_os("PATH")?)
            .map(|dir| dir.join("kubectl"))
            .find(|candidate| candidate.is_file())?;
        let tools = tempfile::tempdir().unwrap();
        let log = tools.path().join("calls.log");
        let bin = tools.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        let path = std::env::join_paths(
            std::iter::once(bin).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
        )
        .unwrap();
        let harness = Harness {
            repo,
            tools,
            log,
            real,
            path,
        };
        harness.write_kubectl(1);
        Some(harness)
    }

    /// The wrapper: logs its arguments and runs the real kubectl; `kubectl version` also prints
    /// `generation`, so a new generation is a kubectl with another version.
    fn write_kubectl(&self, generation: u32) {
        let script = self.tools.path().join("bin/kubectl");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\necho \"$*\" >> '{log}'\n\
                 if [ \"$1\" = version ]; then '{real}' \"$@\" || exit; echo 'generation {generation}'; exit 0; fi\n\
                 exec '{real}' \"$@\"\n",
                log = self.log.display(),
                real = self.real.display()
            ),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    fn calls(&self, first: &str) -> usize {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter(|line| line.split(' ').next() == Some(first))
            .count()
    }

    fn renders(&self) -> usize {
        self.calls("kustomize")
    }

    fn versions(&self) -> usize {
        self.calls("version")
    }

    /// `check` with the wrapper on PATH; the cache in `$HOME/.cache` unless `cache_dir`.
    fn check(&self, extra: &[&str], cache_dir: Option<&Path>) -> String {
        let mut arguments = vec!["check"];
        arguments.extend_from_slice(extra);
        let mut command = self.repo.command(&arguments);
        command.env("PATH", &self.path);
        if let Some(dir) = cache_dir {
            command.env("DBOS_GITOPS_CACHE_DIR", dir);
        }
        let run = Run::from(command.output().unwrap());
        // Findings (unsealed secrets in this bare repository) are fine; could-not-run is not.
        assert_ne!(run.code, 2, "{}{}", run.stdout, run.stderr);
        run.stdout
    }

    /// The cached facts, one file per render.
    fn entries(&self) -> Vec<PathBuf> {
        self.cached("json")
    }

    /// The cached render texts, one file per render.
    fn text_entries(&self) -> Vec<PathBuf> {
        self.cached("render")
    }

    fn cached(&self, extension: &str) -> Vec<PathBuf> {
        let dir = self.repo.home.path().join(".cache/dbos-gitops/render");
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.extension().is_some_and(|ext| ext == extension))
            .collect();
        entries.sort();
        entries
    }
}

#[test]
fn unchanged_environments_are_not_rendered_again() {
    let repo = TestRepo::prod();
    let cert = fixture("go-cert.pem").to_string_lossy().into_owned();
    repo.ok(&[
        "init",
        "env",
        "staging",
        "--cert",
        &cert,
        "--conductor-version",
        TEST_CONDUCTOR_VERSION,
    ]);
    let Some(h) = Harness::new(repo) else { return };
    let cold = h.check(&[], None);
    assert_eq!(h.renders(), 2, "cold: both environments render");
    assert_eq!(h.entries().len(), 2);
    assert_eq!(h.versions(), 1, "cold: kubectl's version is asked once");
    assert_eq!(h.check(&[], None), cold, "a warm check reports the same");
    assert_eq!(h.renders(), 2, "warm: nothing renders");
    assert_eq!(h.versions(), 1, "warm: the same kubectl is not asked again");
    // One environment changed: only it renders.
    let env_yaml = h.repo.read("environments/staging/env.yaml");
    h.repo.write(
        "environments/staging/env.yaml",
        &env_yaml.replace("replicas: 1", "replicas: 2"),
    );
    h.repo.ok(&["build"]);
    h.check(&[], None);
    assert_eq!(h.renders(), 3, "one changed: one render");
    // A change to base/ is read by every overlay: both render.
    let base = h.repo.read("base/kustomization.yaml");
    h.repo
        .write("base/kustomization.yaml", &format!("{base}# touched\n"));
    h.check(&[], None);
    assert_eq!(h.renders(), 5, "base changed: both render");
    h.repo.write("base/kustomization.yaml", &base);
    h.check(&[], None);
    assert_eq!(
        h.renders(),
        5,
        "base restored: its earlier entries are used"
    );
    // --no-cache renders everything, and leaves the warm cache as it was.
    h.check(&["--no-cache"], None);
    assert_eq!(h.renders(), 7);
    h.check(&[], None);
    assert_eq!(h.renders(), 7);
    // A cache directory that cannot be created (below a file) never fails the check.
    let blocker = h.tools.path().join("file");
    std::fs::write(&blocker, "").unwrap();
    assert_eq!(h.check(&[], Some(&blocker.join("cache"))), cold);
    assert_eq!(h.renders(), 9);
}

#[test]
fn another_kubectl_renders_afresh() {
    let Some(h) = Harness::new(TestRepo::prod()) else {
        return;
    };
    let cold = h.check(&[], None);
    assert_eq!((h.renders(), h.versions()), (1, 1));
    h.check(&[], None);
    assert_eq!((h.renders(), h.versions()), (1, 1), "warm: nothing runs");
    // Another kubectl at the same path (an upgrade): its version is asked, and it differs.
    h.write_kubectl(2);
    assert_eq!(h.check(&[], None), cold);
    assert_eq!((h.renders(), h.versions()), (2, 2), "new kubectl: renders");
    h.check(&[], None);
    assert_eq!((h.renders(), h.versions()), (2, 2), "and is remembered");
    // The same bytes written again (new modification time): asked again, same version, so
    // the renders of this version still hold.
    std::thread::sleep(std::time::Duration::from_millis(20));
    h.write_kubectl(2);
    h.check(&[], None);
    assert_eq!(
        (h.renders(), h.versions()),
        (2, 3),
        "rewritten kubectl: asked"
    );
    // Back to the first kubectl's version: its entries were kept.
    h.write_kubectl(1);
    h.check(&[], None);
    assert_eq!((h.renders(), h.versions()), (2, 4));
}

/// Entries are authenticated (#23): an entry edited in place, truncated, or not ours is a
/// miss, so a planted fact never reaches the findings.
#[test]
fn cached_facts_are_used_only_whole_and_authenticated() {
    let Some(h) = Harness::new(TestRepo::prod()) else {
        return;
    };
    let cold = h.check(&[], None);
    assert_eq!(h.renders(), 1);
    let [entry] = h.entries().try_into().expect("one entry");
    let original = std::fs::read(&entry).unwrap();
    let newline = original.iter().position(|byte| *byte == b'\n').unwrap();
    let (tag, payload) = (&original[..=newline], &original[newline + 1..]);
    let mut stored: serde_json::Value = serde_json::from_slice(payload).unwrap();
    stored["references"]
        .as_array_mut()
        .expect("references")
        .push(serde_json::json!([
            "planted-secret",
            "planted-key",
            "Deployment/planted"
        ]));
    let planted = [tag, stored.to_string().as_bytes()].concat();

    // The edited entry keeps its old tag: a miss. The facts are taken again from the render's
    // text (cached beside them: no kubectl runs) and the entry is replaced.
    std::fs::write(&entry, &planted).unwrap();
    assert_eq!(h.check(&[], None), cold, "the planted fact is not reported");
    assert_eq!(h.renders(), 1, "edited: facts from the cached text");
    assert_eq!(std::fs::read(&entry).unwrap(), original);

    // An untagged entry (as written by an older version), a truncated one, and one that is
    // not JSON at all: misses, same findings, replaced.
    for damaged in [
        payload.to_vec(),
        original[..original.len() / 2].to_vec(),
        b"\xff\x00not json".to_vec(),
    ] {
        std::fs::write(&entry, &damaged).unwrap();
        assert_eq!(h.check(&[], None), cold);
        assert_eq!(std::fs::read(&entry).unwrap(), original);
    }
    assert_eq!(h.renders(), 1);

    // A planted render text (a Deployment reading an unsealed secret) under the old tag: a
    // miss too, so kubectl renders and the planted object is never seen.
    let [text] = h.text_entries().try_into().expect("one text entry");
    let text_bytes = std::fs::read(&text).unwrap();
    let deployment = "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: planted\nspec:\n  template:\n    spec:\n      containers:\n      - name: c\n        env:\n        - name: A\n          valueFrom:\n            secretKeyRef: {name: planted-secret, key: planted-key}\n";
    std::fs::write(&text, [&text_bytes[..], deployment.as_bytes()].concat()).unwrap();
    std::fs::remove_file(&entry).unwrap();
    assert_eq!(h.check(&[], None), cold, "the planted render is not used");
    assert_eq!(h.renders(), 2, "planted text: renders");

    // An entry that cannot be read or replaced (a directory in its place): the check still
    // runs and reports the same, every time.
    std::fs::remove_file(&entry).unwrap();
    std::fs::create_dir(&entry).unwrap();
    assert_eq!(h.check(&[], None), cold);
    assert_eq!(h.check(&[], None), cold);
    assert_eq!(h.renders(), 2, "the cached text still serves");
    assert!(entry.is_dir());
}

/// Entries age out: a used one is renewed, an unused one is removed after 30 days by the next
/// `check` that stores an entry; a warm `check` stores nothing and removes nothing.
#[test]
fn unused_entries_age_out_and_used_ones_stay() {
    let Some(h) = Harness::new(TestRepo::prod()) else {
        return;
    };
    h.check(&[], None);
    let [used] = &h.entries()[..] else {
        panic!("one entry: {:?}", h.entries())
    };
    let dir = used.parent().unwrap().to_path_buf();
    let now = std::time::SystemTime::now();
    let days = |count: u64| std::time::Duration::from_secs(count * 24 * 60 * 60);
    let age = |path: &Path, by: std::time::Duration| {
        let file = std::fs::File::options().write(true).open(path).unwrap();
        file.set_modified(now - by).unwrap();
    };
    let modified = |path: &Path| std::fs::metadata(path).unwrap().modified().unwrap();
    // An entry of an environment since changed (or of an older format), unused for 31 days.
    let stale = dir.join(format!("{}.json", "0".repeat(64)));
    std::fs::write(&stale, "{}").unwrap();
    age(&stale, days(31));
    // The entry in use, last renewed 40 days ago.
    age(used, days(40));
    let kept = dir.join("README");
    std::fs::write(&kept, "not ours").unwrap();
    age(&kept, days(400));

    h.check(&[], None);
    assert_eq!(h.renders(), 1, "warm");
    assert!(stale.exists(), "a warm check lists nothing");
    assert!(
        now.duration_since(modified(used)).unwrap_or_default() < days(1),
        "the entry used was renewed"
    );

    let env_yaml = h.repo.read("environments/prod/env.yaml");
    h.repo.write(
        "environments/prod/env.yaml",
        &env_yaml.replace("replicas: 1", "replicas: 2"),
    );
    h.repo.ok(&["build"]);
    h.check(&[], None);
    assert_eq!(h.renders(), 2, "changed: renders and stores");
    assert!(!stale.exists(), "unused for 31 days: removed");
    assert!(used.exists(), "renewed yesterday at the latest: kept");
    assert!(kept.exists(), "a file that is not ours is never removed");
    assert_eq!(h.entries().len(), 2);
}

/// kubectl upgraded behind a wrapper script that does not change (#23): the version memo is
/// keyed on the wrapper, so it is trusted for a day at most; the next day's run asks kubectl
/// again, sees the new version and renders afresh.
#[test]
fn a_kubectl_upgraded_behind_a_wrapper_is_noticed_within_a_day() {
    let Some(h) = Harness::new(TestRepo::prod()) else {
        return;
    };
    let generation = h.tools.path().join("generation");
    std::fs::write(&generation, "1").unwrap();
    let script = h.tools.path().join("bin/kubectl");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$*\" >> '{log}'\n\
             if [ \"$1\" = version ]; then '{real}' \"$@\" || exit; cat '{generation}'; exit 0; fi\n\
             exec '{real}' \"$@\"\n",
            log = h.log.display(),
            real = h.real.display(),
            generation = generation.display()
        ),
    )
    .unwrap();
    let cold = h.check(&[], None);
    assert_eq!((h.renders(), h.versions()), (1, 1));
    std::fs::write(&generation, "2").unwrap();
    assert_eq!(h.check(&[], None), cold);
    assert_eq!(
        (h.renders(), h.versions()),
        (1, 1),
        "the same day: the memo holds"
    );
    // A day later: the memo is read again from kubectl, which is another version now.
    let memo = std::fs::read_dir(h.repo.home.path().join(".cache/dbos-gitops/render"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .find(|path| path.extension().is_some_and(|ext| ext == "version"))
        .expect("a version memo");
    let file = std::fs::File::options().write(true).open(&memo).unwrap();
    file.set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(25 * 3600))
        .unwrap();
    assert_eq!(h.check(&[], None), cold);
    assert_eq!(
        (h.renders(), h.versions()),
        (2, 2),
        "next day: asked, renders"
    );
}

/// A cache directory others can write (a shared 1777 `DBOS_GITOPS_CACHE_DIR`) is not used at
/// all (#23): every check renders, and nothing is stored in it for others to read; an entry
/// owned by another user (when the test can make one) is a miss.
#[test]
fn a_cache_others_can_write_is_not_used() {
    let Some(h) = Harness::new(TestRepo::prod()) else {
        return;
    };
    use std::os::unix::fs::PermissionsExt as _;
    let shared = h.tools.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let cold = h.check(&[], Some(&shared));
    assert_eq!(h.check(&[], Some(&shared)), cold);
    assert_eq!(
        h.renders(),
        2,
        "a world-writable cache: every check renders"
    );
    assert_eq!(
        std::fs::read_dir(&shared).unwrap().count(),
        0,
        "nothing stored"
    );
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o775)).unwrap();
    h.check(&[], Some(&shared));
    assert_eq!(h.renders(), 3, "group-writable: the same");

    // Our own private cache works; an entry given to another user is not used.
    h.check(&[], None);
    h.check(&[], None);
    assert_eq!(h.renders(), 4);
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("not root: the foreign-owner case is not run");
        return;
    }
    for entry in h.entries().iter().chain(&h.text_entries()) {
        std::os::unix::fs::chown(entry, Some(65534), Some(65534)).unwrap();
    }
    assert_eq!(h.check(&[], None), cold);
    assert_eq!(h.renders(), 5, "entries of another user: renders");
}
