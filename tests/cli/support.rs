//! The test harness: a temporary repository, the real binary, and real tools.

#![allow(dead_code)]

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::SystemTime;

pub const REPO_URL: &str = "https://github.com/acme/dbos-deploy.git";

/// The tests' one clock, 2026-11-28T00:00:00Z (`DBOS_GITOPS_NOW` on every run of the binary):
/// certificates are minted and judged at the same instant whatever day the suite runs. It lies
/// inside the validity of the upstream Go fixture certificate (2026-11-27T05:14:02Z to
/// 2036-11-24T05:14:02Z).
pub const TEST_NOW: i64 = 1_795_824_000;

/// The Conductor and Console release test environments pin.
pub const TEST_CONDUCTOR_VERSION: &str = "1.0.0-test";

pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_dbos-gitops"))
}

pub fn project_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

// Skips, the throwaway PostgreSQL and the Python bridge are shared with the crates' suites.
#[allow(unused_imports)]
pub use dbos_gitops_test_support::postgres::{
    closed_port, connect, server_url, with_database, with_password, TestDb,
};
pub use dbos_gitops_test_support::skip::{in_ci, require_tool, skip_loudly, skip_or_fail_in_ci};

/// Runs `command` with `input` on its stdin and captures stdout and stderr. A command that
/// exits before reading its input (a refusal) closes the pipe: that is not an error here.
pub fn pipe(command: &mut Command, input: &[u8]) -> Output {
    use std::io::Write as _;
    let mut child = command
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("cannot run {command:?}: {error}"));
    if let Err(error) = child.stdin.take().expect("stdin").write_all(input) {
        assert_eq!(
            error.kind(),
            std::io::ErrorKind::BrokenPipe,
            "write stdin: {error}"
        );
    }
    child.wait_with_output().expect("wait")
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn from(output: Output) -> Self {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

pub struct TestRepo {
    pub dir: tempfile::TempDir,
    /// `$HOME` of the commands: development keys go to `$HOME/.config`, outside the repo.
    pub home: tempfile::TempDir,
}

impl TestRepo {
    pub fn empty() -> Self {
        TestRepo {
            dir: tempfile::tempdir().expect("temp dir"),
            home: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// The development private key `init env` made for `env`.
    pub fn dev_key(&self, env: &str) -> PathBuf {
        let dir = self.home.path().join(".config/dbos-gitops/dev-keys");
        std::fs::read_dir(&dir)
            .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
            .map(|entry| entry.unwrap().path())
            .find(|path| path.to_string_lossy().ends_with(&format!("-{env}.key.pem")))
            .unwrap_or_else(|| panic!("no development key for {env}"))
    }

    /// `init` done.
    pub fn new() -> Self {
        let repo = Self::empty();
        repo.ok(&["init", "--repo-url", REPO_URL]);
        repo
    }

    /// `init` and `init env NAME` with the given extra flags, Conductor and Console pinned to
    /// `TEST_CONDUCTOR_VERSION`, sealing with the upstream Go
    /// fixture certificate (whose private key the tests hold) unless the flags name a `--cert`.
    pub fn with_env(name: &str, flags: &[&str]) -> Self {
        let cert = fixture("go-cert.pem").to_string_lossy().into_owned();
        let mut all = flags.to_vec();
        if !flags.contains(&"--cert") {
            all.extend_from_slice(&["--cert", &cert]);
        }
        // Pinned, as `check` wants them (an unpinned image is a warning of its own).
        if !flags.contains(&"--conductor-version") {
            all.extend_from_slice(&["--conductor-version", TEST_CONDUCTOR_VERSION]);
        }
        Self::with_dev_env(name, &all)
    }

    /// `init env NAME` in this repository as `with_env` makes its first one: the Go fixture
    /// certificate, the pinned test Conductor, the Ingress.
    pub fn add_env(&self, name: &str) -> String {
        let cert = fixture("go-cert.pem").to_string_lossy().into_owned();
        self.ok(&[
            "init",
            "env",
            name,
            "--cert",
            &cert,
            "--conductor-version",
            TEST_CONDUCTOR_VERSION,
            "--ingress-class",
            "nginx",
        ])
    }

    /// `version add VERSION --env ENV --image ghcr.io/acme/app:VERSION`.
    pub fn add_version(&self, version: &str, env: &str) -> String {
        let image = format!("ghcr.io/acme/app:{version}");
        self.ok(&["version", "add", version, "--env", env, "--image", &image])
    }

    /// The usual test environment: `prod` on `dbos.acme.com` with `v1` of the app.
    pub fn prod() -> Self {
        Self::with_env(
            "prod",
            &[
                "--domain",
                "dbos.acme.com",
                "--app-image",
                "ghcr.io/acme/app:v1",
            ],
        )
    }

    /// `init` and `init env NAME` with exactly these flags: without `--cert` the command makes
    /// a development key pair (4096-bit RSA).
    pub fn with_dev_env(name: &str, flags: &[&str]) -> Self {
        let repo = Self::new();
        let mut arguments = vec!["init", "env", name];
        arguments.extend_from_slice(flags);
        // The suite's environments keep the Ingress they were written for; Gateway API ones
        // (the `init env` default since #21) say so with a `--gateway*` flag.
        let routing_flag =
            |flag: &&str| flag.starts_with("--gateway") || flag.starts_with("--ingress-class");
        if !flags.iter().any(routing_flag) {
            arguments.extend_from_slice(&["--ingress-class", "nginx"]);
        }
        repo.ok(&arguments);
        repo
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn run(&self, arguments: &[&str]) -> Run {
        self.run_with_stdin(arguments, None)
    }

    /// The binary with these arguments, run in the repo with its own `$HOME`, the tests' frozen
    /// clock, and none of the user's configuration or database URL.
    pub fn command(&self, arguments: &[&str]) -> Command {
        self.command_under(&[], arguments)
    }

    /// [`TestRepo::command`] run under `wrapper` (a debugger, say): `wrapper… binary arguments…`.
    pub fn command_under(&self, wrapper: &[&str], arguments: &[&str]) -> Command {
        let mut command = match wrapper.split_first() {
            None => Command::new(binary()),
            Some((program, rest)) => {
                let mut command = Command::new(program);
                command.args(rest).arg(binary());
                command
            }
        };
        command
            .args(arguments)
            .current_dir(self.path())
            .env("HOME", self.home.path())
            .env("DBOS_GITOPS_NOW", TEST_NOW.to_string())
            .env_remove("XDG_CONFIG_HOME")
            // The render cache of `check` goes to this test's own `$HOME/.cache`.
            .env_remove("XDG_CACHE_HOME")
            .env_remove("DBOS_GITOPS_CACHE_DIR")
            .env_remove("DBOS_SYSTEM_DATABASE_URL");
        command
    }

    pub fn run_with_stdin(&self, arguments: &[&str], stdin: Option<&[u8]>) -> Run {
        Run::from(pipe(
            &mut self.command(arguments),
            stdin.unwrap_or_default(),
        ))
    }

    /// Runs and asserts exit 0; returns stdout.
    pub fn ok(&self, arguments: &[&str]) -> String {
        let run = self.run(arguments);
        assert_eq!(
            run.code, 0,
            "dbos-gitops {arguments:?} failed\nstdout:\n{}\nstderr:\n{}",
            run.stdout, run.stderr
        );
        run.stdout
    }

    /// Runs and asserts the exit code; returns the run.
    pub fn fails(&self, arguments: &[&str], code: i32) -> Run {
        let run = self.run(arguments);
        assert_eq!(
            run.code, code,
            "dbos-gitops {arguments:?}: expected exit {code}\nstdout:\n{}\nstderr:\n{}",
            run.stdout, run.stderr
        );
        run
    }

    pub fn read(&self, relative: &str) -> String {
        std::fs::read_to_string(self.path().join(relative))
            .unwrap_or_else(|error| panic!("read {relative}: {error}"))
    }

    pub fn write(&self, relative: &str, text: &str) {
        let path = self.path().join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    pub fn exists(&self, relative: &str) -> bool {
        self.path().join(relative).exists()
    }

    /// Every file (but .git) with its bytes and modification time.
    pub fn snapshot(&self) -> BTreeMap<String, (Vec<u8>, SystemTime)> {
        let mut files = BTreeMap::new();
        let mut stack = vec![self.path().to_path_buf()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                let relative = path
                    .strip_prefix(self.path())
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                if relative.starts_with(".home")
                    || relative.starts_with(".git/")
                    || relative == ".git"
                {
                    continue;
                }
                if path.is_dir() {
                    stack.push(path);
                } else {
                    let modified = std::fs::metadata(&path).unwrap().modified().unwrap();
                    files.insert(relative, (std::fs::read(&path).unwrap(), modified));
                }
            }
        }
        files
    }

    /// `kubectl kustomize environments/<env>` parsed into objects; panics with kubectl's error.
    pub fn kustomize(&self, env: &str) -> Vec<Value> {
        let output = Command::new("kubectl")
            .args(["kustomize", &format!("environments/{env}")])
            .current_dir(self.path())
            .output()
            .expect("run kubectl");
        assert!(
            output.status.success(),
            "kubectl kustomize environments/{env} failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        parse_yaml_stream(&String::from_utf8_lossy(&output.stdout))
    }

    pub fn kustomize_text(&self, dir: &str) -> String {
        let output = Command::new("kubectl")
            .args(["kustomize", dir])
            .current_dir(self.path())
            .output()
            .expect("run kubectl");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }
}

pub fn parse_yaml_stream(text: &str) -> Vec<Value> {
    serde_yaml::Deserializer::from_str(text)
        .map(|document| serde::Deserialize::deserialize(document).expect("yaml"))
        .filter(|value: &Value| !value.is_null())
        .collect()
}

/// The object of that kind and name; panics listing what there is.
pub fn find<'a>(objects: &'a [Value], kind: &str, name: &str) -> &'a Value {
    objects
        .iter()
        .find(|object| object["kind"] == kind && object["metadata"]["name"] == name)
        .unwrap_or_else(|| {
            let present: Vec<String> = objects
                .iter()
                .map(|object| format!("{}/{}", object["kind"], object["metadata"]["name"]))
                .collect();
            panic!("no {kind}/{name} among {present:?}")
        })
}

pub fn names_of_kind(objects: &[Value], kind: &str) -> Vec<String> {
    let mut names: Vec<String> = objects
        .iter()
        .filter(|object| object["kind"] == kind)
        .map(|object| object["metadata"]["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

/// The env var `name` of the first container, as a value.
pub fn container_env<'a>(deployment: &'a Value, name: &str) -> Option<&'a Value> {
    deployment["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()?
        .iter()
        .find(|variable| variable["name"] == name)
}

/// The shared CRD schemas (`../shared/schemas`), or `None` after a loud SKIPPED line. CI has
/// them, so under CI a missing directory panics instead.
pub fn shared_schemas() -> Option<PathBuf> {
    let dir = project_root().join("../shared/schemas");
    if dir.is_dir() {
        return Some(dir);
    }
    let why = format!(
        "CRD schema validation of custom resources: `{}` is not there (CI has it)",
        dir.display()
    );
    if in_ci() {
        panic!("{why}, but CI is set: CI must validate custom resources");
    }
    skip_loudly(&why);
    None
}

/// Validates objects with tests/support/validate_manifests.py: built-in kinds always, custom
/// resources when the shared CRD schemas are present.
pub fn validate_schemas(objects: &[Value]) {
    if !require_tool(
        "python3",
        &["-c", "import kubernetes_validate, jsonschema, yaml"],
    ) {
        return;
    }
    let crd_dir = shared_schemas();
    let selected: Vec<&Value> = objects
        .iter()
        .filter(|object| {
            crd_dir.is_some()
                || matches!(
                    object["apiVersion"].as_str().unwrap_or(""),
                    "v1" | "apps/v1" | "batch/v1" | "networking.k8s.io/v1" | "policy/v1"
                )
        })
        .collect();
    let text = selected
        .iter()
        .map(|object| serde_json::to_string(object).unwrap())
        .collect::<Vec<_>>()
        .join("\n---\n");
    let mut command = Command::new("python3");
    command.arg(project_root().join("tests/support/validate_manifests.py"));
    if let Some(dir) = &crd_dir {
        command.arg("--crd-dir").arg(dir);
    }
    command.arg("-");
    let output = pipe(&mut command, text.as_bytes());
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "schema validation failed:\n{report}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        report
            .lines()
            .filter(|line| line.starts_with("ok "))
            .count(),
        selected.len(),
        "{report}"
    );
}

pub fn fixture(name: &str) -> PathBuf {
    project_root()
        .join("tests/fixtures/sealed-secrets-go")
        .join(name)
}

/// Decrypts SealedSecrets with the independent Python implementation of the controller's
/// algorithm (tests/support/independent_unseal.py): `{"ns/name": {"key": base64}}`, or the
/// script's error text; `None` after a loud skip when Python is missing.
pub fn independent_unseal(key: &Path, sealed_yaml: &str) -> Option<Result<Value, String>> {
    if !dbos_gitops_test_support::python::python_available() {
        return None;
    }
    Some(dbos_gitops_test_support::python::independent_unseal(
        key,
        sealed_yaml,
    ))
}

pub fn base64_text(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// `{file: None | Some(error)}` from `tests/support/validate_schema.py`, or `None` when Python
/// `jsonschema` is missing (a loud skip, a failure in CI).
pub fn schema_verdicts(
    schema: &Path,
    files: &[&Path],
) -> Option<serde_json::Map<String, serde_json::Value>> {
    if !require_tool("python3", &["-c", "import jsonschema, yaml"]) {
        return None;
    }
    let output = Command::new("python3")
        .arg(project_root().join("tests/support/validate_schema.py"))
        .arg(schema)
        .args(files)
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(serde_json::from_slice(&output.stdout).expect("json"))
}

/// Rewrites `environments/<env>/env.yaml` with `edit`, which must change it.
pub fn edit_env(repo: &TestRepo, env: &str, edit: impl Fn(String) -> String) {
    let path = format!("environments/{env}/env.yaml");
    let before = repo.read(&path);
    let after = edit(before.clone());
    assert_ne!(before, after, "the edit changed nothing");
    repo.write(&path, &after);
}

/// `git ARGUMENTS` in `dir` as a test user (no signing, branch `main`, no global configuration
/// needed), not run yet: for a test that sets more on it.
pub fn git_command(dir: &Path, arguments: &[&str]) -> Command {
    let mut command = Command::new("git");
    command
        .current_dir(dir)
        .args(["-c", "user.name=Test", "-c", "user.email=test@example.com"])
        .args(["-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false"])
        .args([
            "-c",
            "init.defaultBranch=main",
            "-c",
            "advice.detachedHead=false",
        ])
        .args(arguments);
    command
}

/// [`git_command`], run and asserted to succeed: its standard output.
pub fn git(dir: &Path, arguments: &[&str]) -> String {
    let output = git_command(dir, arguments).output().expect("git runs");
    assert!(
        output.status.success(),
        "git {arguments:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The repository at `dir` committed as it is (`git init` first when it is not one yet).
pub fn commit_all(dir: &Path, message: &str) {
    if !dir.join(".git").exists() {
        git(dir, &["init", "-q", "-b", "main"]);
    }
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "--allow-empty", "-m", message]);
}
