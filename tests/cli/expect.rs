//! A small test builder in the style of casey/just's: run the real binary in a repository and
//! compare its whole stdout, whole stderr and exit code with what the test spells out, after
//! regex filters that replace temporary paths (`[REPO]`, `[HOME]`). A mismatch prints a unified
//! diff. `.unchanged()` also asserts that the run left the tree byte-identical.
//!
//! ```ignore
//! Test::in_repo(&repo)
//!     .args(["build", "--env", "nope"])
//!     .status(2)
//!     .stderr("error: ...\n")
//!     .unchanged()
//!     .run();
//! ```

use regex::Regex;

use crate::support::{pipe, Run, TestRepo};

pub struct Test<'a> {
    repo: &'a TestRepo,
    arguments: Vec<String>,
    stdin: Vec<u8>,
    status: i32,
    stdout: String,
    stderr: String,
    filters: Vec<(Regex, String)>,
    unchanged: bool,
}

impl<'a> Test<'a> {
    /// A run in `repo`, expecting exit 0 and empty stdout and stderr until told otherwise.
    pub fn in_repo(repo: &'a TestRepo) -> Self {
        let filters = [
            (repo.path().to_string_lossy().into_owned(), "[REPO]"),
            (repo.home.path().to_string_lossy().into_owned(), "[HOME]"),
        ]
        .into_iter()
        .map(|(path, name)| (Regex::new(&regex::escape(&path)).unwrap(), name.to_string()))
        .collect();
        Test {
            repo,
            arguments: Vec::new(),
            stdin: Vec::new(),
            status: 0,
            stdout: String::new(),
            stderr: String::new(),
            filters,
            unchanged: false,
        }
    }

    pub fn args<const N: usize>(mut self, arguments: [&str; N]) -> Self {
        self.arguments
            .extend(arguments.iter().map(|a| a.to_string()));
        self
    }

    pub fn stdin(mut self, input: &[u8]) -> Self {
        self.stdin = input.to_vec();
        self
    }

    pub fn status(mut self, status: i32) -> Self {
        self.status = status;
        self
    }

    pub fn stdout(mut self, text: &str) -> Self {
        self.stdout = text.to_string();
        self
    }

    pub fn stderr(mut self, text: &str) -> Self {
        self.stderr = text.to_string();
        self
    }

    /// Replaces every match of `pattern` in stdout and stderr before comparing.
    pub fn filter(mut self, pattern: &str, replacement: &str) -> Self {
        self.filters
            .push((Regex::new(pattern).unwrap(), replacement.to_string()));
        self
    }

    /// Also asserts that the run changed no file (content and modification time).
    pub fn unchanged(mut self) -> Self {
        self.unchanged = true;
        self
    }

    #[track_caller]
    pub fn run(self) -> Run {
        let before = self.unchanged.then(|| self.repo.snapshot());
        let arguments: Vec<&str> = self.arguments.iter().map(String::as_str).collect();
        let run = Run::from(pipe(&mut self.repo.command(&arguments), &self.stdin));
        let filtered = |text: &str| {
            self.filters
                .iter()
                .fold(text.to_string(), |text, (pattern, replacement)| {
                    pattern
                        .replace_all(&text, replacement.as_str())
                        .into_owned()
                })
        };
        let (stdout, stderr) = (filtered(&run.stdout), filtered(&run.stderr));
        let mut problems = Vec::new();
        for (name, expected, actual) in [
            ("stdout", &self.stdout, &stdout),
            ("stderr", &self.stderr, &stderr),
        ] {
            if expected != actual {
                let diff = similar::TextDiff::from_lines(expected.as_str(), actual.as_str());
                problems.push(format!(
                    "{name} differs (- expected, + actual):\n{}",
                    diff.unified_diff().context_radius(3)
                ));
            }
        }
        if run.code != self.status {
            problems.push(format!(
                "exit status {}, expected {}",
                run.code, self.status
            ));
        }
        if let Some(before) = before {
            if self.repo.snapshot() != before {
                problems.push("the run changed the tree".to_string());
            }
        }
        assert!(
            problems.is_empty(),
            "dbos-gitops {arguments:?}\n{}",
            problems.join("\n")
        );
        run
    }
}
