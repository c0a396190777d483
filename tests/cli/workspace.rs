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

/// The tests that take the repository lock in this process take this first: a process holds
/// one repository's lock at a time (`repo::lock`'s table and the litter marker have one slot,
/// as one command has one repository), and the test harness runs these in one process.
static ONE_REPOSITORY_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    ONE_REPOSITORY_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn fresh(repo: &TestRepo) -> String {
    let ws = Workspace::open(repo.path(), Mode::Read).unwrap();
    inputs(&ws)
}

#[test]
fn a_compile_after_puts_sees_what_the_next_load_reads() {
    let _serial = serial();
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
    // `build --check` reads under the shared lock, which waits for this writer to let go.
    drop(again);
    repo.ok(&["build", "--check"]);
}

#[test]
fn a_removed_file_is_gone_for_the_compile_and_from_the_disk() {
    let _serial = serial();
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
    let _serial = serial();
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

/// What the load read is the workspace's snapshot: a file changed on disk after `open` is read
/// as the load saw it (one reading of each file per process: the load's digests and a later
/// `read`, e.g. `check`'s parse of a sealed file, see the same bytes), until a `commit`
/// changes the disk, after which the disk is read again.
#[test]
fn reads_after_open_see_what_the_load_read_until_a_commit() {
    let _serial = serial();
    let repo = TestRepo::with_env("dev", &["--domain", "dev.acme.com"]);
    let path = "environments/dev/env.yaml";
    let loaded = repo.read(path);
    let mut ws = Workspace::open(repo.path(), Mode::Write).unwrap();
    repo.write(
        path,
        &format!("{loaded}# changed behind the workspace's back\n"),
    );
    assert_eq!(ws.read(path).unwrap().unwrap(), loaded.as_bytes());
    // A commit (here of a plan with nothing to do) makes the disk the truth again.
    let plan = ws.compile(Scope::All, WriteOptions::default()).unwrap();
    assert!(plan.is_current());
    ws.commit(&plan).unwrap();
    assert_eq!(ws.read(path).unwrap().unwrap(), repo.read(path).as_bytes());
    assert_ne!(repo.read(path), loaded);
}

/// A snapshot reader (`check`, `build --check`) holds the lock shared: a writer waits for it
/// until the reader lets go (`release_shared`, as `check` does before its kubectl renders).
#[test]
fn a_snapshot_workspace_holds_the_lock_shared_until_released() {
    let _serial = serial();
    let repo = TestRepo::with_env("dev", &["--domain", "dev.acme.com"]);
    let ws = Workspace::open(repo.path(), Mode::Snapshot).unwrap();
    assert!(!ws.writer_active());
    let build = || {
        let mut command = repo.command(&["build"]);
        command.env("DBOS_GITOPS_LOCK_TIMEOUT", "0.2");
        command.output().unwrap()
    };
    let blocked = build();
    assert!(!blocked.status.success(), "a writer waits for the reader");
    assert!(String::from_utf8_lossy(&blocked.stderr).contains("another dbos-gitops command"));
    // Another reader is not kept out.
    let mut check = repo.command(&["build", "--check"]);
    check.env("DBOS_GITOPS_LOCK_TIMEOUT", "0.2");
    assert!(check.output().unwrap().status.success());
    ws.release_shared();
    assert!(
        build().status.success(),
        "released before the workspace drops"
    );
}
