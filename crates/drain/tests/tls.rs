//! TLS to PostgreSQL against a real server that, like managed PostgreSQL, admits TCP clients
//! only over TLS with a password (`tests/support/postgres-tls.sh`: `ssl = on`, a CA the script
//! makes, `hostssl` only), with the real DBOS tables made by `dbos migrate` over TLS. Each
//! `sslmode` connects or fails as libpq's would, each failure is its own `TlsError`, and no
//! message repeats the password.
//!
//! Needs the `DBOS_GITOPS_TEST_TLS_*` variables (and, for "server offers no TLS",
//! `DBOS_GITOPS_TEST_DATABASE_URL`, the suite's plain server) and the `dbos` CLI.

// Test helpers unwrap: a failure here is a failed test, with the panic's message.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use dbos_gitops_drain::{
    in_flight, run_in_drain_session, versions_report, DrainError, DrainQuery, RootCert, TlsError,
    VersionsQuery,
};
use dbos_gitops_test_support::postgres::{tls_server, TlsServer};
use support::{seed, server_url, with_dbname, Wf};

const TIMEOUT: Duration = Duration::from_secs(10);

/// Whether the drain session runs over TLS, as the server itself reports it.
fn session_is_encrypted(url: &str) -> Result<bool, DrainError> {
    let rows = run_in_drain_session(
        url,
        TIMEOUT,
        "SELECT ssl::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
    )?;
    Ok(rows == [Some("true".to_string())])
}

fn query(version: &str) -> DrainQuery<'_> {
    DrainQuery {
        timeout: TIMEOUT,
        ..DrainQuery::new(version)
    }
}

/// The TLS error inside a drain error, with the password checked absent from message and hint.
fn tls_error(result: Result<impl std::fmt::Debug, DrainError>, password: &str) -> TlsError {
    let error = result.expect_err("the connection must fail");
    let text = format!("{error} {}", error.hint().unwrap_or_default());
    assert!(!text.contains(password), "password printed: {text}");
    match error {
        DrainError::Tls(tls) => tls,
        other => panic!("expected a TLS error, got {other:?}: {other}"),
    }
}

#[test]
fn require_and_verify_full_count_workflows_over_tls() {
    let Some(server) = tls_server("require_and_verify_full_count_workflows_over_tls") else {
        return;
    };
    let db = server.database_with_dbos_schema("tls_count");
    let mut client = support::connect(&with_dbname(&server.admin_url, &db.name));
    let w = |id, status| Wf {
        id,
        status,
        version: Some("v1"),
        app: None,
        queue: None,
        created_at: 1,
    };
    seed(
        &mut client,
        &[w("a", "PENDING"), w("b", "ENQUEUED"), w("c", "SUCCESS")],
        true,
    );
    let ca = &server.ca;
    for url in [
        TlsServer::url_with(&db.url, "sslmode=require"),
        TlsServer::url_with(&db.url, &format!("sslmode=verify-full&sslrootcert={ca}")),
        TlsServer::url_with(&db.url, &format!("sslmode=verify-ca&sslrootcert={ca}")),
        // The certificate names 127.0.0.1 as well as localhost.
        TlsServer::with_host(
            &TlsServer::url_with(&db.url, &format!("sslmode=verify-full&sslrootcert={ca}")),
            "127.0.0.1",
        ),
        // verify-ca does not check the name: an address the certificate does not name passes.
        TlsServer::with_host(
            &TlsServer::url_with(&db.url, &format!("sslmode=verify-ca&sslrootcert={ca}")),
            &server.wrong_host,
        ),
        // libpq's default `prefer` takes TLS when offered; `allow` falls back to it when the
        // server rejects the plain connection.
        db.url.clone(),
        TlsServer::url_with(&db.url, "sslmode=prefer"),
        TlsServer::url_with(&db.url, "sslmode=allow"),
    ] {
        let shown = url.replace(&server.password, "***");
        let found = in_flight(&url, &query("v1")).unwrap_or_else(|e| panic!("{shown}: {e}"));
        assert_eq!(found.total, 2, "{shown}");
        assert!(session_is_encrypted(&url).unwrap(), "{shown}: not over TLS");
        let report = versions_report(
            &url,
            &VersionsQuery {
                timeout: TIMEOUT,
                ..VersionsQuery::new(None)
            },
        )
        .unwrap_or_else(|e| panic!("{shown}: {e}"));
        assert_eq!(report.in_flight_total(Some("v1")), 2, "{shown}");
    }
}

#[test]
fn a_wrong_ca_is_a_chain_error_naming_the_roots() {
    let Some(server) = tls_server("a_wrong_ca_is_a_chain_error_naming_the_roots") else {
        return;
    };
    let other = &server.other_ca;
    // `require` with a root file verifies the chain, as libpq does ("like verify-ca"); so do
    // `prefer` and `allow`, whose plain fallback this server rejects: the TLS error is the one
    // reported, since it says why encryption failed.
    for mode in ["verify-full", "verify-ca", "require", "prefer", "allow"] {
        let url = TlsServer::url_with(&server.url, &format!("sslmode={mode}&sslrootcert={other}"));
        let error = tls_error(in_flight(&url, &query("v1")), &server.password);
        let TlsError::ChainNotVerified { roots, .. } = &error else {
            panic!("{mode}: expected a chain error, got {error:?}");
        };
        assert_eq!(*roots, RootCert::File(other.into()), "{mode}");
        let text = error.to_string();
        assert!(text.contains(other.as_str()), "{text}");
        assert!(text.contains("unknown issuer"), "{text}");
    }
}

#[test]
fn the_system_roots_do_not_trust_a_private_ca() {
    let Some(server) = tls_server("the_system_roots_do_not_trust_a_private_ca") else {
        return;
    };
    // `sslrootcert=system` defaults to verify-full; the test CA is in no system store.
    let url = TlsServer::url_with(&server.url, "sslrootcert=system");
    let error = tls_error(in_flight(&url, &query("v1")), &server.password);
    assert!(
        matches!(
            &error,
            TlsError::ChainNotVerified {
                roots: RootCert::System,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("the system roots"), "{error}");
}

#[test]
fn a_host_the_certificate_does_not_name_is_a_name_error() {
    let Some(server) = tls_server("a_host_the_certificate_does_not_name_is_a_name_error") else {
        return;
    };
    let url = TlsServer::with_host(
        &TlsServer::url_with(
            &server.url,
            &format!("sslmode=verify-full&sslrootcert={}", server.ca),
        ),
        &server.wrong_host,
    );
    let error = tls_error(in_flight(&url, &query("v1")), &server.password);
    let TlsError::HostMismatch {
        host, presented, ..
    } = &error
    else {
        panic!("expected a host name error, got {error:?}");
    };
    assert_eq!(host, &server.wrong_host);
    assert!(presented.iter().any(|name| name == "localhost"), "{error}");
    assert!(presented.iter().any(|name| name == "127.0.0.1"), "{error}");
}

#[test]
fn sslmode_disable_against_a_tls_only_server_says_so() {
    let Some(server) = tls_server("sslmode_disable_against_a_tls_only_server_says_so") else {
        return;
    };
    let url = TlsServer::url_with(&server.url, "sslmode=disable");
    let error = tls_error(in_flight(&url, &query("v1")), &server.password);
    assert!(
        matches!(error, TlsError::RequiredByServer { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("sslmode=disable"), "{error}");
    assert!(error.hint().contains("sslmode=require"), "{}", error.hint());
}

#[test]
fn a_server_without_tls_is_named_when_tls_is_required() {
    let Some(plain) = server_url("a_server_without_tls_is_named_when_tls_is_required") else {
        return;
    };
    let url = TlsServer::url_with(
        &support::with_password(&plain, "pw-not-shown"),
        "sslmode=require",
    );
    let error = tls_error(in_flight(&url, &query("v1")), "pw-not-shown");
    assert!(matches!(error, TlsError::NotOffered { .. }), "{error:?}");
    assert!(error.to_string().contains("does not offer TLS"), "{error}");
    // `prefer` (libpq's default) takes the plain connection the server offers.
    assert!(!session_is_encrypted(&plain).unwrap());
}

#[test]
fn an_unreadable_root_file_fails_before_connecting() {
    let Some(server) = tls_server("an_unreadable_root_file_fails_before_connecting") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("global-bundle.pem");
    let url = TlsServer::url_with(
        &server.url,
        &format!("sslmode=verify-full&sslrootcert={}", missing.display()),
    );
    let error = tls_error(in_flight(&url, &query("v1")), &server.password);
    assert!(
        matches!(error, TlsError::RootCertUnreadable { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("global-bundle.pem"), "{error}");
}
