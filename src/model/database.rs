//! The databases and roles of an environment (`database init`, `database rotate`, #22): the
//! connection parts recorded in `environments/<env>/database.env`, the URLs built from them, and
//! the SCRAM-SHA-256 verifiers the bootstrap Job sets as the roles' passwords. Pure: the random
//! passwords and salts come from the caller.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use zeroize::Zeroizing;

/// The tool-owned record of the connection parts, beside `env.yaml`. Nothing secret; the
/// overlay turns it into the `dbos-database-bootstrap` ConfigMap the Job reads with `envFrom`.
pub const DATABASE_ENV_FILE: &str = "database.env";
/// The secrets `database init` writes, and their keys.
pub const ADMIN_SECRET: &str = "postgres-admin";
pub const CONDUCTOR_SECRET: &str = "conductor-db";
pub const APP_SECRET: &str = "dbos-app-db";
pub const URL_KEY: &str = "database-url";
pub const PASSWORD_KEY: &str = "password";
/// The role's password as PostgreSQL stores it (`SCRAM-SHA-256$...`): what the Job sets, so
/// that neither the Pod nor the server's statement log ever holds the role's password.
pub const VERIFIER_KEY: &str = "scram-verifier";
/// The libpq modes of `sslmode`.
pub const SSL_MODES: &[&str] = &[
    "disable",
    "allow",
    "prefer",
    "require",
    "verify-ca",
    "verify-full",
];
/// PostgreSQL's default iteration count for SCRAM-SHA-256 (`scram_iterations`).
pub const SCRAM_ITERATIONS: u32 = 4096;

/// Where and as whom: everything of the URLs but the passwords.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DatabaseParts {
    pub host: String,
    pub port: u16,
    pub sslmode: String,
    pub admin_user: String,
    pub conductor_database: String,
    pub app_database: String,
    pub conductor_role: String,
    pub app_role: String,
}

/// Which role `database rotate` re-keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Conductor,
    App,
}

impl DatabaseParts {
    /// The checks of every part, with the flag to fix.
    pub fn check(&self) -> Result<(), String> {
        check_host(&self.host)?;
        if self.port == 0 {
            return Err("`--port 0` is not a port".into());
        }
        if !SSL_MODES.contains(&self.sslmode.as_str()) {
            return Err(format!(
                "`--sslmode {}` is not a libpq mode; use one of {}",
                self.sslmode,
                SSL_MODES.join(", ")
            ));
        }
        if self.admin_user.is_empty()
            || self.admin_user.len() > 63
            || self.admin_user.chars().any(|c| c.is_control() || c == '=')
        {
            return Err(format!(
                "`--admin-user {:?}` must be 1 to 63 characters without control characters or `=`",
                self.admin_user
            ));
        }
        for (flag, name) in [
            ("--conductor-database", &self.conductor_database),
            ("--app-database", &self.app_database),
            ("--conductor-role", &self.conductor_role),
            ("--app-role", &self.app_role),
        ] {
            check_identifier(flag, name)?;
        }
        if self.conductor_database == self.app_database {
            return Err("Conductor and the application need two databases: `--conductor-database` and `--app-database` are the same".into());
        }
        if self.conductor_role == self.app_role
            || self.admin_user == self.conductor_role
            || self.admin_user == self.app_role
        {
            return Err(
                "the admin user, `--conductor-role` and `--app-role` must be three different roles"
                    .into(),
            );
        }
        Ok(())
    }

    /// `postgresql://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=MODE`, every part percent-encoded
    /// (libpq decodes each part of a URI, RFC 3986 section 2.1).
    pub fn url(&self, user: &str, password: &[u8], database: &str) -> Zeroizing<String> {
        let mut url = Zeroizing::new(String::with_capacity(128));
        url.push_str("postgresql://");
        encode_into(&mut url, user.as_bytes());
        url.push(':');
        encode_into(&mut url, password);
        url.push('@');
        if self.host.contains(':') {
            let _ = write!(url, "[{}]", self.host);
        } else {
            url.push_str(&self.host);
        }
        let _ = write!(url, ":{}/", self.port);
        encode_into(&mut url, database.as_bytes());
        let _ = write!(url, "?sslmode={}", self.sslmode);
        url
    }

    /// The admin URL of the app's database: `dbos migrate`'s (`postgres-admin`).
    pub fn admin_url(&self, password: &[u8]) -> Zeroizing<String> {
        self.url(&self.admin_user, password, &self.app_database)
    }

    pub fn role_url(&self, role: Role, password: &[u8]) -> Zeroizing<String> {
        match role {
            Role::Conductor => self.url(&self.conductor_role, password, &self.conductor_database),
            Role::App => self.url(&self.app_role, password, &self.app_database),
        }
    }

    /// The `database.env` file: libpq's own variables for the admin connection (to the
    /// maintenance database `postgres`, where databases are created), and the names.
    pub fn env_file_text(&self) -> String {
        let mut text = String::from(
            "# Written by `dbos-gitops database init`; read by `database rotate` and, as the\n\
             # `dbos-database-bootstrap` ConfigMap, by the bootstrap Job. Nothing secret: the\n\
             # passwords are sealed in postgres-admin, conductor-db and dbos-app-db.\n",
        );
        for (key, value) in self.variables() {
            let _ = writeln!(text, "{key}={value}");
        }
        text
    }

    fn variables(&self) -> Vec<(&'static str, String)> {
        vec![
            ("PGHOST", self.host.clone()),
            ("PGPORT", self.port.to_string()),
            ("PGSSLMODE", self.sslmode.clone()),
            ("PGUSER", self.admin_user.clone()),
            ("PGDATABASE", "postgres".to_string()),
            ("DBOS_CONDUCTOR_DATABASE", self.conductor_database.clone()),
            ("DBOS_APP_DATABASE", self.app_database.clone()),
            ("DBOS_CONDUCTOR_ROLE", self.conductor_role.clone()),
            ("DBOS_APP_ROLE", self.app_role.clone()),
        ]
    }

    /// Reads `database.env` back (`database rotate`); `Err` names what is wrong.
    pub fn parse_env_file(text: &str) -> Result<DatabaseParts, String> {
        let mut values = BTreeMap::new();
        for (number, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((key, value)) = line.split_once('=') else {
                return Err(format!("line {}: expected `KEY=VALUE`", number + 1));
            };
            values.insert(key.to_string(), value.to_string());
        }
        let mut take = |key: &str| -> Result<String, String> {
            values
                .remove(key)
                .ok_or_else(|| format!("no `{key}=` line"))
        };
        let port = take("PGPORT")?;
        let parts = DatabaseParts {
            host: take("PGHOST")?,
            port: port
                .parse()
                .map_err(|_| format!("`PGPORT={port}` is not a port"))?,
            sslmode: take("PGSSLMODE")?,
            admin_user: take("PGUSER")?,
            conductor_database: take("DBOS_CONDUCTOR_DATABASE")?,
            app_database: take("DBOS_APP_DATABASE")?,
            conductor_role: take("DBOS_CONDUCTOR_ROLE")?,
            app_role: take("DBOS_APP_ROLE")?,
        };
        parts.check()?;
        Ok(parts)
    }
}

fn check_host(host: &str) -> Result<(), String> {
    let valid = !host.is_empty()
        && host.len() <= 253
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '_'));
    if valid {
        Ok(())
    } else {
        Err(format!(
            "`--host {host:?}` is not a host name or IP address (letters, digits, `.`, `-`, `_`, and `:` of an IPv6 address, without brackets)"
        ))
    }
}

/// Role and database names: unquoted PostgreSQL identifiers in lowercase, so that what the
/// Job creates is what the URLs name however a tool quotes it.
fn check_identifier(flag: &str, name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_');
    let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if first_ok && rest_ok && name.len() <= 63 && !name.starts_with("pg_") {
        Ok(())
    } else {
        Err(format!(
            "`{flag} {name}` must be 1 to 63 of `a-z`, `0-9` and `_`, starting with a letter or `_`, not `pg_`"
        ))
    }
}

/// RFC 3986 percent-encoding of everything but the unreserved characters.
fn encode_into(out: &mut String, bytes: &[u8]) {
    for &byte in bytes {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
}

/// PostgreSQL's stored form of a SCRAM-SHA-256 password (`scram_build_secret` in its
/// `src/common/scram-common.c`; RFC 5802 section 3, RFC 7677):
/// `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`, base64. The password must need
/// no SASLprep (ASCII printable passwords are their own SASLprep form), as generated ones do.
pub fn scram_verifier(password: &[u8], salt: &[u8; 16]) -> Zeroizing<String> {
    use aws_lc_rs::{digest, hmac, pbkdf2};
    use base64::Engine as _;
    let mut salted = Zeroizing::new([0u8; 32]);
    let iterations =
        std::num::NonZeroU32::new(SCRAM_ITERATIONS).unwrap_or(std::num::NonZeroU32::MIN);
    pbkdf2::derive(
        pbkdf2::PBKDF2_HMAC_SHA256,
        iterations,
        salt,
        password,
        salted.as_mut(),
    );
    let key = hmac::Key::new(hmac::HMAC_SHA256, salted.as_ref());
    let client_key = hmac::sign(&key, b"Client Key");
    let stored_key = digest::digest(&digest::SHA256, client_key.as_ref());
    let server_key = hmac::sign(&key, b"Server Key");
    let b64 = base64::engine::general_purpose::STANDARD;
    Zeroizing::new(format!(
        "SCRAM-SHA-256${SCRAM_ITERATIONS}:{}${}:{}",
        b64.encode(salt),
        b64.encode(stored_key.as_ref()),
        b64.encode(server_key.as_ref())
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts() -> DatabaseParts {
        DatabaseParts {
            host: "db.internal".into(),
            port: 5432,
            sslmode: "require".into(),
            admin_user: "postgres".into(),
            conductor_database: "dbos_conductor".into(),
            app_database: "dbos_app".into(),
            conductor_role: "dbos_conductor_role".into(),
            app_role: "dbos_app_role".into(),
        }
    }

    #[test]
    fn urls_encode_every_reserved_character() {
        let url = parts().admin_url(b"a'b@c:d/e%f g");
        assert_eq!(
            url.as_str(),
            "postgresql://postgres:a%27b%40c%3Ad%2Fe%25f%20g@db.internal:5432/dbos_app?sslmode=require"
        );
        let mut v6 = parts();
        v6.host = "::1".into();
        assert!(v6
            .role_url(Role::App, b"x")
            .contains("@[::1]:5432/dbos_app?"));
    }

    #[test]
    fn the_env_file_round_trips_and_bad_parts_are_refused() {
        let parts = parts();
        assert_eq!(
            DatabaseParts::parse_env_file(&parts.env_file_text()),
            Ok(parts.clone())
        );
        let mut bad = parts.clone();
        bad.sslmode = "on".into();
        assert!(bad.check().unwrap_err().contains("--sslmode on"));
        let mut bad = parts.clone();
        bad.app_role = "Bad-Role".into();
        assert!(bad.check().unwrap_err().contains("--app-role Bad-Role"));
        let mut bad = parts.clone();
        bad.host = "db/x".into();
        assert!(bad.check().unwrap_err().contains("--host"));
        let mut bad = parts;
        bad.app_database = bad.conductor_database.clone();
        assert!(bad.check().is_err());
    }

    #[test]
    fn the_verifier_matches_rfc_7677s_example_derivation() {
        // RFC 7677 section 3's password "pencil" and salt, 4096 iterations; the expected
        // StoredKey and ServerKey were computed independently with Python's hashlib and hmac.
        // (That PostgreSQL accepts the verifier is tests/cli/database.rs's login.)
        use base64::Engine as _;
        let salt: [u8; 16] = base64::engine::general_purpose::STANDARD
            .decode("W22ZaJ0SNY7soEsUEjb6gQ==")
            .unwrap()
            .try_into()
            .unwrap();
        let verifier = scram_verifier(b"pencil", &salt);
        assert_eq!(
            verifier.as_str(),
            "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$\
             WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:\
             wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="
        );
    }
}
