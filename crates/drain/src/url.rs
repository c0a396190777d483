//! Database URL handling for the drain check: parsing into a driver config, taking out the TLS
//! parameters the driver does not know (`sslmode` beyond `require`, `sslrootcert`) for the
//! `tls` module, and redacting passwords so that no error message or log line ever repeats a
//! credential the operator typed.

use std::str::FromStr;

use postgres::config::Host;

use crate::error::DrainError;
use crate::tls::{self, TlsSettings};

/// What the drain check needs to know about a parsed URL.
pub(crate) struct Parsed {
    pub config: postgres::Config,
    /// `host:port/dbname`, safe to show.
    pub target: String,
    pub user: String,
    pub database: String,
    /// The password as typed, to scrub from driver messages.
    pub password: Option<String>,
    /// `sslmode` and `sslrootcert`, resolved as libpq does.
    pub tls: TlsSettings,
}

/// The TLS parameters taken out of the URL before the driver parses it.
const TLS_KEYS: [&str; 2] = ["sslmode", "sslrootcert"];

/// Parses a `postgresql://` URL or a libpq `key=value` string, reading `PGSSLMODE` and
/// `PGSSLROOTCERT` from the process environment and libpq's default root file under `$HOME`.
// libpq's variables are read here and nowhere else in this crate (the main crate's
// `env_vars` lists them for users); clippy.toml disallows the reads elsewhere.
#[allow(clippy::disallowed_methods)]
pub(crate) fn parse(database_url: &str) -> Result<Parsed, DrainError> {
    let home = std::env::var_os("HOME").map(std::path::PathBuf::from);
    parse_with_env(
        database_url,
        &|key| std::env::var(key).ok(),
        home.as_deref(),
    )
}

/// [`parse`] with the environment and home directory given (for tests).
pub(crate) fn parse_with_env(
    database_url: &str,
    env: &dyn Fn(&str) -> Option<String>,
    home: Option<&std::path::Path>,
) -> Result<Parsed, DrainError> {
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
    let (driver_url, tls_params) = take_tls_params(database_url);
    let param = |key: &str| {
        tls_params
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    let tls = tls::resolve(param("sslmode"), param("sslrootcert"), env, home)?;
    let config = postgres::Config::from_str(&driver_url).map_err(|e| {
        let mut reason = scrub(&error_chain(&e), raw_password(database_url).as_deref());
        if !looks_like_url {
            reason = "expected `postgresql://USER:PASSWORD@HOST:PORT/DBNAME`".into();
        }
        DrainError::BadUrl {
            url: redacted.clone(),
            reason,
        }
    })?;
    if config.get_hosts().is_empty() {
        return Err(DrainError::BadUrl {
            url: redacted,
            reason: "no host given".into(),
        });
    }
    let user = config
        .get_user()
        .map(str::to_owned)
        .or_else(|| {
            #[allow(clippy::disallowed_methods)]
            std::env::var("USER").ok()
        })
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
        tls,
    })
}

/// Splits the TLS parameters off a URL (`?sslmode=...&sslrootcert=...`, values
/// percent-decoded) or a key/value string (`sslmode=require sslrootcert='/a b.pem'`), returning
/// the rest for the driver and the taken `(key, value)` pairs in order.
fn take_tls_params(s: &str) -> (String, Vec<(String, String)>) {
    if s.contains("://") {
        take_query_params(s)
    } else {
        take_keyword_params(s).unwrap_or_else(|| (s.to_owned(), Vec::new()))
    }
}

fn take_query_params(s: &str) -> (String, Vec<(String, String)>) {
    let Some(q) = s.find('?') else {
        return (s.to_owned(), Vec::new());
    };
    let mut taken = Vec::new();
    let mut kept = Vec::new();
    for piece in s[q + 1..].split('&') {
        match piece.split_once('=') {
            Some((key, value)) if TLS_KEYS.contains(&key) => {
                taken.push((key.to_owned(), percent_decode(value)));
            }
            _ => kept.push(piece),
        }
    }
    let mut rest = s[..q].to_owned();
    if !kept.is_empty() {
        rest.push('?');
        rest.push_str(&kept.join("&"));
    }
    (rest, taken)
}

/// `%XX` decoding (a `+` stays a `+`, as libpq reads URLs).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// libpq's key/value form: `key = value` pairs separated by white space, a value either bare
/// or single-quoted, with `\` escaping the next character. `None` when it does not scan (the
/// driver then reports the error).
fn take_keyword_params(s: &str) -> Option<(String, Vec<(String, String)>)> {
    let chars: Vec<(usize, char)> = s.char_indices().collect();
    let at = |i: usize| chars.get(i).map(|(_, c)| *c);
    let offset = |i: usize| chars.get(i).map_or(s.len(), |(o, _)| *o);
    let mut rest = String::new();
    let mut taken = Vec::new();
    let mut i = 0;
    loop {
        while at(i).is_some_and(char::is_whitespace) {
            i += 1;
        }
        if at(i).is_none() {
            break;
        }
        let start = i;
        while at(i).is_some_and(|c| c != '=' && !c.is_whitespace()) {
            i += 1;
        }
        let key: String = chars[start..i].iter().map(|(_, c)| c).collect();
        while at(i).is_some_and(char::is_whitespace) {
            i += 1;
        }
        if at(i) != Some('=') {
            return None;
        }
        i += 1;
        while at(i).is_some_and(char::is_whitespace) {
            i += 1;
        }
        let mut value = String::new();
        let quoted = at(i) == Some('\'');
        if quoted {
            i += 1;
        }
        loop {
            match at(i) {
                None if quoted => return None,
                None => break,
                Some('\'') if quoted => {
                    i += 1;
                    break;
                }
                Some(c) if c.is_whitespace() && !quoted => break,
                Some('\\') => {
                    value.extend(at(i + 1));
                    i += 2;
                }
                Some(c) => {
                    value.push(c);
                    i += 1;
                }
            }
        }
        if TLS_KEYS.contains(&key.as_str()) {
            taken.push((key, value));
        } else {
            rest.push_str(&s[offset(start)..offset(i)]);
            rest.push(' ');
        }
    }
    Some((rest.trim_end().to_owned(), taken))
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

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn takes_tls_params_out_of_urls_and_keyword_strings() {
        let (rest, taken) = take_tls_params(
            "postgresql://a:pw@b/c?sslmode=verify-full&application_name=x&sslrootcert=%2Ftmp%2Fa%20b.pem",
        );
        assert_eq!(rest, "postgresql://a:pw@b/c?application_name=x");
        assert_eq!(
            taken,
            [
                ("sslmode".to_owned(), "verify-full".to_owned()),
                ("sslrootcert".to_owned(), "/tmp/a b.pem".to_owned())
            ]
        );
        let (rest, _) = take_tls_params("postgresql://a@b/c?sslmode=require");
        assert_eq!(rest, "postgresql://a@b/c");
        let (rest, taken) = take_tls_params(
            "host=b sslmode = 'verify-ca' user=a sslrootcert='/x/it\\'s.pem' password='p w'",
        );
        assert_eq!(rest, "host=b user=a password='p w'");
        assert_eq!(taken[0], ("sslmode".to_owned(), "verify-ca".to_owned()));
        assert_eq!(
            taken[1],
            ("sslrootcert".to_owned(), "/x/it's.pem".to_owned())
        );
        assert_eq!(take_tls_params("postgresql://a@b/c").1, []);
    }

    #[test]
    fn every_libpq_sslmode_is_accepted_with_the_url_winning_over_the_environment() {
        let env = |key: &str| match key {
            "PGSSLMODE" => Some("verify-full".to_owned()),
            "PGSSLROOTCERT" => Some("/env/ca.pem".to_owned()),
            _ => None,
        };
        for mode in ["disable", "allow", "prefer", "require"] {
            let url = format!("postgresql://app:pw123@db/sys?sslmode={mode}");
            let parsed = parse_with_env(&url, &no_env, None).unwrap();
            assert_eq!(parsed.tls.mode.as_str(), mode);
            let parsed = parse_with_env(&url, &env, None).unwrap();
            assert_eq!(parsed.tls.mode.as_str(), mode, "the url wins");
            assert_eq!(
                parsed.tls.root,
                Some(crate::tls::RootCert::File("/env/ca.pem".into()))
            );
        }
        let parsed = parse_with_env("postgresql://app@db/sys", &env, None).unwrap();
        assert_eq!(parsed.tls.mode.as_str(), "verify-full");
        let parsed = parse_with_env(
            "host=db user=app sslmode=verify-ca sslrootcert=/a.pem",
            &no_env,
            None,
        )
        .unwrap();
        assert_eq!(parsed.tls.mode.as_str(), "verify-ca");
        assert_eq!(parsed.target, "db:5432/app");
        let parsed =
            parse_with_env("postgresql://app@db/sys?sslrootcert=system", &no_env, None).unwrap();
        assert_eq!(parsed.tls.mode.as_str(), "verify-full");
    }

    #[test]
    fn tls_setting_errors_never_echo_the_password() {
        for url in [
            "postgresql://app:pw123@db/sys?sslmode=verify-full",
            "postgresql://app:pw123@db/sys?sslmode=bogus",
            "postgresql://app:pw123@db/sys?sslmode=require&sslrootcert=system",
            "host=db user=app password=pw123 sslmode=verify-ca",
        ] {
            let err = parse_with_env(url, &no_env, None).err().expect("must fail");
            assert!(matches!(err, DrainError::Tls(_)), "{url}: {err}");
            assert!(!err.to_string().contains("pw123"), "{err}");
            assert!(err.hint().is_some_and(|h| h.contains("sslmode")), "{err}");
        }
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
        let p = parse_with_env("postgresql://app:pw@db.example:6543/sys", &no_env, None).unwrap();
        assert_eq!(p.target, "db.example:6543/sys");
        assert_eq!(p.user, "app");
        assert_eq!(p.database, "sys");
        assert_eq!(p.password.as_deref(), Some("pw"));
    }
}
