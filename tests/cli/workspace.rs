//! The workspace (issue #25): what `compile` derives from the files a command put is what a
//! fresh load of the written tree reads, so no command has to patch the loaded model by hand.

use dbos_gitops::declare::EnvName;
use dbos_gitops::repo::WriteOptions;
use dbos_gitops::workspace::{Mode, Scope, Workspace};

use crate::support::TestRepo;

/// Every loaded input of every environment, as text (`EnvInput` is `Debug`, not `PartialEq`).
fn inputs(ws: &Workspace) -> String {
    format!("{:?}", ws.environments())
}

fn fresh(repo: &TestRepo) -> String {
    let ws = Workspace::open(repo.path(), Mode::Read).unwrap();
    inputs(&ws)
}

#[test]
fn a_compile_after_puts_sees_what_the_next_load_reads() {
    let repo = TestRepo::with_env("dev", &["--domain", "dev.acme.com"]);
    repo.add_version("v1", "dev");
    let before = fresh(&repo);
    let env = EnvName::new("dev").unwrap();
    let mut ws = Workspace::open_env(repo.path(), Some("dev"), Mode::Write).unwrap();
    // A new sealed secret (through the store), a certificate and a removed declaration.
    let mac = dbos_gitops::seal_mac::load(repo.path(), None).unwrap();
    let mut input = dbos_gitops_seal::SecretInput {
        name: "api-keys".to_string(),
        ..Default::default()
    };
    input.data.insert(
        "token".to_string(),
        zeroize::Zeroizing::new(b"s3cr3t".to_vec()),
    );
    let stored =
        dbos_gitops::secret_store::store(&mut ws, &env, &[input], None, false, &mac).unwrap();
    assert_eq!(stored[0].path, "environments/dev/secrets/api-keys.yaml");
    let sealed = dbos_gitops::secret_store::sealed(&ws, &env, "api-keys").unwrap();
    assert!(
        sealed.is_some_and(|sealed| sealed.encrypted_data.contains_key("token")),
        "the workspace reads what it put"
    );
    let pem = std::fs::read(crate::support::fixture("go-cert.pem")).unwrap();
    ws.put("environments/dev/tls.crt", pem);
    let plan = ws
        .compile(Scope::Env(&env), WriteOptions::default())
        .unwrap();
    let compiled = inputs(&ws);
    assert_ne!(compiled, before, "the puts change the loaded inputs");
    assert!(
        compiled.contains("api-keys.yaml") && compiled.contains("tls_certificate: true"),
        "{compiled}"
    );
    ws.commit(&plan).unwrap();
    drop(ws);
    assert_eq!(
        fresh(&repo),
        compiled,
        "a fresh load of the written tree reads exactly what compile derived"
    );
    // And the written tree is current: a second workspace plans nothing.
    let mut again = Workspace::open(repo.path(), Mode::Write).unwrap();
    let plan = again.compile(Scope::All, WriteOptions::default()).unwrap();
    assert!(plan.is_empty(), "{}", plan.summary());
    repo.ok(&["build", "--check"]);
}

#[test]
fn a_removed_file_is_gone_for_the_compile_and_from_the_disk() {
    let repo = TestRepo::with_env("dev", &["--domain", "dev.acme.com"]);
    let secret = "kind: Secret\napiVersion: v1\nmetadata:\n  name: extra\nstringData:\n  a: b\n";
    let mut command = repo.command(&["seal", "--env", "dev"]);
    let output = crate::support::pipe(&mut command, secret.as_bytes());
    assert!(output.status.success(), "{output:?}");
    let env = EnvName::new("dev").unwrap();
    let mut ws = Workspace::open_env(repo.path(), None, Mode::Write).unwrap();
    assert!(inputs(&ws).contains("extra.yaml"));
    ws.remove("environments/dev/secrets/extra.yaml");
    assert_eq!(
        ws.read("environments/dev/secrets/extra.yaml").unwrap(),
        None
    );
    let plan = ws
        .compile(Scope::Env(&env), WriteOptions::default())
        .unwrap();
    assert!(!inputs(&ws).contains("extra.yaml"));
    assert_eq!(ws.selected().unwrap().name.as_str(), "dev");
    ws.commit(&plan).unwrap();
    drop(ws);
    assert!(!repo.exists("environments/dev/secrets/extra.yaml"));
    assert!(!fresh(&repo).contains("extra.yaml"));
    repo.ok(&["build", "--check"]);
}

#[test]
fn a_write_workspace_holds_the_lock_until_it_drops() {
    let repo = TestRepo::with_env("dev", &["--domain", "dev.acme.com"]);
    let ws = Workspace::open(repo.path(), Mode::Write).unwrap();
    let mut command = repo.command(&["build"]);
    command.env("DBOS_GITOPS_LOCK_TIMEOUT", "0.2");
    let blocked = command.output().unwrap();
    assert!(
        !blocked.status.success(),
        "a second writer waits for the lock"
    );
    assert!(String::from_utf8_lossy(&blocked.stderr).contains("another dbos-gitops command"));
    drop(ws);
    let mut command = repo.command(&["build"]);
    command.env("DBOS_GITOPS_LOCK_TIMEOUT", "0.2");
    assert!(
        command.output().unwrap().status.success(),
        "released on drop"
    );
}
