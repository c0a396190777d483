//! The drain check's database URL parser (`--database-url`), compiled from its source (it is
//! private to the drain crate). Besides "no panic": the password never shows in a redacted URL
//! or an error message, for URLs built around a known password.
#![no_main]

use dbos_gitops_drain::DrainError;
use libfuzzer_sys::fuzz_target;

#[allow(dead_code)]
#[path = "../../crates/drain/src/url.rs"]
mod url;

fuzz_target!(|data: &[u8]| {
    let Some(text) = std::str::from_utf8(data).ok() else {
        return;
    };
    // Raw: anything at all.
    let _ = url::parse(text);
    let _ = url::redact(text);
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
    let ideal = format!("postgresql://{user}:***@{rest}");
    if built.matches(password).count() != 1 || ideal.contains(password) {
        return;
    }
    let shown = url::redact(&built);
    assert!(
        !shown.contains(password),
        "redacted url shows the password: {shown}"
    );
    if let Err(error) = url::parse(&built) {
        let message = error.to_string();
        assert!(
            !message.contains(password),
            "error shows the password: {message}"
        );
    }
});
