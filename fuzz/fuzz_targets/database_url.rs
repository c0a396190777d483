//! The drain check's database URL parser (`--database-url`), through the drain crate's hidden
//! `parse_database_url` (its parser is private, and since TLS it needs the crate's TLS settings
//! module, so it is no longer compiled in from its source). Besides "no panic": the password never shows in a redacted URL
//! or an error message, for URLs built around a known password.
#![no_main]

use dbos_gitops_drain::{parse_database_url, redact_database_url};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(text) = std::str::from_utf8(data).ok() else {
        return;
    };
    // Raw: anything at all.
    let _ = parse_database_url(text);
    let _ = redact_database_url(text);
    // Built: `postgresql://USER:PASSWORD@REST` with the parts taken from the input.
    let mut parts = text.splitn(3, '\u{1}');
    let (Some(user), Some(password), Some(rest)) = (parts.next(), parts.next(), parts.next())
    else {
        return;
    };
    if password.len() < 4 || user.contains(password) || rest.contains(password) {
        return;
    }
    if password.contains(['\u{1}']) || user.contains(['@', ':', '/', '?', '#']) {
        return;
    }
    let built = format!("postgresql://{user}:{password}@{rest}");
    // Only a password that appears once (not also in the scheme, say), and that redaction
    // itself cannot spell (`***` and the text around it), can be looked for.
    // Messages quote the redacted URL in backticks, so the quoted form counts too (a password
    // like "\0x`" is spelled by a rest ending in "\0x" and the closing quote).
    let ideal = format!("`postgresql://{user}:***@{rest}`");
    if built.matches(password).count() != 1 || ideal.contains(password) {
        return;
    }
    let shown = redact_database_url(&built);
    assert!(
        !shown.contains(password),
        "redacted url shows the password: {shown}"
    );
    if let Err(error) = parse_database_url(&built) {
        let message = error.to_string();
        assert!(
            !message.contains(password),
            "error shows the password: {message}"
        );
    }
});
