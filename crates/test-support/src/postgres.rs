//! A throwaway PostgreSQL database per test, with the real DBOS system tables made by the real
//! `dbos` package (`tests/support/dbos_schema.sh` runs `dbos migrate`), so tests run in
//! parallel without seeing each other's workflows. The server comes from
//! `DBOS_GITOPS_TEST_DATABASE_URL` (`eval "$(bash tests/support/postgres.sh start)"`).

use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::skip::{in_ci, skip_loudly};
use crate::workspace_root;

pub const ENV: &str = "DBOS_GITOPS_TEST_DATABASE_URL";

/// The server URL from `DBOS_GITOPS_TEST_DATABASE_URL`, or `None` after a loud SKIPPED line
/// (a failure under CI). `test` names the caller in the message.
pub fn server_url(test: &str) -> Option<String> {
    match std::env::var(ENV) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            let why = format!(
                "{ENV} is not set; start the test database with \
                 `eval \"$(bash tests/support/postgres.sh start)\"`"
            );
            if in_ci() {
                panic!("{test}: {why}, and CI is set: every tool must be there in CI");
            }
            skip_loudly(&why); // the line names the test itself
            None
        }
    }
}

/// `url` with its database name replaced by `database`.
pub fn with_database(url: &str, database: &str) -> String {
    let (main, query) = url.split_at(url.find('?').unwrap_or(url.len()));
    let scheme_end = main.find("://").expect("a postgresql:// url") + 3;
    let host_start = main[scheme_end..]
        .rfind('@')
        .map_or(scheme_end, |at| scheme_end + at + 1);
    let host_end = main[host_start..]
        .find('/')
        .map_or(main.len(), |slash| host_start + slash);
    format!("{}/{database}{query}", &main[..host_end])
}

/// The drain tests' name for [`with_database`].
pub fn with_dbname(url: &str, database: &str) -> String {
    with_database(url, database)
}

/// `url` with a password in its user info (the test server trusts every local connection, so
/// the password is never checked; tests use it to prove that it is never printed).
pub fn with_password(url: &str, password: &str) -> String {
    let scheme_end = url.find("://").expect("a postgresql:// url") + 3;
    match url[scheme_end..].find('@') {
        Some(at) if !url[scheme_end..scheme_end + at].contains(':') => format!(
            "{}:{password}{}",
            &url[..scheme_end + at],
            &url[scheme_end + at..]
        ),
        _ => url.to_string(),
    }
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A database of its own, dropped (with its connections) when the value goes out of scope.
pub struct TestDb {
    pub name: String,
    pub url: String,
    server: String,
}

impl TestDb {
    /// A fresh empty database (no DBOS tables); `tag` goes into its name.
    pub fn empty(server: &str, tag: &str) -> TestDb {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock after 1970")
            .subsec_nanos();
        let name = format!(
            "{tag}_{}_{}_{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        connect(server)
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .unwrap_or_else(|error| panic!("CREATE DATABASE {name}: {error}"));
        TestDb {
            url: with_database(server, &name),
            name,
            server: server.to_string(),
        }
    }

    /// A fresh database with the real DBOS system tables in schema `dbos` (`dbos migrate`).
    pub fn with_dbos_schema(server: &str, tag: &str) -> TestDb {
        let database = TestDb::empty(server, tag);
        let script = workspace_root().join("tests/support/dbos_schema.sh");
        let output = Command::new("bash")
            .arg(&script)
            .arg(&database.url)
            .output()
            .unwrap_or_else(|error| panic!("running {}: {error}", script.display()));
        assert!(
            output.status.success(),
            "{} failed ({}): {}{}",
            script.display(),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        database
    }

    pub fn client(&self) -> postgres::Client {
        connect(&self.url)
    }

    /// Runs `sql` (one or more statements), panicking on an error.
    pub fn execute(&self, sql: &str) {
        self.client()
            .batch_execute(sql)
            .unwrap_or_else(|error| panic!("{sql}: {error}"));
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
        .unwrap_or_else(|error| panic!("connecting to the test database: {error}"))
}

/// A loopback port nothing listens on.
pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let port = listener.local_addr().expect("local address").port();
    drop(listener);
    port
}
