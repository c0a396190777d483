//! The system database as a source of version facts: where its URL comes from (a file, the
//! flag with a warning when it carries a password, `DBOS_SYSTEM_DATABASE_URL`), the bound on
//! each statement, and the read of what it holds per version. Shared by the module above and
//! by `source` (the database or Conductor).

use std::time::Duration;

use dbos_gitops_drain::{DrainError, VersionsQuery, VersionsReport};

use crate::error::Error;

/// The environment variable DBOS itself reads for the system database.
pub const DATABASE_URL_ENV: &str = crate::env_vars::SYSTEM_DATABASE_URL.name;

/// Bound on connecting and on each statement.
pub const DATABASE_TIMEOUT: Duration = Duration::from_secs(10);

/// The database URL: `--database-url-file`, else `--database-url` (with a warning when it
/// carries a password, which every local user can read from the process's argv), else
/// `DBOS_SYSTEM_DATABASE_URL` when set and not blank.
pub fn database_url(
    flag: Option<&String>,
    file: Option<&std::path::PathBuf>,
) -> Result<Option<String>, Error> {
    if let Some(path) = file {
        let text = std::fs::read_to_string(path).map_err(|error| {
            Error::input(format!(
                "cannot read the database url from `{}`: {error}",
                path.display()
            ))
            .hint("write the DBOS system database url on the file's first line")
        })?;
        let url = text.trim();
        if url.is_empty() || url.contains('\n') {
            return Err(Error::input(format!(
                "`{}` must hold exactly one line, the DBOS system database url",
                path.display()
            ))
            .hint("write `postgresql://USER:PASSWORD@HOST:5432/DBNAME` on one line"));
        }
        return Ok(Some(url.to_string()));
    }
    if let Some(url) = flag {
        if has_password(url) {
            crate::term::warn(&format!(
                "warning: the database password is on the command line, where every local user can read it (`ps`, /proc/PID/cmdline): set `{DATABASE_URL_ENV}` or use `--database-url-file FILE` instead"
            ));
        }
        return Ok(Some(url.clone()));
    }
    Ok(crate::env_vars::get(crate::env_vars::SYSTEM_DATABASE_URL)
        .filter(|url| !url.trim().is_empty()))
}

/// Whether a libpq URL carries a password: `scheme://user:password@host` or `password=`.
pub(super) fn has_password(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    if lower.contains("password=") {
        return true;
    }
    let Some((_, rest)) = url.split_once("://") else {
        return false;
    };
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    match authority.rsplit_once('@') {
        Some((userinfo, _)) => userinfo.contains(':'),
        None => false,
    }
}

/// A database failure as an input error (exit 2): `what` says what could not be done and that
/// nothing changed; the drain error's hint comes along. The password never appears: the drain
/// crate scrubs it from every message.
pub fn failure(what: String, error: DrainError) -> Error {
    let failure = Error::input(format!("{what}: {error}"));
    match error.hint() {
        Some(hint) => failure.hint(hint),
        None => failure,
    }
}

pub(super) fn query(application_name: Option<&str>) -> VersionsQuery<'_> {
    VersionsQuery {
        timeout: DATABASE_TIMEOUT,
        ..VersionsQuery::new(application_name)
    }
}

/// Reads what the system database holds per version (read-only).
pub fn report(
    database_url: &str,
    application_name: Option<&str>,
    what: &str,
) -> Result<VersionsReport, Error> {
    dbos_gitops_drain::versions_report(database_url, &query(application_name))
        .map_err(|error| failure(format!("{what}, so nothing was changed"), error))
}
