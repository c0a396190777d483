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

/// The TLS-only test server of `tests/support/postgres-tls.sh`: `ssl = on`, a certificate for
/// `localhost` and `127.0.0.1` from a CA the script made, `hostssl` + password only over TCP.
pub struct TlsServer {
    /// `postgresql://postgres:PASSWORD@localhost:PORT/postgres`, without `sslmode`.
    pub url: String,
    /// The same cluster over its unix socket (trust, no TLS), for CREATE/DROP DATABASE.
    pub admin_url: String,
    /// The CA that signed the server certificate.
    pub ca: String,
    /// A CA that signed nothing the server presents.
    pub other_ca: String,
    /// An address the server listens on that its certificate does not name.
    pub wrong_host: String,
    /// The password in `url`, to prove that no output repeats it.
    pub password: String,
}

pub const TLS_ENV: &str = "DBOS_GITOPS_TEST_TLS_DATABASE_URL";

/// The TLS server from the `DBOS_GITOPS_TEST_TLS_*` variables, or `None` after a loud SKIPPED
/// line (a failure under CI).
pub fn tls_server(test: &str) -> Option<TlsServer> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let found = (|| {
        let url = var(TLS_ENV)?;
        let scheme_end = url.find("://")? + 3;
        let userinfo = &url[scheme_end..scheme_end + url[scheme_end..].rfind('@')?];
        Some(TlsServer {
            password: userinfo.split_once(':')?.1.to_string(),
            admin_url: var("DBOS_GITOPS_TEST_TLS_ADMIN_URL")?,
            ca: var("DBOS_GITOPS_TEST_TLS_CA")?,
            other_ca: var("DBOS_GITOPS_TEST_TLS_OTHER_CA")?,
            wrong_host: var("DBOS_GITOPS_TEST_TLS_WRONG_HOST")?,
            url,
        })
    })();
    if found.is_none() {
        let why = format!(
            "{TLS_ENV} (and the other DBOS_GITOPS_TEST_TLS_* variables) are not set; start the \
             TLS test database with `eval \"$(bash tests/support/postgres-tls.sh start)\"`"
        );
        if in_ci() {
            panic!("{test}: {why}, and CI is set: every tool must be there in CI");
        }
        skip_loudly(&why);
    }
    found
}

impl TlsServer {
    /// A fresh database on the TLS server with the real DBOS system tables, made by
    /// `dbos migrate` over TLS (`sslmode=require`, libpq's own client); its `url` is the
    /// password-bearing TLS URL without `sslmode`, its drop goes through the unix socket.
    pub fn database_with_dbos_schema(&self, tag: &str) -> TestDb {
        let mut database = TestDb::empty(&self.admin_url, tag);
        database.url = with_database(&self.url, &database.name);
        let script = workspace_root().join("tests/support/dbos_schema.sh");
        let output = Command::new("bash")
            .arg(&script)
            .arg(format!("{}?sslmode=require", database.url))
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

    /// `url` with a query string appended (`sslmode=...&sslrootcert=...`).
    pub fn url_with(url: &str, query: &str) -> String {
        let separator = if url.contains('?') { '&' } else { '?' };
        format!("{url}{separator}{query}")
    }

    /// Runs `sql` on `database` through the unix socket (no TLS needed), panicking on an error.
    pub fn admin_execute(&self, database: &TestDb, sql: &str) {
        connect(&with_database(&self.admin_url, &database.name))
            .batch_execute(sql)
            .unwrap_or_else(|error| panic!("{sql}: {error}"));
    }

    /// `url` with its host replaced by `host`.
    pub fn with_host(url: &str, host: &str) -> String {
        url.replacen("@localhost:", &format!("@{host}:"), 1)
    }
}
