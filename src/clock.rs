//! The one clock: certificate validity (`tls`, `check`) is judged against it. `DBOS_GITOPS_NOW`
//! (unix seconds) freezes it, for tests and reproducible runs.

use crate::error::Error;

pub const NOW_VARIABLE: &str = "DBOS_GITOPS_NOW";

/// The current time in unix seconds: `DBOS_GITOPS_NOW` when set, else the system clock.
pub fn now_unix() -> Result<i64, Error> {
    if let Some(value) = std::env::var_os(NOW_VARIABLE) {
        let text = value.to_string_lossy();
        return text.trim().parse::<i64>().map_err(|_| {
            Error::input(format!(
                "`{NOW_VARIABLE}={text}` is not a number of unix seconds"
            ))
            .hint(format!("unset `{NOW_VARIABLE}` to use the system clock"))
        });
    }
    let elapsed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|_| Error::input("the system clock is before 1970").hint("check the clock"))?;
    Ok(elapsed.as_secs() as i64)
}
