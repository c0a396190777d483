//! Opening the drain check's connection: the attempts libpq's `sslmode` calls for (plain,
//! TLS, or one then the other), all inside one time bound, and the TLS failures told apart
//! (no TLS on the server, a chain that does not verify, a host name the certificate does not
//! name, a server that refuses plaintext) before the generic classification in `lib.rs`.
//!
//! The fallbacks follow libpq (`fe-connect.c`, "sslmode" in the libpq docs): `allow` tries a
//! plain connection first and TLS when the server rejects it; `prefer` tries TLS first and a
//! plain connection when the server does not offer TLS, the handshake fails or the server
//! rejects the encrypted session; `require` and the `verify-*` modes try TLS only. Unix-domain
//! sockets never use TLS, as in libpq.

use std::time::Duration;

use postgres::config::{Host, SslMode as DriverMode};
use postgres::error::SqlState;
use postgres::NoTls;
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::ctx::Ctx;
use crate::error::DrainError;
use crate::tls::{self, CertProblem, SslMode, TlsError, TlsSettings};

/// One way of connecting.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Attempt {
    Plain,
    /// TLS; the driver's `Prefer` takes a plain session when the server answers "no TLS".
    Tls(DriverMode),
}

/// The attempt for `mode`, and the fallback when libpq has one.
fn plan(mode: SslMode, unix_socket: bool) -> (Attempt, Option<Attempt>) {
    if unix_socket {
        return (Attempt::Plain, None);
    }
    match mode {
        SslMode::Disable => (Attempt::Plain, None),
        SslMode::Allow => (Attempt::Plain, Some(Attempt::Tls(DriverMode::Require))),
        SslMode::Prefer => (Attempt::Tls(DriverMode::Prefer), Some(Attempt::Plain)),
        SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => {
            (Attempt::Tls(DriverMode::Require), None)
        }
    }
}

/// A failed attempt: the driver's error, and whether it was over TLS.
struct Failed {
    error: postgres::Error,
    tls: bool,
}

/// Connects as `settings` asks, giving up after `timeout` (zero: no bound of our own). The
/// driver's `connect_timeout` only bounds the TCP handshake; a peer that accepts and then never
/// answers (a `kubectl port-forward` to a dead pod, a stuck proxy) would block forever, so the
/// whole startup, fallbacks included, runs on a helper thread. A thread that outlives its
/// timeout finishes or fails on its own and drops its client.
pub(crate) fn connect_within(
    config: postgres::Config,
    settings: &TlsSettings,
    ctx: &Ctx,
) -> Result<postgres::Client, DrainError> {
    let unix_socket = config
        .get_hosts()
        .iter()
        .all(|host| !matches!(host, Host::Tcp(_)));
    let attempts = plan(settings.mode, unix_socket);
    let tls = if attempts.0 != Attempt::Plain || attempts.1.is_some() {
        tls::client_config(settings)?.map(MakeRustlsConnect::new)
    } else {
        None
    };
    let timeout = ctx.timeout;
    let run = move || run_attempts(config, attempts, tls);
    let outcome = if timeout.is_zero() {
        run()
    } else {
        within(timeout, run).ok_or_else(|| DrainError::Timeout {
            target: ctx.target.clone(),
            timeout,
        })?
    };
    outcome.map_err(|failed| classify_connect(&failed, settings, ctx))
}

/// Runs `f` on a helper thread and waits at most `timeout` for it (inline when no thread can
/// be had, then bounded by the TCP connect timeout only).
fn within<T: Send + 'static>(
    timeout: Duration,
    f: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    let (tx, rx) = std::sync::mpsc::channel();
    let f = std::sync::Arc::new(std::sync::Mutex::new(Some(f)));
    let for_thread = f.clone();
    let spawned = std::thread::Builder::new()
        .name("dbos-gitops-drain-connect".into())
        .spawn(move || {
            let job = for_thread.lock().ok().and_then(|mut job| job.take());
            if let Some(job) = job {
                let _ = tx.send(job());
            }
        });
    match spawned {
        Ok(_) => rx.recv_timeout(timeout).ok(),
        Err(_) => {
            let job = f.lock().ok().and_then(|mut job| job.take());
            job.map(|job| job())
        }
    }
}

/// Tries the attempt, then the fallback when the first failed in a way libpq retries (the
/// server answered: a rejection, or a failed TLS negotiation). The error kept is the TLS
/// attempt's when there was one (it says why encryption did not work).
fn run_attempts(
    config: postgres::Config,
    (first, fallback): (Attempt, Option<Attempt>),
    tls: Option<MakeRustlsConnect>,
) -> Result<postgres::Client, Failed> {
    let failed = match try_once(&config, first, tls.as_ref()) {
        Ok(client) => return Ok(client),
        Err(failed) => failed,
    };
    let retryable = failed.error.as_db_error().is_some() || is_tls_failure(&failed.error);
    let Some(fallback) = fallback.filter(|_| retryable) else {
        return Err(failed);
    };
    match try_once(&config, fallback, tls.as_ref()) {
        Ok(client) => Ok(client),
        Err(second) if second.tls && !failed.tls => Err(second),
        Err(_) => Err(failed),
    }
}

fn try_once(
    config: &postgres::Config,
    attempt: Attempt,
    tls: Option<&MakeRustlsConnect>,
) -> Result<postgres::Client, Failed> {
    let mut config = config.clone();
    let result = match (attempt, tls) {
        (Attempt::Tls(mode), Some(tls)) => config.ssl_mode(mode).connect(tls.clone()),
        _ => config.ssl_mode(DriverMode::Disable).connect(NoTls),
    };
    result.map_err(|error| Failed {
        error,
        tls: matches!(attempt, Attempt::Tls(_)),
    })
}

/// The driver wraps every TLS negotiation failure as "error performing TLS handshake"
/// (`tokio-postgres` `Error::tls`, raised in `connect_tls.rs`).
fn is_tls_failure(error: &postgres::Error) -> bool {
    error
        .to_string()
        .starts_with("error performing TLS handshake")
}

/// The rustls error inside a driver error: rustls hands it to the driver wrapped in an
/// `io::Error`, whose `source()` skips it, so each `io::Error` is opened with `get_ref`.
fn rustls_error(error: &postgres::Error) -> Option<&rustls::Error> {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(error);
    while let Some(current) = cause {
        if let Some(found) = current.downcast_ref::<rustls::Error>() {
            return Some(found);
        }
        if let Some(io) = current.downcast_ref::<std::io::Error>() {
            if let Some(found) = io.get_ref().and_then(|inner| inner.downcast_ref()) {
                return Some(found);
            }
        }
        cause = current.source();
    }
    None
}

/// Tells the TLS failures apart; anything else goes to the generic classification.
fn classify_connect(failed: &Failed, settings: &TlsSettings, ctx: &Ctx) -> DrainError {
    let error = &failed.error;
    let target = ctx.target.clone();
    if let Some(db) = error.as_db_error() {
        // PostgreSQL's pg_hba rejection names the encryption it saw: "..., no encryption".
        if !failed.tls
            && *db.code() == SqlState::INVALID_AUTHORIZATION_SPECIFICATION
            && db.message().contains("no encryption")
        {
            return TlsError::RequiredByServer {
                target,
                mode: settings.mode,
            }
            .into();
        }
        return crate::ctx::classify(error, ctx);
    }
    if !is_tls_failure(error) {
        return crate::ctx::classify(error, ctx);
    }
    if crate::url::error_chain(error).contains("server does not support TLS") {
        return TlsError::NotOffered {
            target,
            mode: settings.mode,
        }
        .into();
    }
    let scrub = |s: String| crate::url::scrub(&s, ctx.password.as_deref());
    let problem = match rustls_error(error) {
        Some(rustls) => tls::cert_problem(rustls),
        None => CertProblem::Other(crate::url::error_chain(error)),
    };
    match (problem, &settings.root) {
        (CertProblem::Name { host, presented }, _) => TlsError::HostMismatch {
            host: if host.is_empty() {
                host_of(&target)
            } else {
                host
            },
            target,
            presented,
        },
        (CertProblem::Chain(reason), Some(roots)) => TlsError::ChainNotVerified {
            target,
            roots: roots.clone(),
            reason,
        },
        (CertProblem::Chain(reason) | CertProblem::Other(reason), _) => TlsError::Handshake {
            target,
            reason: scrub(reason),
        },
    }
    .into()
}

/// `host` of a `host:port/db` target.
fn host_of(target: &str) -> String {
    let host_port = target.split('/').next().unwrap_or(target);
    match host_port.rsplit_once(':') {
        Some((host, _)) => host.to_owned(),
        None => host_port.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_attempts_follow_libpq() {
        use Attempt::{Plain, Tls};
        assert!(plan(SslMode::Disable, false) == (Plain, None));
        assert!(plan(SslMode::Allow, false) == (Plain, Some(Tls(DriverMode::Require))));
        assert!(plan(SslMode::Prefer, false) == (Tls(DriverMode::Prefer), Some(Plain)));
        for mode in [SslMode::Require, SslMode::VerifyCa, SslMode::VerifyFull] {
            assert!(plan(mode, false) == (Tls(DriverMode::Require), None));
            assert!(
                plan(mode, true) == (Plain, None),
                "unix sockets never use TLS"
            );
        }
    }

    #[test]
    fn host_of_a_target() {
        assert_eq!(host_of("db.example:5432/sys"), "db.example");
        assert_eq!(host_of("127.0.0.1:54339/postgres"), "127.0.0.1");
    }
}
