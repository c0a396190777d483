//! Completion in the real shells (#24 item 3): each shell sources what `dbos-gitops
//! completions SHELL` prints and is asked to complete a partial command line in a repository
//! with two environments; the environment, version and secret names come back from the
//! repository. bash and fish are asked non-interactively (bash through its completion
//! variables, fish with `complete -C`); zsh completes only inside its line editor, so it runs
//! interactively in a tmux pane and gets a real TAB.

use crate::support::*;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// `prod` (versions v1, v2) and `staging` (v1, v3).
fn two_env_repo() -> TestRepo {
    let repo = TestRepo::prod();
    let cert = fixture("go-cert.pem").to_string_lossy().into_owned();
    repo.ok(&[
        "init",
        "env",
        "staging",
        "--domain",
        "staging.acme.com",
        "--app-image",
        "ghcr.io/acme/app:v1",
        "--cert",
        &cert,
        "--conductor-version",
        TEST_CONDUCTOR_VERSION,
        "--ingress-class",
        "nginx",
    ]);
    repo.add_version("v2", "prod");
    repo.add_version("v3", "staging");
    repo
}

/// PATH with the binary under test first: the registration calls `dbos-gitops` by name.
fn path_with_binary() -> String {
    let dir = binary().parent().unwrap().to_path_buf();
    format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

fn registration(repo: &TestRepo, shell: &str) -> std::path::PathBuf {
    let script = repo.ok(&["completions", shell]);
    let file = repo.home.path().join(format!("registration.{shell}"));
    std::fs::write(&file, script).unwrap();
    file
}

fn shell(repo: &TestRepo, program: &str) -> Command {
    let mut command = Command::new(program);
    command
        .current_dir(repo.path())
        .env("HOME", repo.home.path())
        .env("PATH", path_with_binary())
        .env("DBOS_GITOPS_NOW", TEST_NOW.to_string())
        .env_remove("COMPLETE");
    command
}

/// bash: the registered function, called as bash's completion would call it on TAB.
fn bash_complete(repo: &TestRepo, script: &Path, words: &[&str]) -> Vec<String> {
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let program = format!(
        r#"source '{}'
COMP_WORDS=({})
COMP_CWORD={}
COMP_LINE="${{COMP_WORDS[*]}}"
COMP_POINT=${{#COMP_LINE}}
COMP_TYPE=9
function=$(complete -p dbos-gitops | sed -n 's/.*-F \([^ ]*\).*/\1/p')
[ -n "$function" ] || {{ echo "no completion registered for dbos-gitops" >&2; exit 3; }}
"$function" dbos-gitops "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"
printf '%s\n' "${{COMPREPLY[@]}}""#,
        script.display(),
        quoted.join(" "),
        words.len() - 1
    );
    let output = shell(repo, "bash")
        .args(["--norc", "--noprofile", "-c", &program])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "bash: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    lines(&output.stdout)
}

/// fish: `complete -C LINE` prints the candidates (tab, then a description) for LINE.
fn fish_complete(repo: &TestRepo, script: &Path, line: &str) -> Vec<String> {
    let program = format!("source '{}'; complete -C '{line}'", script.display());
    let output = shell(repo, "fish")
        .args(["--no-config", "-c", &program])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "fish: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    lines(&output.stdout)
        .into_iter()
        .map(|line| line.split('\t').next().unwrap_or("").to_string())
        .collect()
}

/// The candidates that are values: clap offers the flags too where a value may stand.
fn lines(bytes: &[u8]) -> Vec<String> {
    let mut lines: Vec<String> = String::from_utf8_lossy(bytes)
        .lines()
        .map(|line| line.trim().to_string())
        .filter(|line| !line.is_empty() && !line.starts_with('-'))
        .collect();
    lines.sort();
    lines
}

fn have(shell: &str) -> bool {
    require_tool(shell, &["-c", "exit 0"])
}

#[test]
fn bash_completes_envs_versions_and_secrets_from_the_repository() {
    if !have("bash") {
        return;
    }
    let repo = two_env_repo();
    let script = registration(&repo, "bash");
    assert_eq!(
        bash_complete(&repo, &script, &["dbos-gitops", "retire", "--env", ""]),
        ["prod", "staging"]
    );
    // After the subcommand and its flag (clap_complete #6421 broke exactly here).
    assert_eq!(
        bash_complete(
            &repo,
            &script,
            &["dbos-gitops", "retire", "--env", "prod", ""]
        ),
        ["v1", "v2"]
    );
    assert_eq!(
        bash_complete(
            &repo,
            &script,
            &[
                "dbos-gitops",
                "version",
                "activate",
                "--env",
                "staging",
                "v"
            ]
        ),
        ["v1", "v3"]
    );
    let secrets = bash_complete(
        &repo,
        &script,
        &[
            "dbos-gitops",
            "secrets",
            "set",
            "--env",
            "prod",
            "conductor-",
        ],
    );
    assert!(secrets.contains(&"conductor-db".to_string()), "{secrets:?}");
    assert!(
        secrets.iter().all(|s| s.starts_with("conductor-")),
        "{secrets:?}"
    );
    let commands = bash_complete(&repo, &script, &["dbos-gitops", "ret"]);
    assert_eq!(commands, ["retire"]);
}

#[test]
fn fish_completes_envs_and_versions_from_the_repository() {
    if !have("fish") {
        return;
    }
    let repo = two_env_repo();
    let script = registration(&repo, "fish");
    assert_eq!(
        fish_complete(&repo, &script, "dbos-gitops retire --env "),
        ["prod", "staging"]
    );
    assert_eq!(
        fish_complete(&repo, &script, "dbos-gitops retire --env staging "),
        ["v1", "v3"]
    );
    assert_eq!(
        fish_complete(
            &repo,
            &script,
            "dbos-gitops version promote v2 --from prod --to st"
        ),
        ["staging"]
    );
    let secrets = fish_complete(&repo, &script, "dbos-gitops secrets set --env prod ");
    assert!(secrets.contains(&"conductor-db".to_string()), "{secrets:?}");
}

/// zsh in a tmux pane: `compinit`, the registration, the partial line and a real TAB; the
/// pane then lists the candidates (or, for one, completes the line).
#[test]
fn zsh_completes_envs_and_versions_under_its_line_editor() {
    if !have("zsh") || !require_tool("tmux", &["-V"]) {
        return;
    }
    let repo = two_env_repo();
    let script = registration(&repo, "zsh");
    let pane = TmuxPane::start(&repo);
    pane.send(&format!(
        "autoload -Uz compinit && compinit -u && source '{}' && clear",
        script.display()
    ));
    pane.send_keys(&["Enter"]);
    pane.wait_for(
        |screen| !screen.contains("compinit"),
        "the prompt after compinit",
    );
    pane.send("dbos-gitops retire --env ");
    pane.send_keys(&["Tab"]);
    let screen = pane.wait_for(
        |screen| screen.contains("prod") && screen.contains("staging"),
        "prod and staging listed",
    );
    assert!(!screen.contains("v1"), "{screen}");
    pane.send_keys(&["C-u"]);
    pane.send("dbos-gitops retire --env staging ");
    pane.send_keys(&["Tab"]);
    let screen = pane.wait_for(
        |screen| screen.contains("v1") && screen.contains("v3"),
        "staging's versions listed",
    );
    assert!(
        !screen.contains("v2"),
        "prod's v2 offered for staging:\n{screen}"
    );
}

/// One tmux server of its own (`-L`), killed when dropped.
struct TmuxPane {
    socket: String,
}

impl TmuxPane {
    fn start(repo: &TestRepo) -> Self {
        let socket = format!("dbos-gitops-test-{}", std::process::id());
        let status = Command::new("tmux")
            .args([
                "-L",
                &socket,
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-x",
                "200",
                "-y",
                "40",
            ])
            .args([
                "env",
                "-u",
                "ZDOTDIR",
                &format!("PATH={}", path_with_binary()),
            ])
            .args([
                &format!("HOME={}", repo.home.path().display()),
                "PS1=%% ",
                "zsh",
                "-f",
                "-i",
            ])
            .current_dir(repo.path())
            .env("DBOS_GITOPS_NOW", TEST_NOW.to_string())
            .status()
            .unwrap();
        assert!(status.success(), "tmux new-session failed");
        TmuxPane { socket }
    }

    fn tmux(&self, arguments: &[&str]) -> String {
        let output = Command::new("tmux")
            .args(["-L", &self.socket])
            .args(arguments)
            .output()
            .unwrap();
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    fn send(&self, text: &str) {
        self.tmux(&["send-keys", "-l", text]);
    }

    fn send_keys(&self, keys: &[&str]) {
        let mut arguments = vec!["send-keys"];
        arguments.extend_from_slice(keys);
        self.tmux(&arguments);
    }

    fn wait_for(&self, done: impl Fn(&str) -> bool, what: &str) -> String {
        let start = Instant::now();
        loop {
            let screen = self.tmux(&["capture-pane", "-p"]);
            if done(&screen) {
                return screen;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "zsh never showed {what}:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for TmuxPane {
    fn drop(&mut self) {
        self.tmux(&["kill-server"]);
    }
}
