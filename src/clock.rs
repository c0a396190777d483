//! The one clock: certificate validity (`tls`, `check`) is judged against it. `DBOS_GITOPS_NOW`
//! (unix seconds) freezes it, for tests and reproducible runs.

use crate::error::Error;

pub const NOW_VARIABLE: &str = crate::env_vars::NOW.name;

/// The current time in unix seconds: `DBOS_GITOPS_NOW` when set, else the system clock.
pub fn now_unix() -> Result<i64, Error> {
    if let Some(value) = crate::env_vars::get_os(crate::env_vars::NOW) {
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

/// `YYYY-MM-DD` (UTC) of a unix time, for messages about certificate validity.
pub fn date(unix: i64) -> String {
    // Days since 1970-01-01 to a civil date: Howard Hinnant's days-to-civil algorithm.
    let days = unix.div_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_utc_calendar_days() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(951_782_400), "2000-02-29");
        assert_eq!(date(1_795_737_600), "2026-11-27");
        assert_eq!(date(1_795_756_442), "2026-11-27");
        assert_eq!(date(-86_400), "1969-12-31");
    }
}
