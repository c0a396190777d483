//! `database init` and `database rotate` (#22) against a real PostgreSQL 15 that checks
//! passwords: a cluster of our own (tests/support/postgres.sh on another port, its `pg_hba.conf`
//! switched to `scram-sha-256` for every role but the `postgres` superuser the test inspects
//! with), an admin role that is not a superuser (as on RDS) with a password of `'`, `@`, `:`,
//! `/`, `%` and a space. The bootstrap Job's command is taken from `kubectl kustomize`, its env
//! resolved as the kubelet does (`envFrom` the ConfigMap, then `env`, `secretKeyRef`s from the
//! secrets as the independent Python decrypter opens them, `$(VAR)` expanded) and run with the
//! real `psql`; the migrate Job's command likewise with the real `dbos migrate`.

use crate::support::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The port of our own cluster: one the kernel gives free, so two suites on one machine (or a
/// server someone left on a fixed port) never meet.
fn port() -> &'static str {
    static PORT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    PORT.get_or_init(|| {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        listener
            .local_addr()
            .expect("its address")
            .port()
            .to_string()
    })
}
const ADMIN: &str = "dz_admin";
const ADMIN_PASSWORD: &str = "it's @ a:b/c%d e";
const SECRETS: [&str; 3] = ["postgres-admin", "conductor-db", "dbos-app-db"];

/// Our own password-checking cluster, stopped (and deleted) on drop.
struct Cluster {
    tmp: tempfile::TempDir,
}

impl Cluster {
    fn script(&self, action: &str) -> std::process::Output {
        Command::new("bash")
            .arg(project_root().join("tests/support/postgres.sh"))
            .arg(action)
            .env("PGPORT_TEST", port())
            .env("TMPDIR", self.tmp.path())
            .output()
            .expect("run postgres.sh")
    }

    fn start() -> Option<Cluster> {
        if !require_tool("psql", &["--version"]) || !require_tool("initdb", &["--version"]) {
            return None;
        }
        let tmp = tempfile::Builder::new()
            .prefix("dz-pg")
            .tempdir_in("/tmp")
            .unwrap();
        std::fs::set_permissions(
            tmp.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        let cluster = Cluster { tmp };
        let started = cluster.script("start");
        assert!(
            started.status.success(),
            "postgres.sh start: {}",
            String::from_utf8_lossy(&started.stderr)
        );
        let state = std::fs::read_to_string(
            cluster
                .tmp
                .path()
                .join(format!("dbos-gitops-test-postgres-{}.state", port())),
        )
        .unwrap();
        let hba = PathBuf::from(state.trim()).join("data/pg_hba.conf");
        std::fs::write(
            &hba,
            "local all postgres trust\nhost all postgres 127.0.0.1/32 trust\n\
             host all all 127.0.0.1/32 scram-sha-256\n",
        )
        .unwrap();
        cluster.superuser("SELECT pg_reload_conf()");
        Some(cluster)
    }

    /// One SQL statement as the trusted superuser; its output rows, `|`-separated.
    fn superuser(&self, sql: &str) -> String {
        self.superuser_in("postgres", sql)
    }

    fn superuser_in(&self, database: &str, sql: &str) -> String {
        let (ok, output) = psql(
            &format!("postgresql://postgres@127.0.0.1:{}/{database}", port()),
            sql,
        );
        assert!(ok, "{sql}: {output}");
        output
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.script("stop");
    }
}

/// `psql URL -c SQL` (the URL on argv is the test's, never the product's).
fn psql(url: &str, sql: &str) -> (bool, String) {
    let output = Command::new("psql")
        .args(["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", url, "-c", sql])
        .env_remove("PGPASSWORD")
        .output()
        .expect("run psql");
    (
        output.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    )
}

/// Every value of the env's three database secrets, as the independent decrypter opens them.
fn decrypted(repo: &TestRepo) -> Option<BTreeMap<(String, String), String>> {
    use base64::Engine as _;
    let text: Vec<String> = SECRETS
        .iter()
        .map(|name| repo.read(&format!("environments/prod/secrets/{name}.yaml")))
        .collect();
    let result = independent_unseal(&fixture("go-key.pem"), &text.join("---\n"))?.unwrap();
    let mut values = BTreeMap::new();
    for (id, keys) in result.as_object().unwrap() {
        let name = id.rsplit('/').next().unwrap().to_string();
        for (key, encoded) in keys.as_object().unwrap() {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(encoded.as_str().unwrap())
                .unwrap();
            values.insert(
                (name.clone(), key.clone()),
                String::from_utf8(bytes).unwrap(),
            );
        }
    }
    Some(values)
}

/// The kubelet's `$(NAME)` expansion (`$$` a literal `$`, unknown names left as written).
fn expand(text: &str, env: &[(String, String)]) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        if let Some(after) = tail.strip_prefix("$$") {
            out.push('$');
            rest = after;
        } else if let (Some(inner), Some(close)) = (tail.strip_prefix("$("), tail.find(')')) {
            let name = &inner[..close - 2];
            match env.iter().rev().find(|(key, _)| key == name) {
                Some((_, value)) => out.push_str(value),
                None => out.push_str(&tail[..=close]),
            }
            rest = &tail[close + 1..];
        } else {
            out.push('$');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    out
}

/// The container's environment as the kubelet builds it: `envFrom` ConfigMaps first, then
/// `env` in order (values expanded against what precedes them).
fn container_env(
    objects: &[Value],
    container: &Value,
    secrets: &BTreeMap<(String, String), String>,
) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = Vec::new();
    for source in container["envFrom"].as_array().into_iter().flatten() {
        let name = source["configMapRef"]["name"]
            .as_str()
            .expect("configMapRef only");
        for (key, value) in find(objects, "ConfigMap", name)["data"]
            .as_object()
            .unwrap()
        {
            env.push((key.clone(), value.as_str().unwrap().to_string()));
        }
    }
    for entry in container["env"].as_array().into_iter().flatten() {
        let name = entry["name"].as_str().unwrap().to_string();
        let value = match entry.get("value") {
            Some(value) => expand(value.as_str().unwrap(), &env),
            None => {
                let reference = &entry["valueFrom"]["secretKeyRef"];
                let id = (
                    reference["name"].as_str().unwrap().to_string(),
                    reference["key"].as_str().unwrap().to_string(),
                );
                secrets
                    .get(&id)
                    .unwrap_or_else(|| panic!("no sealed value for {id:?}"))
                    .clone()
            }
        };
        env.push((name, value));
    }
    env
}

fn command_of(container: &Value) -> Vec<String> {
    container["command"]
        .as_array()
        .unwrap()
        .iter()
        .chain(container["args"].as_array().into_iter().flatten())
        .map(|part| part.as_str().unwrap().to_string())
        .collect()
}

fn run(command: &[String], env: &[(String, String)], dir: &Path) -> (bool, String) {
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

/// Runs the rendered bootstrap Job once: its SQL ConfigMap mounted (written) where the pod
/// mounts it, its command as expanded. Returns psql's output; panics if it fails.
fn run_bootstrap(repo: &TestRepo, work: &Path) -> String {
    let objects = repo.kustomize("prod");
    let job = find(&objects, "Job", "dbos-database-bootstrap");
    let annotations = &job["metadata"]["annotations"];
    assert_eq!(annotations["argocd.argoproj.io/hook"], "Sync");
    assert_eq!(annotations["argocd.argoproj.io/sync-wave"], "0");
    let pod = &job["spec"]["template"]["spec"];
    let container = &pod["containers"][0];
    assert!(container["image"]
        .as_str()
        .unwrap()
        .starts_with("postgres:17."));
    let mount = &container["volumeMounts"][0];
    let volume = pod["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|volume| volume["name"] == mount["name"])
        .unwrap();
    let sql = find(
        &objects,
        "ConfigMap",
        volume["configMap"]["name"].as_str().unwrap(),
    );
    let mount_path = mount["mountPath"].as_str().unwrap();
    let local = work.join(mount_path.trim_start_matches('/'));
    std::fs::create_dir_all(&local).unwrap();
    for (file, text) in sql["data"].as_object().unwrap() {
        std::fs::write(local.join(file), text.as_str().unwrap()).unwrap();
    }
    let secrets = decrypted(repo).unwrap();
    let env = container_env(&objects, container, &secrets);
    let command: Vec<String> = command_of(container)
        .iter()
        .map(|part| {
            expand(part, &env).replacen(
                &format!("{mount_path}/"),
                &format!("{}/", local.to_string_lossy()),
                1,
            )
        })
        .collect();
    for (_, value) in secrets.iter().filter(|((_, key), _)| key != "database-url") {
        for part in command_of(container) {
            assert!(
                !part.contains(value.as_str()),
                "a secret in the Job's command: {part}"
            );
        }
    }
    let (ok, output) = run(&command, &env, work);
    assert!(ok, "the bootstrap Job failed: {output}");
    output
}

/// What a second run must leave exactly as it was.
fn server_state(cluster: &Cluster) -> String {
    let roles = cluster.superuser(
        "SELECT rolname, rolpassword, rolcanlogin, rolsuper FROM pg_authid \
         WHERE rolname LIKE 'dbos%' OR rolname = 'dz_admin' ORDER BY 1",
    );
    let members = cluster
        .superuser("SELECT roleid::regrole, member::regrole FROM pg_auth_members ORDER BY 1, 2");
    let databases =
        cluster.superuser("SELECT datname, datdba::regrole, datacl FROM pg_database ORDER BY 1");
    let schema = cluster.superuser_in(
        "dbos_conductor",
        "SELECT nspowner::regrole, nspacl FROM pg_namespace WHERE nspname = 'public'",
    );
    format!("{roles}\n{members}\n{databases}\n{schema}")
}

/// Every file of the repository, as text (sealed files are ciphertext and stay in).
fn every_file(root: &Path) -> Vec<(PathBuf, String)> {
    let mut files = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
                files.push((path, text));
            }
        }
    }
    files
}

fn assert_nowhere(repo: &TestRepo, outputs: &[&str], secrets: &[&str]) {
    for secret in secrets {
        for (path, text) in every_file(repo.path()) {
            assert!(!text.contains(secret), "a password in {}", path.display());
        }
        for output in outputs {
            assert!(
                !output.contains(secret),
                "a password in the output: {output}"
            );
        }
    }
}

#[test]
fn database_init_makes_databases_and_roles_that_conductor_and_dbos_migrate_use() {
    if !require_tool("kubectl", &["version", "--client"])
        || !require_tool("dbos", &["migrate", "--help"])
    {
        return;
    }
    let Some(cluster) = Cluster::start() else {
        return;
    };
    cluster.superuser(&format!(
        "CREATE ROLE {ADMIN} LOGIN CREATEDB CREATEROLE PASSWORD '{}'",
        ADMIN_PASSWORD.replace('\'', "''")
    ));
    let repo = TestRepo::prod();
    let init = Run::from(pipe(
        &mut repo.command(&[
            "database",
            "init",
            "--env",
            "prod",
            "--host",
            "127.0.0.1",
            "--port",
            port(),
            "--sslmode",
            "disable",
            "--admin-user",
            ADMIN,
            "--admin-password-stdin",
        ]),
        format!("{ADMIN_PASSWORD}\n").as_bytes(),
    ));
    assert_eq!(init.code, 0, "{}", init.stderr);
    let Some(secrets) = decrypted(&repo) else {
        return;
    };
    let value = |name: &str, key: &str| secrets[&(name.to_string(), key.to_string())].clone();
    assert_eq!(value("postgres-admin", "password"), ADMIN_PASSWORD);
    let admin_url = value("postgres-admin", "database-url");
    assert_eq!(
        admin_url,
        format!("postgresql://{ADMIN}:it%27s%20%40%20a%3Ab%2Fc%25d%20e@127.0.0.1:{}/dbos_app?sslmode=disable", port())
    );
    let conductor_url = value("conductor-db", "database-url");
    let app_url = value("dbos-app-db", "database-url");

    let work = tempfile::tempdir().unwrap();
    let first = run_bootstrap(&repo, work.path());
    let names = cluster.superuser("SELECT datname FROM pg_database ORDER BY 1");
    assert!(
        names.contains("dbos_conductor") && names.contains("dbos_app"),
        "{names}"
    );
    let roles =
        cluster.superuser("SELECT rolname FROM pg_roles WHERE rolname LIKE 'dbos_%' ORDER BY 1");
    assert_eq!(roles, "dbos_app_role\ndbos_conductor_role\n");

    // Conductor's URL logs in (scram) and may create tables in its database.
    let (ok, output) = psql(
        &conductor_url,
        "CREATE TABLE conductor_probe (id int); DROP TABLE conductor_probe",
    );
    assert!(ok, "Conductor's role cannot create tables: {output}");
    // A wrong password is refused: the server really checks.
    let wrong = conductor_url
        .replacen(":", "#", 2)
        .replacen("#", ":", 1)
        .replacen('#', ":x", 1);
    assert!(
        !psql(&wrong, "SELECT 1").0,
        "a wrong password was accepted: {wrong}"
    );

    // The migrate Job, as rendered, with the admin URL; then the app role writes workflows.
    let objects = repo.kustomize("prod");
    let migrate =
        &find(&objects, "Job", "dbos-migrate")["spec"]["template"]["spec"]["containers"][0];
    let env = container_env(&objects, migrate, &secrets);
    let command: Vec<String> = command_of(migrate)
        .iter()
        .map(|part| expand(part, &env))
        .collect();
    let empty = tempfile::tempdir().unwrap();
    let (ok, migrated) = run(&command, &env, empty.path());
    assert!(
        ok,
        "dbos migrate with the sealed admin URL failed: {migrated}"
    );
    let (ok, output) = psql(
        &app_url,
        "INSERT INTO dbos.workflow_status (workflow_uuid, status, name) VALUES ('wf-1', 'PENDING', 'probe'); \
         UPDATE dbos.workflow_status SET status = 'SUCCESS' WHERE workflow_uuid = 'wf-1'",
    );
    assert!(ok, "the app role cannot write workflows: {output}");

    // Again: nothing changes.
    let before = server_state(&cluster);
    let second = run_bootstrap(&repo, work.path());
    assert_eq!(
        server_state(&cluster),
        before,
        "the second run changed the server"
    );

    // Rotate the app role: only dbos-app-db changes; after a run the old password is refused.
    let untouched: Vec<String> = ["postgres-admin", "conductor-db"]
        .iter()
        .map(|name| repo.read(&format!("environments/prod/secrets/{name}.yaml")))
        .collect();
    let rotate = repo.run(&["database", "rotate", "--env", "prod", "app"]);
    assert_eq!(rotate.code, 0, "{}", rotate.stderr);
    let after: Vec<String> = ["postgres-admin", "conductor-db"]
        .iter()
        .map(|name| repo.read(&format!("environments/prod/secrets/{name}.yaml")))
        .collect();
    assert_eq!(after, untouched, "rotate app touched another secret");
    let rotated = decrypted(&repo).unwrap();
    let new_app_url = rotated[&("dbos-app-db".to_string(), "database-url".to_string())].clone();
    assert_ne!(new_app_url, app_url);
    let third = run_bootstrap(&repo, work.path());
    let (ok, output) = psql(&app_url, "SELECT 1");
    assert!(
        !ok && output.contains("password authentication failed"),
        "old password: {output}"
    );
    let (ok, output) = psql(&new_app_url, "SELECT count(*) FROM dbos.workflow_status");
    assert!(ok, "new password: {output}");
    assert!(
        psql(&conductor_url, "SELECT 1").0,
        "Conductor's password changed"
    );

    let passwords: Vec<String> = secrets
        .iter()
        .chain(rotated.iter())
        .filter(|((_, key), _)| key != "password")
        .map(|(_, value)| value.clone())
        .chain([ADMIN_PASSWORD.to_string()])
        .collect();
    let shown: Vec<&str> = passwords.iter().map(String::as_str).collect();
    let outputs = [
        init.stdout.as_str(),
        init.stderr.as_str(),
        rotate.stdout.as_str(),
        rotate.stderr.as_str(),
        first.as_str(),
        second.as_str(),
        third.as_str(),
    ];
    assert_nowhere(&repo, &outputs, &shown);
    assert!(!repo.kustomize_text("environments/prod").contains("it%27s"));
}

#[test]
fn database_commands_refuse_bad_input_and_write_nothing() {
    let repo = TestRepo::prod();
    let before = repo.snapshot();
    let cases: [(&[&str], &str); 4] = [
        (&["--sslmode", "on"], "--sslmode on"),
        (&["--app-role", "other_role"], "app.migrate.app-role"),
        (&["--conductor-role", "Bad"], "--conductor-role Bad"),
        (&["--host", "db/x"], "--host"),
    ];
    for (extra, expected) in cases {
        let mut arguments = vec![
            "database",
            "init",
            "--env",
            "prod",
            "--host",
            "db.internal",
            "--admin-password-stdin",
        ];
        arguments.extend_from_slice(extra);
        let run = Run::from(pipe(&mut repo.command(&arguments), b"pw\n"));
        assert_eq!(run.code, 2, "{extra:?}: {}", run.stderr);
        assert!(run.stderr.contains(expected), "{extra:?}: {}", run.stderr);
    }
    let empty = Run::from(pipe(
        &mut repo.command(&[
            "database",
            "init",
            "--env",
            "prod",
            "--host",
            "db",
            "--admin-password-stdin",
        ]),
        b"\n",
    ));
    assert_eq!(empty.code, 2);
    assert!(
        empty.stderr.contains("admin password is empty"),
        "{}",
        empty.stderr
    );
    let rotate = repo.fails(&["database", "rotate", "--env", "prod", "conductor"], 2);
    assert!(rotate.stderr.contains("database init"), "{}", rotate.stderr);
    assert_eq!(repo.snapshot(), before, "a refused command wrote something");
}

/// The inventory knows what the bootstrap Job reads (`secrets list`, `secrets set` and `check`
/// share it): before `database init` no such key is expected, after it each is listed as
/// sealed and used by the Job, read off the Job's own `secretKeyRef`s in the rendered overlay.
#[test]
fn the_inventory_lists_what_the_bootstrap_job_reads() {
    let repo = TestRepo::prod();
    let bootstrap_keys = |repo: &TestRepo| -> Vec<(String, String, String)> {
        let listing: Value = serde_json::from_str(
            &repo.ok(&["secrets", "list", "--env", "prod", "--format", "json"]),
        )
        .expect("secrets list --format json");
        listing["secrets"]
            .as_array()
            .expect("secrets")
            .iter()
            .filter(|entry| entry["usedBy"] == "Job/dbos-database-bootstrap")
            .map(|entry| {
                (
                    entry["secret"].as_str().unwrap_or_default().to_string(),
                    entry["key"].as_str().unwrap_or_default().to_string(),
                    entry["status"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect()
    };
    assert!(bootstrap_keys(&repo).is_empty());
    let init = Run::from(pipe(
        &mut repo.command(&[
            "database",
            "init",
            "--env",
            "prod",
            "--host",
            "db.internal",
            "--admin-password-stdin",
        ]),
        b"pw\n",
    ));
    assert_eq!(init.code, 0, "{}", init.stderr);
    let listed = bootstrap_keys(&repo);
    let job = std::fs::read_to_string(
        project_root().join("base/components/database-bootstrap/bootstrap-job.yaml"),
    )
    .expect("the bootstrap Job");
    let job: serde_yaml::Value = serde_yaml::from_str(&job).expect("the Job parses");
    let mut read: Vec<(String, String)> = job["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_sequence()
        .expect("env")
        .iter()
        .filter_map(|variable| {
            let reference = &variable["valueFrom"]["secretKeyRef"];
            Some((
                reference["name"].as_str()?.to_string(),
                reference["key"].as_str()?.to_string(),
            ))
        })
        .collect();
    read.sort();
    let mut inventory: Vec<(String, String)> = listed
        .iter()
        .map(|(secret, key, status)| {
            assert_eq!(status, "sealed", "{secret}/{key}");
            (secret.clone(), key.clone())
        })
        .collect();
    inventory.sort();
    assert_eq!(inventory, read);
}
