//! Shared fixtures for the drain tests: every test gets its own fresh PostgreSQL database with
//! the real DBOS system tables (created by `tests/support/dbos_schema.sh`, i.e. `dbos migrate`),
//! so tests run in parallel without seeing each other's workflows.

#![allow(dead_code)]

use std::io::Write as _;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

pub const ENV: &str = "DBOS_GITOPS_TEST_DATABASE_URL";

/// The server URL from `DBOS_GITOPS_TEST_DATABASE_URL`, or `None` (after a loud line) when it is
/// unset outside CI. Under CI (`CI` set) a missing database is a failure, not a skip.
pub fn server_url(test: &str) -> Option<String> {
    match std::env::var(ENV) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            if std::env::var_os("CI").is_some() {
                panic!(
                    "{test}: {ENV} is not set but CI is: start the test database with \
                     `eval \"$(bash tests/support/postgres.sh start)\"`"
                );
            }
            // Written to the real stderr in one piece: the test harness captures eprintln! and
            // println!, which would hide the skip.
            let line = format!(
                "\nSKIPPED: drain::{test}: {ENV} is not set; start the test database with \
                 `eval \"$(bash tests/support/postgres.sh start)\"`\n"
            );
            let _ = std::io::stderr().write_all(line.as_bytes());
            None
        }
    }
}

/// `url` with its database name replaced by `db`.
pub fn with_dbname(url: &str, db: &str) -> String {
    let (main, query) = match url.find('?') {
        Some(i) => (&url[..i], &url[i..]),
        None => (url, ""),
    };
    let scheme_end = main
        .find("://")
        .expect("test url must be a postgresql:// url")
        + 3;
    let after_userinfo = main[scheme_end..]
        .rfind('@')
        .map_or(scheme_end, |i| scheme_end + i + 1);
    let authority_end = main[after_userinfo..]
        .find('/')
        .map_or(main.len(), |i| after_userinfo + i);
    format!("{}/{db}{query}", &main[..authority_end])
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A database of its own, dropped again when the value goes out of scope.
pub struct TestDb {
    pub name: String,
    pub url: String,
    server: String,
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

impl TestDb {
    /// A fresh empty database (no DBOS tables).
    pub fn empty(server: &str, tag: &str) -> TestDb {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let name = format!(
            "drain_{tag}_{}_{}_{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        let mut admin = connect(server);
        admin
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
        TestDb {
            url: with_dbname(server, &name),
            name,
            server: server.to_owned(),
        }
    }

    /// A fresh database with the real DBOS system tables in schema `dbos`.
    pub fn with_dbos_schema(server: &str, tag: &str) -> TestDb {
        let db = TestDb::empty(server, tag);
        let script = repo_root().join("tests/support/dbos_schema.sh");
        let out = Command::new("bash")
            .arg(&script)
            .arg(&db.url)
            .output()
            .unwrap_or_else(|e| panic!("running {}: {e}", script.display()));
        if !out.status.success() {
            panic!(
                "{} failed ({}): {}{}",
                script.display(),
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        db
    }

    pub fn client(&self) -> postgres::Client {
        connect(&self.url)
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Ok(mut admin) = postgres::Client::connect(&self.server, postgres::NoTls) {
            let _ = admin.batch_execute(&format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name
            ));
        }
    }
}

pub fn connect(url: &str) -> postgres::Client {
    postgres::Client::connect(url, postgres::NoTls)
        .unwrap_or_else(|e| panic!("connecting to the test database: {e}"))
}

/// One `dbos.workflow_status` row to seed.
pub struct Wf<'a> {
    pub id: &'a str,
    pub status: &'a str,
    pub version: Option<&'a str>,
    pub app: Option<&'a str>,
    pub queue: Option<&'a str>,
    pub created_at: i64,
}

/// Inserts workflows the way DBOS records them (real columns; NOT NULL ones filled).
pub fn seed(client: &mut postgres::Client, rows: &[Wf], with_application_name: bool) {
    for w in rows {
        if with_application_name {
            client
                .execute(
                    "INSERT INTO dbos.workflow_status (workflow_uuid, status, name, class_name, \
                     config_name, executor_id, application_version, application_id, queue_name, \
                     created_at, updated_at, recovery_attempts, priority, inputs, \
                     application_name) \
                     VALUES ($1, $2, 'checkout', NULL, NULL, 'local', $3, 'app-id', $4, $5, $5, \
                     0, 0, '{\"args\":[],\"kwargs\":{}}', $6)",
                    &[
                        &w.id,
                        &w.status,
                        &w.version,
                        &w.queue,
                        &w.created_at,
                        &w.app,
                    ],
                )
                .unwrap_or_else(|e| panic!("seeding {}: {e}", w.id));
        } else {
            client
                .execute(
                    "INSERT INTO dbos.workflow_status (workflow_uuid, status, name, executor_id, \
                     application_version, application_id, queue_name, created_at, updated_at) \
                     VALUES ($1, $2, 'checkout', 'local', $3, 'app-id', $4, $5, $5)",
                    &[&w.id, &w.status, &w.version, &w.queue, &w.created_at],
                )
                .unwrap_or_else(|e| panic!("seeding {}: {e}", w.id));
        }
    }
}

/// A loopback port nothing listens on.
pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    port
}
