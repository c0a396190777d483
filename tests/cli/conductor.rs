//! `conductor register` (#22) against the specification server (tests/support/
//! conductor_spec_server.py): every request and answer validated against Conductor's own OpenAPI
//! 3.1 file, the key it issues decrypted from the sealed secret by the independent decrypter,
//! the order of `--rotate`'s steps read from what the sealed file held when the old key was
//! deleted, and one message and exit status per error status.

use crate::support::*;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::{Child, Command};

const SPEC: &str = "../shared/fixtures/conductor-openapi/openapi-3.1.json";
const SEALED: &str = "environments/prod/secrets/conductor-api-key.yaml";
const KEY_NAME: &str = "dbos-gitops-prod-my-app";

struct Server {
    child: Child,
    dir: tempfile::TempDir,
    url: String,
}

impl Server {
    /// `None` after a loud skip without Python or the specification.
    fn start(repo: &TestRepo, auth: &str, state: Value) -> Option<Server> {
        let spec = project_root().join(SPEC);
        if !spec.exists() {
            skip_or_fail_in_ci(&format!("no Conductor specification at {}", spec.display()));
            return None;
        }
        if !dbos_gitops_test_support::python::python_available() {
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("state.json"), state.to_string()).unwrap();
        let child = Command::new("python3")
            .arg(project_root().join("tests/support/conductor_spec_server.py"))
            .arg("--spec")
            .arg(&spec)
            .args(["--auth", auth])
            .arg("--state")
            .arg(dir.path().join("state.json"))
            .arg("--state-out")
            .arg(dir.path().join("out.json"))
            .arg("--log")
            .arg(dir.path().join("log.jsonl"))
            .arg("--port-file")
            .arg(dir.path().join("port"))
            .arg("--observe")
            .arg(repo.path().join(SEALED))
            .spawn()
            .expect("start the spec server");
        // Held at once, so that the server is killed (and waited for) on every path.
        let mut server = Server {
            child,
            dir,
            url: String::new(),
        };
        let port_file = server.dir.path().join("port");
        for _ in 0..200 {
            if let Ok(port) = std::fs::read_to_string(&port_file) {
                if !port.is_empty() {
                    server.url = format!("http://127.0.0.1:{}", port.trim());
                    return Some(server);
                }
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("the spec server did not start");
    }

    fn log(&self) -> Vec<Value> {
        std::fs::read_to_string(self.dir.path().join("log.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }

    fn state(&self) -> Value {
        serde_json::from_str(&std::fs::read_to_string(self.dir.path().join("out.json")).unwrap())
            .unwrap()
    }

    fn assert_valid(&self) {
        for record in self.log() {
            assert_eq!(record["violations"], json!([]), "{record}");
        }
    }

    fn operations(&self) -> Vec<String> {
        self.log()
            .iter()
            .map(|record| record["operationId"].as_str().unwrap_or("?").to_string())
            .collect()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn named_repo() -> TestRepo {
    let repo = TestRepo::prod();
    edit_env(&repo, "prod", |text| {
        text.replace("  # name: my-app", "  name: my-app")
    });
    repo.ok(&["build"]);
    repo
}

fn register(repo: &TestRepo, server: &Server, extra: &[&str], token: Option<&str>) -> Run {
    let mut arguments = vec![
        "conductor",
        "register",
        "--env",
        "prod",
        "--conductor-url",
        &server.url,
    ];
    arguments.extend_from_slice(extra);
    let mut command = repo.command(&arguments);
    command.env_remove("DBOS_CONDUCTOR_TOKEN");
    if let Some(token) = token {
        command.env("DBOS_CONDUCTOR_TOKEN", token);
    }
    Run::from(pipe(&mut command, b""))
}

/// The sealed `api-key`, as the independent decrypter opens it from `text`.
fn sealed_key(text: &str) -> Option<String> {
    use base64::Engine as _;
    let result = independent_unseal(&fixture("go-key.pem"), text)?.unwrap();
    let encoded = result["dbos-prod/conductor-api-key"]["api-key"]
        .as_str()
        .unwrap();
    Some(
        String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .unwrap(),
        )
        .unwrap(),
    )
}

fn issued(server: &Server, name: &str) -> String {
    server.state()["tokens"][name]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("no token {name}"))
        .to_string()
}

fn assert_hidden(repo: &TestRepo, runs: &[&Run], key: &str) {
    for run in runs {
        assert!(
            !run.stdout.contains(key) && !run.stderr.contains(key),
            "the key was printed"
        );
    }
    let mut stack = vec![repo.path().to_path_buf(), repo.home.path().to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path: PathBuf = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let bytes = std::fs::read(&path).unwrap();
                assert!(
                    !String::from_utf8_lossy(&bytes).contains(key),
                    "the key in {}",
                    path.display()
                );
            }
        }
    }
}

#[test]
fn register_seals_the_key_conductor_issued_and_rotate_deletes_the_old_one_after_sealing() {
    let repo = named_repo();
    let Some(server) = Server::start(&repo, "noauth", json!({})) else {
        return;
    };
    let first = register(&repo, &server, &[], None);
    assert_eq!(first.code, 0, "{}", first.stderr);
    server.assert_valid();
    assert_eq!(
        server.operations(),
        ["registerApp", "listTokens", "createToken"]
    );
    let create = &server.log()[2];
    assert_eq!(
        create["body"],
        json!({"appNames": ["my-app"], "permissions": ["websocket.connect"]})
    );
    assert!(server.state()["apps"].get("my-app").is_some());
    let key = issued(&server, KEY_NAME);
    let Some(sealed) = sealed_key(&repo.read(SEALED)) else {
        return;
    };
    assert_eq!(sealed, key);

    // Again without --rotate: refused, nothing changed anywhere.
    let before = repo.read(SEALED);
    let again = register(&repo, &server, &[], None);
    assert_eq!(again.code, 1, "{}", again.stderr);
    assert!(
        again.stderr.contains(KEY_NAME) && again.stderr.contains("--rotate"),
        "{}",
        again.stderr
    );
    assert_eq!(repo.read(SEALED), before);
    assert_eq!(server.state()["tokens"].as_object().unwrap().len(), 1);

    // --rotate: a new key is sealed before the old one is deleted.
    let rotate = register(&repo, &server, &["--rotate"], None);
    assert_eq!(rotate.code, 0, "{}", rotate.stderr);
    server.assert_valid();
    let tokens = server.state()["tokens"].as_object().unwrap().clone();
    assert_eq!(tokens.len(), 1, "{tokens:?}");
    let (new_name, record) = tokens.iter().next().unwrap();
    assert!(new_name.starts_with(&format!("{KEY_NAME}-r")), "{new_name}");
    let new_key = record["token"].as_str().unwrap().to_string();
    assert_ne!(new_key, key);
    assert_eq!(sealed_key(&repo.read(SEALED)).unwrap(), new_key);
    let delete = server
        .log()
        .into_iter()
        .find(|record| record["operationId"] == "deleteToken")
        .expect("the old key was deleted");
    assert_eq!(delete["path"], format!("/v2/orgs/local/tokens/{KEY_NAME}"));
    let observed = delete["observed"]
        .as_str()
        .expect("the sealed file existed");
    assert_eq!(
        sealed_key(observed).unwrap(),
        new_key,
        "deleted before the new key was sealed"
    );
    assert_hidden(&repo, &[&first, &again, &rotate], &key);
    assert_hidden(&repo, &[&rotate], &new_key);
}

#[test]
fn register_takes_the_token_from_its_variable_or_file_and_sends_it_as_bearer() {
    let repo = named_repo();
    let state = json!({"callers": {"admin-token-1": ["*"]}});
    let Some(server) = Server::start(&repo, "oauth", state) else {
        return;
    };
    let run = register(&repo, &server, &[], Some("admin-token-1"));
    assert_eq!(run.code, 0, "{}", run.stderr);
    server.assert_valid();
    assert!(server
        .log()
        .iter()
        .all(|record| record["authorization"] == "Bearer admin-token-1"));
    let file = repo.path().join("../token.txt");
    std::fs::write(&file, "admin-token-1\n").unwrap();
    let run = register(
        &repo,
        &server,
        &["--rotate", "--token-file", file.to_str().unwrap()],
        None,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    server.assert_valid();
    std::fs::remove_file(file).unwrap();
}

#[test]
fn each_error_status_has_its_own_message_and_exit_status_and_writes_nothing() {
    let repo = named_repo();
    let cases: [(&str, Value, Option<&str>, i32, &str); 6] = [
        ("oauth", json!({}), None, 2, "(401)"),
        (
            "oauth",
            json!({"callers": {"reader": ["application.read"]}}),
            Some("reader"),
            2,
            "(403)",
        ),
        (
            "noauth",
            json!({"faults": {"registerApp": 404}}),
            None,
            2,
            "(404)",
        ),
        (
            "noauth",
            json!({"faults": {"createToken": 409}}),
            None,
            1,
            "(409)",
        ),
        (
            "noauth",
            json!({"faults": {"registerApp": 503}}),
            None,
            2,
            "(503)",
        ),
        (
            "noauth",
            json!({"faults": {"listTokens": 500}}),
            None,
            2,
            "500",
        ),
    ];
    let before = repo.snapshot();
    for (auth, state, token, code, message) in cases {
        let Some(server) = Server::start(&repo, auth, state.clone()) else {
            return;
        };
        let run = register(&repo, &server, &[], token);
        assert_eq!(run.code, code, "{state}: {}", run.stderr);
        assert!(run.stderr.contains(message), "{state}: {}", run.stderr);
        server.assert_valid();
        assert_eq!(repo.snapshot(), before, "{state}: something was written");
    }
    let unreachable = Run::from(pipe(
        &mut repo.command(&[
            "conductor",
            "register",
            "--env",
            "prod",
            "--conductor-url",
            "http://127.0.0.1:9",
        ]),
        b"",
    ));
    assert_eq!(unreachable.code, 2);
    assert!(
        unreachable.stderr.contains("cannot reach Conductor"),
        "{}",
        unreachable.stderr
    );
}

#[test]
fn register_needs_a_conductor_app_name() {
    let repo = TestRepo::prod();
    let run = repo.fails(
        &[
            "conductor",
            "register",
            "--env",
            "prod",
            "--conductor-url",
            "http://127.0.0.1:9",
        ],
        2,
    );
    assert!(run.stderr.contains("app.name"), "{}", run.stderr);
    edit_env(&repo, "prod", |text| {
        text.replace("  # name: my-app", "  name: My App")
    });
    let run = repo.run(&[
        "conductor",
        "register",
        "--env",
        "prod",
        "--conductor-url",
        "http://127.0.0.1:9",
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let run = repo.fails(
        &[
            "conductor",
            "register",
            "--env",
            "prod",
            "--org",
            "X",
            "--conductor-url",
            "http://127.0.0.1:9",
        ],
        2,
    );
    assert!(run.stderr.contains("--org"), "{}", run.stderr);
}

// `version list|activate` and `retire` with `--conductor-url`, on the same server helper.
#[path = "conductor_versions.rs"]
mod versions;
