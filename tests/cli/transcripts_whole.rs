//! The contract whole (#25): one transcript per scenario, each an `insta` snapshot in
//! `tests/cli/snapshots/`, of every command the scenario runs: the command line, its exit code,
//! its whole stdout and stderr, and which files of the repository it created, changed, touched
//! or removed. A refactor that moves any byte of any output, any exit code or any write shows
//! up as a snapshot diff.
//!
//! The shape follows casey/just's `tests/test.rs` and astral-sh/uv's `crates/uv/tests/` (their
//! `uv_snapshot!` prints `success`, `exit_code`, `----- stdout -----`, `----- stderr -----`
//! after filters of temporary paths): one scenario, one reviewed file.
//!
//! Filters replace only what legitimately varies between runs, each by a named placeholder, and
//! keep every word around it: the temporary directories (`[REPO]`, `[HOME]`, `[TMP]`) and this
//! checkout (`[ROOT]`), SealedSecret ciphertexts (RSA-OAEP of a random session key:
//! `[SEALED]`), digests taken over ciphertexts or freshly minted keys (`[SHA256]`), bcrypt
//! hashes (random salt), the binary's commit, the test database's name and port, and the pid
//! of a lock holder. Dates are not filtered: every run sees the tests' frozen clock
//! (`DBOS_GITOPS_NOW`, `support::TEST_NOW`).
//!
//! Regenerate after an intended change: `INSTA_UPDATE=always cargo test --test cli
//! transcripts_whole`, then review `git diff tests/cli/snapshots`. `INSTA_UPDATE=no` (or
//! `CI=true`) fails on any difference and writes nothing.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::process::Command;
use std::time::SystemTime;

use regex::Regex;

use crate::support::{pipe, project_root, Run, TestRepo, REPO_URL};

mod refusals;
mod review;
mod secrets;
mod setup;
mod versions;

type Tree = BTreeMap<String, (Vec<u8>, SystemTime)>;

/// One scenario's transcript, built step by step and compared once at the end.
pub struct Transcript<'a> {
    repo: &'a TestRepo,
    /// A scratch directory outside the repository (input files, outputs of `unseal -o`).
    pub scratch: tempfile::TempDir,
    text: String,
    filters: Vec<(Regex, String)>,
}

impl<'a> Transcript<'a> {
    pub fn new(repo: &'a TestRepo) -> Self {
        let scratch = tempfile::tempdir().expect("temp dir");
        let mut paths = [
            (repo.path().to_path_buf(), "[REPO]"),
            (repo.home.path().to_path_buf(), "[HOME]"),
            (scratch.path().to_path_buf(), "[TMP]"),
            (project_root(), "[ROOT]"),
        ];
        // The longest first: a temporary directory may sit inside another one.
        paths.sort_by_key(|(path, _)| std::cmp::Reverse(path.as_os_str().len()));
        let mut filters: Vec<(Regex, String)> = paths
            .iter()
            .map(|(path, name)| {
                let escaped = regex::escape(&path.to_string_lossy());
                (Regex::new(&escaped).unwrap(), name.to_string())
            })
            .collect();
        for (pattern, replacement) in FILTERS {
            filters.push((Regex::new(pattern).unwrap(), replacement.to_string()));
        }
        Transcript {
            repo,
            scratch,
            text: String::new(),
            filters,
        }
    }

    /// Adds a filter of this scenario's own (a database name, a pid).
    pub fn filter(&mut self, pattern: &str, replacement: &str) -> &mut Self {
        self.filters
            .push((Regex::new(pattern).unwrap(), replacement.to_string()));
        self
    }

    /// A path in the scratch directory, as a string for an argument.
    pub fn scratch_path(&self, name: &str) -> String {
        self.scratch
            .path()
            .join(name)
            .to_string_lossy()
            .into_owned()
    }

    /// A comment line in the transcript, saying what the next steps show.
    pub fn say(&mut self, comment: &str) -> &mut Self {
        writeln!(self.text, "# {comment}").unwrap();
        self
    }

    pub fn run(&mut self, arguments: &[&str]) -> &mut Self {
        self.step(arguments, &[], None)
    }

    pub fn run_stdin(&mut self, arguments: &[&str], stdin: &str) -> &mut Self {
        self.step(arguments, &[], Some(stdin))
    }

    /// A run with extra environment variables, shown before the command as a shell would.
    pub fn run_env(&mut self, arguments: &[&str], variables: &[(&str, &str)]) -> &mut Self {
        self.step(arguments, variables, None)
    }

    /// Runs the binary in the repository and records the step.
    pub fn step(
        &mut self,
        arguments: &[&str],
        variables: &[(&str, &str)],
        stdin: Option<&str>,
    ) -> &mut Self {
        let before = self.repo.snapshot();
        let mut command = self.repo.command(arguments);
        // Fixed colour: none, whatever the terminal the suite runs in.
        command.env("NO_COLOR", "1").env_remove("CLICOLOR_FORCE");
        for (name, value) in variables {
            command.env(name, value);
        }
        let run = Run::from(pipe(&mut command, stdin.unwrap_or_default().as_bytes()));
        let after = self.repo.snapshot();
        self.record(arguments, variables, stdin, &run, &before, &after);
        self
    }

    /// Runs another program (git, flock) in the repository; only its failure is recorded.
    pub fn shell(&mut self, program: &str, arguments: &[&str]) -> &mut Self {
        let output = Command::new(program)
            .args(arguments)
            .current_dir(self.repo.path())
            .output()
            .unwrap_or_else(|error| panic!("cannot run {program}: {error}"));
        assert!(
            output.status.success(),
            "{program} {arguments:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        writeln!(self.text, "$ {program} {}\n", arguments.join(" ")).unwrap();
        self
    }

    /// Commits the repository as it is (a git repository made on first use), as a user would
    /// before `diff`.
    pub fn commit(&mut self, message: &str) -> &mut Self {
        let identity = [
            "-c",
            "user.name=Test",
            "-c",
            "user.email=test@example.com",
            "-c",
            "commit.gpgsign=false",
        ];
        if !self.repo.exists(".git") {
            self.shell("git", &["init", "-q", "-b", "main"]);
        }
        self.shell("git", &["add", "-A"]);
        let commit = [&identity[..], &["commit", "-q", "-m", message]].concat();
        self.shell("git", &commit)
    }

    /// Shows a file's content as `cat` would, relative to the repository or absolute.
    pub fn cat(&mut self, path: &str) -> &mut Self {
        let full = self.repo.path().join(path);
        let text = std::fs::read_to_string(&full)
            .unwrap_or_else(|error| panic!("read {}: {error}", full.display()));
        writeln!(self.text, "$ cat {path}\n{text}").unwrap();
        self
    }

    /// Writes a file in the repository by hand (a user's edit) and says so.
    pub fn edit(&mut self, relative: &str, edit: impl Fn(String) -> String) -> &mut Self {
        let before = self.repo.read(relative);
        let after = edit(before.clone());
        assert_ne!(before, after, "the edit of {relative} changed nothing");
        self.repo.write(relative, &after);
        writeln!(self.text, "$ $EDITOR {relative}\n").unwrap();
        self
    }

    fn record(
        &mut self,
        arguments: &[&str],
        variables: &[(&str, &str)],
        stdin: Option<&str>,
        run: &Run,
        before: &Tree,
        after: &Tree,
    ) {
        let mut line = String::from("$ ");
        for (name, value) in variables {
            write!(line, "{name}={value} ").unwrap();
        }
        line.push_str("dbos-gitops");
        for argument in arguments {
            line.push(' ');
            line.push_str(argument);
        }
        let text = &mut self.text;
        writeln!(text, "{line}").unwrap();
        if let Some(stdin) = stdin {
            writeln!(text, "----- stdin -----\n{stdin}").unwrap();
        }
        writeln!(text, "exit: {}", run.code).unwrap();
        writeln!(text, "----- stdout -----\n{}", run.stdout).unwrap();
        writeln!(text, "----- stderr -----\n{}", run.stderr).unwrap();
        writeln!(text, "----- files -----\n{}", changes(before, after)).unwrap();
    }

    /// Compares the filtered transcript with `tests/cli/snapshots/<name>.snap`.
    #[track_caller]
    pub fn snapshot(&self, name: &str) {
        let text = self
            .filters
            .iter()
            .fold(self.text.clone(), |text, (pattern, replacement)| {
                pattern
                    .replace_all(&text, replacement.as_str())
                    .into_owned()
            });
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path("snapshots");
        settings.set_prepend_module_to_snapshot(false);
        settings.set_omit_expression(true);
        settings.bind(|| insta::assert_snapshot!(name, text));
    }
}

/// What varies from run to run and nothing more; each pattern names what it hides.
const FILTERS: &[(&str, &str)] = &[
    // A SealedSecret value: the 2-byte length of the RSA-OAEP-wrapped session key (512 bytes
    // for a 4096-bit certificate: `0x0200`, base64 `Ag` then one of `A`-`D`), the wrapped key, the AES-GCM
    // ciphertext; sealed-secrets' `crypto.HybridEncrypt` draws the session key at random.
    (r"Ag[A-D][A-Za-z0-9+/]{600,}={0,2}", "[SEALED]"),
    // The pod-template digest over the sealed manifests it mounts (random ciphertexts).
    // The emitter quotes a digest that could read as a number (`"0e41…"`, all digits): the
    // quotes come and go with the random value, so they go with it.
    (
        r#"(dbos-gitops\.io/secrets-sha256: )"?[0-9a-f]{64}"?"#,
        "${1}[SHA256]",
    ),
    // The same digest where `diff` names the field and its old and new values on one line
    // (text and markdown): twice, for the old value and the new one.
    (r"(secrets-sha256[^\n]*?)[0-9a-f]{64}", "${1}[SHA256]"),
    (r"(secrets-sha256[^\n]*?)[0-9a-f]{64}", "${1}[SHA256]"),
    // ... and in `diff --format json`, whose `old`/`new` hold a bare digest only for it.
    (r#"("(?:old|new)": ")[0-9a-f]{64}""#, "${1}[SHA256]\""),
    // markdown's shortened digest (12 hex digits and an ellipsis), old and new.
    (r"(secrets-sha256[^\n]*?)[0-9a-f]{12}…", "${1}[SHA256]…"),
    (r"(secrets-sha256[^\n]*?)[0-9a-f]{12}…", "${1}[SHA256]…"),
    // Value MACs (HMAC-SHA256 under the per-user key made on first seal, base64 of 32 bytes)
    // in the `value-macs` annotation, plain or JSON-escaped, and that key's id (quoted when it
    // could read as a number).
    (
        r#"(\\?":\\?")[A-Za-z0-9+/]{43}=(\\?")"#,
        "${1}[VALUE-MAC]${2}",
    ),
    (
        r#"(value-mac-key-id: )"?[0-9a-f]{16}"?"#,
        "${1}[MAC-KEY-ID]",
    ),
    // A development key's file name: the id of a freshly generated key pair.
    (r"(dev-keys/)[0-9a-f]{12}-", "${1}[KEY-ID]-"),
    // Dex user ids (random UUIDv4 made by `dex add-user`). With the quotes YAML puts around the
    // ones that could read as numbers (`0e4f…`), which vary with the value too.
    (
        r#"(user-id: )"?[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"?"#,
        "${1}[UUID]",
    ),
    // The git commit `diff --format json` compared with (its hash has the commit's time in it).
    (r#"("commit": ")[0-9a-f]{40}""#, "${1}[GIT-COMMIT]\""),
    // bcrypt's `$2b$COST$` then 22 characters of random salt and 31 of hash.
    (r"\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}", "[BCRYPT-COST-$1]"),
    // The commit the binary was built from (build.rs).
    (r"\(commit [0-9a-f]{7,40}\)", "(commit [COMMIT])"),
    // The pid of the process holding the repository lock.
    (r"held by pid \d+", "held by pid [PID]"),
];

/// The files a step created, changed (bytes), touched (rewritten with the same bytes) or
/// removed, one a line, sorted; `unchanged` when there were none.
fn changes(before: &Tree, after: &Tree) -> String {
    let mut lines = Vec::new();
    for (path, (bytes, modified)) in after {
        match before.get(path) {
            None => lines.push(format!("created {path}")),
            Some((old, _)) if old != bytes => lines.push(format!("changed {path}")),
            Some((_, old_modified)) if old_modified != modified => {
                lines.push(format!("touched {path}"))
            }
            Some(_) => {}
        }
    }
    for path in before.keys().filter(|path| !after.contains_key(*path)) {
        lines.push(format!("removed {path}"));
    }
    if lines.is_empty() {
        return "unchanged\n".to_string();
    }
    lines.sort_by(|a, b| path_of(a).cmp(path_of(b)));
    lines.join("\n") + "\n"
}

fn path_of(line: &str) -> &str {
    line.split_once(' ').map_or(line, |(_, path)| path)
}

/// The upstream Go fixture certificate and key (tests/fixtures/sealed-secrets-go).
pub fn go_cert() -> String {
    fixture("go-cert.pem")
}

pub fn go_key() -> String {
    fixture("go-key.pem")
}

fn fixture(name: &str) -> String {
    crate::support::fixture(name).to_string_lossy().into_owned()
}

/// An empty directory to run `init` in, as a `TestRepo` (no repository yet).
pub fn empty() -> TestRepo {
    TestRepo::empty()
}

/// `init --repo-url REPO_URL`.
pub fn init_arguments() -> [&'static str; 3] {
    ["init", "--repo-url", REPO_URL]
}

/// The `prod` environment of `TestRepo::prod` spelled out: the Ingress, the Go fixture
/// certificate, the pinned test Conductor, `v1` of the app.
pub fn init_prod_arguments(cert: &str) -> Vec<String> {
    [
        "init",
        "env",
        "prod",
        "--domain",
        "dbos.acme.com",
        "--app-image",
        "ghcr.io/acme/app:v1",
        "--cert",
        cert,
        "--conductor-version",
        crate::support::TEST_CONDUCTOR_VERSION,
        "--ingress-class",
        "nginx",
    ]
    .map(String::from)
    .to_vec()
}

/// `Vec<String>` as the `&[&str]` the steps take.
pub fn strs(arguments: &[String]) -> Vec<&str> {
    arguments.iter().map(String::as_str).collect()
}
