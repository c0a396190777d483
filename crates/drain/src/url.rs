//! Database URL handling for the drain check: parsing into a driver config, spotting TLS
//! requests this build cannot honour, and redacting passwords so that no error message or log
//! line ever repeats a credential the operator typed.

use std::str::FromStr;

use postgres::config::{Host, SslMode};

use crate::DrainError;

/// What the drain check needs to know about a parsed URL.
pub(crate) struct Parsed {
    pub config: postgres::Config,
    /// `host:port/dbname`, safe to show.
    pub target: String,
    pub user: String,
    pub database: String,
    /// The password as typed, to scrub from driver messages.
    pub password: Option<String>,
}

/// Parses a `postgresql://` URL or a libpq `key=value` string.
pub(crate) fn parse(database_url: &str) -> Result<Parsed, DrainError> {
    let looks_like_url = database_url.contains("://") || database_url.contains('=');
    // Something that is neither form may be a pasted password: do not echo it at all.
    let redacted = if looks_like_url {
        redact(database_url)
    } else {
        "(not shown)".to_owned()
    };
    if database_url.trim().is_empty() {
        return Err(DrainError::BadUrl {
            url: redacted,
            reason: "the url is empty".into(),
        });
    }
    // libpq reads the userinfo up to the last `@`; the driver up to the first, and would then
    // show the rest of the password as the host. Refuse, showing nothing of the userinfo.
    if let Some(scheme_end) = database_url.find("://").map(|index| index + 3) {
        let rest = &database_url[scheme_end..];
        if let Some(at) = rest.rfind('@') {
            if rest[..at].contains('@') {
                return Err(DrainError::BadUrl {
                    url: format!("{}***{}", &database_url[..scheme_end], &rest[at..]),
                    reason: "the user or password holds an unencoded `@`: percent-encode it as `%40` (and `:` `/` `?` `#` `%` as `%3A` `%2F` `%3F` `%23` `%25`)".into(),
                });
            }
        }
    }
    if let Some(mode) = sslmode(database_url) {
        if matches!(mode.as_str(), "require" | "verify-ca" | "verify-full") {
            return Err(DrainError::TlsUnsupported {
                url: redacted,
                mode,
            });
        }
    }
    let config = postgres::Config::from_str(database_url).map_err(|e| {
        let mut reason = scrub(&error_chain(&e), raw_password(database_url).as_deref());
        if !looks_like_url {
            reason = "expected `postgresql://USER:PASSWORD@HOST:PORT/DBNAME`".into();
        }
        DrainError::BadUrl {
            url: redacted.clone(),
            reason,
        }
    })?;
    if config.get_ssl_mode() == SslMode::Require {
        return Err(DrainError::TlsUnsupported {
            url: redacted,
            mode: "require".into(),
        });
    }
    if config.get_hosts().is_empty() {
        return Err(DrainError::BadUrl {
            url: redacted,
            reason: "no host given".into(),
        });
    }
    let user = config
        .get_user()
        .map(str::to_owned)
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "postgres".into());
    let database = config
        .get_dbname()
        .map(str::to_owned)
        .unwrap_or_else(|| user.clone());
    let host = match &config.get_hosts()[0] {
        Host::Tcp(h) => h.clone(),
        #[cfg(unix)]
        Host::Unix(p) => p.display().to_string(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let password = config
        .get_password()
        .map(|p| String::from_utf8_lossy(p).into_owned());
    Ok(Parsed {
        target: format!("{host}:{port}/{database}"),
        user,
        database,
        password,
        config,
    })
}

/// The `sslmode` value of a URL (`?sslmode=`) or key/value string (`sslmode=`), lowercased.
fn sslmode(s: &str) -> Option<String> {
    let idx = s.find("sslmode=")?;
    let before = s[..idx].chars().last();
    if !matches!(before, None | Some('?' | '&' | ' ' | '\t')) {
        return None;
    }
    let rest = s[idx + "sslmode=".len()..].trim_start_matches(['\'', '"']);
    let end = rest
        .find(|c: char| c == '&' || c == '\'' || c == '"' || c.is_whitespace())
        .unwrap_or(rest.len());
    Some(rest[..end].to_ascii_lowercase())
}

/// The password as typed in the raw string, if one can be spotted (used only for scrubbing).
fn raw_password(s: &str) -> Option<String> {
    if let Some((start, end)) = url_password_span(s) {
        return Some(s[start..end].to_owned());
    }
    password_param_span(s).map(|(start, end)| s[start..end].to_owned())
}

/// Byte span of the password in `scheme://user:password@host...`.
fn url_password_span(s: &str) -> Option<(usize, usize)> {
    let scheme_end = s.find("://")? + 3;
    let rest = &s[scheme_end..];
    // The userinfo ends at the last `@` (a password may itself contain `@` or `/`).
    let at = rest.rfind('@')?;
    let colon = rest[..at].find(':')?;
    Some((scheme_end + colon + 1, scheme_end + at))
}

/// Byte span of the value of a `password=` parameter (URL query or key/value form).
fn password_param_span(s: &str) -> Option<(usize, usize)> {
    let mut from = 0;
    while let Some(rel) = s[from..].find("password=") {
        let idx = from + rel;
        let before = s[..idx].chars().last();
        if matches!(before, None | Some('?' | '&' | ' ' | '\t')) {
            let start = idx + "password=".len();
            let rest = &s[start..];
            if let Some(quoted) = rest.strip_prefix('\'') {
                let end = quoted.find('\'').unwrap_or(quoted.len());
                return Some((start + 1, start + 1 + end));
            }
            let end = rest
                .find(|c: char| c == '&' || c.is_whitespace())
                .unwrap_or(rest.len());
            return Some((start, start + end));
        }
        from = idx + 1;
    }
    None
}

/// The URL with any password replaced by `***`, safe for messages and logs.
pub fn redact(database_url: &str) -> String {
    let mut out = database_url.to_owned();
    if let Some((start, end)) = url_password_span(&out) {
        out.replace_range(start..end, "***");
    }
    while let Some((start, end)) = password_param_span(&out) {
        if &out[start..end] == "***" {
            break;
        }
        out.replace_range(start..end, "***");
    }
    out
}

/// Removes a password from a driver message (belt and braces: the driver should not echo it).
pub(crate) fn scrub(message: &str, password: Option<&str>) -> String {
    match password {
        Some(p) if p.len() >= 3 => message.replace(p, "***"),
        _ => message.to_owned(),
    }
}

/// `error: cause: cause` for a driver error.
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let c = cause.to_string();
        if !s.contains(&c) {
            s.push_str(": ");
            s.push_str(&c);
        }
        source = cause.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_url_passwords() {
        assert_eq!(
            redact("postgresql://app:s3cret@db:5432/sys"),
            "postgresql://app:***@db:5432/sys"
        );
        assert_eq!(
            redact("postgres://app:p@ss/w0rd@db/sys?sslmode=disable"),
            "postgres://app:***@db/sys?sslmode=disable"
        );
        assert_eq!(redact("postgresql://app@db/sys"), "postgresql://app@db/sys");
        assert_eq!(
            redact("postgresql://db/sys?user=app&password=hunter2&x=1"),
            "postgresql://db/sys?user=app&password=***&x=1"
        );
        assert_eq!(
            redact("host=db user=app password='a b c' dbname=sys"),
            "host=db user=app password='***' dbname=sys"
        );
        assert_eq!(redact("host=db password=xyz"), "host=db password=***");
    }

    #[test]
    fn spots_sslmode() {
        assert_eq!(
            sslmode("postgresql://a@b/c?sslmode=require").as_deref(),
            Some("require")
        );
        assert_eq!(
            sslmode("host=b sslmode='verify-full' user=a").as_deref(),
            Some("verify-full")
        );
        assert_eq!(sslmode("postgresql://a@b/c"), None);
    }

    #[test]
    fn tls_urls_are_refused_clearly() {
        for url in [
            "postgresql://app:pw123@db/sys?sslmode=require",
            "postgresql://app:pw123@db/sys?sslmode=verify-full",
            "host=db user=app password=pw123 sslmode=verify-ca",
        ] {
            let err = parse(url).err().expect("must fail");
            assert!(
                matches!(err, DrainError::TlsUnsupported { .. }),
                "{url}: {err}"
            );
            assert!(!err.to_string().contains("pw123"), "{err}");
            assert!(err.hint().unwrap().contains("sslmode=disable"));
        }
        assert!(parse("postgresql://app:pw123@db/sys?sslmode=disable").is_ok());
        assert!(parse("postgresql://app:pw123@db/sys?sslmode=prefer").is_ok());
    }

    #[test]
    fn an_unencoded_at_in_the_password_shows_nothing_of_the_userinfo() {
        for url in [
            "postgresql://u:SeKr@Et24@host/db",
            "postgresql://us@er@host/db",
        ] {
            let Err(error) = parse(url) else {
                panic!("{url} accepted")
            };
            let text = error.to_string();
            assert!(!text.contains("SeKr") && !text.contains("Et24"), "{text}");
            assert!(!text.contains("us@") && !text.contains("er@"), "{text}");
            assert!(text.contains("%40"), "{text}");
            assert!(text.contains("***@host/db"), "{text}");
        }
    }

    #[test]
    fn bad_urls_never_echo_the_password() {
        for url in [
            "postgresql://app:topsecret@db:notaport/sys",
            "postgresql://app:topsecret@db/sys?bogus=1",
            "not a url at all topsecret",
            "",
        ] {
            let err = parse(url).err().expect("must fail");
            assert!(matches!(err, DrainError::BadUrl { .. }), "{url}: {err}");
            assert!(!err.to_string().contains("topsecret"), "{err}");
        }
    }

    #[test]
    fn target_has_no_credentials() {
        let p = parse("postgresql://app:pw@db.example:6543/sys").unwrap();
        assert_eq!(p.target, "db.example:6543/sys");
        assert_eq!(p.user, "app");
        assert_eq!(p.database, "sys");
        assert_eq!(p.password.as_deref(), Some("pw"));
    }
}
