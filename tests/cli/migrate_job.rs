//! The migrate Job's command, run as the kubelet would run it: taken from the `kubectl kustomize`
//! output, its `$(VAR)` references expanded from the container's env (the Secret's value for
//! `DBOS_SYSTEM_DATABASE_URL`), then executed with the real DBOS CLI of the app's language in an
//! empty directory (no `dbos-config.yaml`, as in an app image that ships none) against a fresh
//! PostgreSQL database. It must create the DBOS system tables and grant the app role.
//!
//! Python: the `dbos` package's CLI from the test venv. TypeScript: `@dbos-inc/dbos-sdk`
//! installed by `tests/run.sh` into `target/test-node` (`DBOS_GITOPS_TEST_NODE_DIR`), run through
//! `npx --no` from that directory as from an app's root. Neither CLI reads
//! `DBOS_SYSTEM_DATABASE_URL` by itself outside DBOS Cloud; the control runs show that the
//! command without the URL argument fails, so these tests can fail.

use crate::support::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The app role every test grants; created once per server if missing.
const ROLE: &str = "dbos_app_role";

/// The migrate container of `env`'s rendered Job.
fn migrate_container(repo: &TestRepo, env: &str) -> Value {
    let objects = repo.kustomize(env);
    find(&objects, "Job", "dbos-migrate")["spec"]["template"]["spec"]["containers"][0].clone()
}

/// Kubernetes' expansion of `command`/`args`, as its task "Define a Command and Arguments for a
/// Container" states it: `$(NAME)` from the container's env when defined, `$$(NAME)` for a
/// literal `$(NAME)`, a reference to an undefined variable left as written.
fn expand(argument: &str, env: &[(String, String)]) -> String {
    let mut out = String::new();
    let mut rest = argument;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        if let Some(after) = tail.strip_prefix("$$") {
            out.push('$');
            rest = after;
        } else if let Some(inner) = tail.strip_prefix("$(") {
            match inner.find(')') {
                Some(close) => {
                    let name = &inner[..close];
                    match env.iter().find(|(key, _)| key == name) {
                        Some((_, value)) => out.push_str(value),
                        None => out.push_str(&tail[..close + 3]),
                    }
                    rest = &inner[close + 1..];
                }
                None => {
                    out.push_str(tail);
                    rest = "";
                }
            }
        } else {
            out.push('$');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    out
}

/// The container's env with each Secret reference resolved from `secrets` (name/key -> value).
fn resolved_env(container: &Value, secrets: &[(&str, &str, &str)]) -> Vec<(String, String)> {
    container["env"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|entry| {
            let name = entry["name"].as_str().unwrap().to_string();
            let value = match entry.get("value") {
                Some(value) => value.as_str().unwrap().to_string(),
                None => {
                    let reference = &entry["valueFrom"]["secretKeyRef"];
                    secrets
                        .iter()
                        .find(|(secret, key, _)| {
                            reference["name"] == *secret && reference["key"] == *key
                        })
                        .map(|(_, _, value)| value.to_string())
                        .unwrap_or_else(|| panic!("no test value for {reference}"))
                }
            };
            (name, value)
        })
        .collect()
}

/// Runs the container's command (as expanded) in `dir` with only the container's env, `PATH`
/// and `HOME`; returns (exit success, output).
fn run_in(dir: &Path, command: &[String], env: &[(String, String)]) -> (bool, String) {
    let output = Command::new(&command[0])
        .args(&command[1..])
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir)
        .envs(env.iter().map(|(key, value)| (key, value)))
        .output()
        .unwrap_or_else(|error| panic!("running {command:?}: {error}"));
    (
        output.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    )
}

fn ensure_role(server: &str) {
    connect(server)
        .batch_execute(&format!(
            "DO $$ BEGIN CREATE ROLE {ROLE}; EXCEPTION WHEN duplicate_object THEN NULL; \
             WHEN unique_violation THEN NULL; END $$"
        ))
        .unwrap();
}

/// The DBOS tables are there and the app role may use them.
fn assert_migrated(database: &TestDb, output: &str) {
    let mut client = database.client();
    let row = client
        .query_one(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'dbos' \
             AND table_name IN ('workflow_status', 'operation_outputs')",
            &[],
        )
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 2, "no DBOS tables: {output}");
    let granted = client
        .query_one(
            &format!("SELECT has_table_privilege('{ROLE}', 'dbos.workflow_status', 'INSERT')"),
            &[],
        )
        .unwrap();
    assert!(granted.get::<_, bool>(0), "{ROLE} not granted: {output}");
}

/// Migrates with `env`'s Job command in `dir`; then shows that the same command without its
/// URL argument (what was rendered before) fails in the same place.
fn migrate_and_control(repo: &TestRepo, dir: &Path, tag: &str, url_flag: Option<&str>) {
    let Some(server) = server_url(tag) else {
        return;
    };
    ensure_role(&server);
    let database = TestDb::empty(&server, tag);
    let container = migrate_container(repo, "prod");
    let env = resolved_env(
        &container,
        &[("postgres-admin", "database-url", &database.url)],
    );
    let written: Vec<String> = container["command"]
        .as_array()
        .unwrap()
        .iter()
        .map(|part| part.as_str().unwrap().to_string())
        .collect();
    assert!(
        written.contains(&"$(DBOS_SYSTEM_DATABASE_URL)".to_string()),
        "the URL is referenced, never written: {written:?}"
    );
    let command: Vec<String> = written.iter().map(|part| expand(part, &env)).collect();
    let (ok, output) = run_in(dir, &command, &env);
    assert!(ok, "{command:?} failed: {output}");
    assert_migrated(&database, &output);

    // Control: without the URL argument the CLI does not find the database.
    let control_db = TestDb::empty(&server, tag);
    let control_env = resolved_env(
        &container,
        &[("postgres-admin", "database-url", &control_db.url)],
    );
    let mut without: Vec<String> = Vec::new();
    let mut parts = written.iter().peekable();
    while let Some(part) = parts.next() {
        if Some(part.as_str()) == url_flag {
            parts.next();
        } else if part != "$(DBOS_SYSTEM_DATABASE_URL)" {
            without.push(part.clone());
        }
    }
    let (ok, output) = run_in(dir, &without, &control_env);
    assert!(!ok, "{without:?} succeeded without the URL: {output}");
    assert!(output.contains("Missing database URL"), "{output}");
}

#[test]
fn the_python_migrate_job_creates_the_tables_with_only_its_env() {
    if !require_tool("kubectl", &["version", "--client"])
        || !require_tool("dbos", &["migrate", "--help"])
    {
        return;
    }
    let repo = TestRepo::prod();
    let container = migrate_container(&repo, "prod");
    assert_eq!(container["command"][0], "dbos");
    let empty = tempfile::tempdir().unwrap();
    migrate_and_control(&repo, empty.path(), "migrate_py", Some("--sys-db-url"));
}

/// `target/test-node` with `@dbos-inc/dbos-sdk` installed, or `None` after a skip.
fn node_app_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("DBOS_GITOPS_TEST_NODE_DIR").map(PathBuf::from);
    match dir {
        Some(dir) if dir.join("node_modules/.bin/dbos").exists() => Some(dir),
        _ => {
            skip_or_fail_in_ci(
                "DBOS_GITOPS_TEST_NODE_DIR names no directory with @dbos-inc/dbos-sdk installed \
                 (tests/run.sh installs it into target/test-node)",
            );
            None
        }
    }
}

#[test]
fn the_typescript_migrate_job_creates_the_tables_with_only_its_env() {
    if !require_tool("kubectl", &["version", "--client"]) || !require_tool("npx", &["--version"]) {
        return;
    }
    let Some(app) = node_app_dir() else { return };
    let repo = TestRepo::prod();
    edit_env(&repo, "prod", |text| {
        text.replace("language: python", "language: typescript")
    });
    repo.ok(&["build"]);
    let container = migrate_container(&repo, "prod");
    assert_eq!(container["command"][0], "npx");
    migrate_and_control(&repo, &app, "migrate_ts", None);
}

#[test]
fn the_go_migrate_job_passes_the_url_by_its_flag() {
    // No Go CLI here: the shape, as the Go SDK's `cmd/dbos` reads it (`-D/--db-url` first, then
    // a config file's `database_url`, then the env), so a config file cannot win.
    if !require_tool("kubectl", &["version", "--client"]) {
        return;
    }
    let repo = TestRepo::prod();
    edit_env(&repo, "prod", |text| {
        text.replace("language: python", "language: go").replace(
            "    # image: ghcr.io/acme/dbos-migrate:v1",
            "    image: ghcr.io/acme/dbos-cli:v1\n    # was image:",
        )
    });
    repo.ok(&["build"]);
    let container = migrate_container(&repo, "prod");
    let env = resolved_env(
        &container,
        &[("postgres-admin", "database-url", "postgresql://a@h/d")],
    );
    let command: Vec<String> = container["command"]
        .as_array()
        .unwrap()
        .iter()
        .map(|part| expand(part.as_str().unwrap(), &env))
        .collect();
    assert_eq!(
        command,
        [
            "dbos",
            "migrate",
            "--db-url",
            "postgresql://a@h/d",
            "--app-role",
            ROLE
        ]
    );
}

#[test]
fn expansion_follows_the_kubelet() {
    let env = vec![("A".to_string(), "x".to_string())];
    assert_eq!(expand("$(A)", &env), "x");
    assert_eq!(expand("p$(A)q$(B)", &env), "pxq$(B)");
    assert_eq!(expand("$$(A)", &env), "$(A)");
    assert_eq!(expand("$A $(", &env), "$A $(");
}
