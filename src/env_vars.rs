//! Every environment variable the program reads, in one place: its name, what it changes, and
//! who may set it. Nothing else in the crate calls `std::env::var`/`var_os` (clippy's
//! `disallowed-methods`, configured in `clippy.toml`, holds that), so this list is complete by
//! construction; README's "Environment variables" table lists the user-facing ones.
//!
//! A [`Audience::Test`] switch exists for the test harness: it is honoured by debug builds (what
//! `cargo test` runs) and by a release build only with the `test-hooks` feature, so a shipped
//! binary cannot be told to abort mid-write by a stray variable. (The shape follows uv's
//! `uv-static` crate: one declaration per variable, documented where it is declared.)

use std::ffi::OsString;

/// Who a variable is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Audience {
    /// Users and CI set it; README documents it.
    User,
    /// Set by the platform (the shell, XDG, libpq's conventions); we follow its meaning.
    Platform,
    /// The test harness only; ignored by a release build without the `test-hooks` feature.
    Test,
}

/// One variable: its name, its audience and what it does.
#[derive(Clone, Copy, Debug)]
pub struct Variable {
    pub name: &'static str,
    pub audience: Audience,
    pub meaning: &'static str,
}

macro_rules! variables {
    ($($(#[$doc:meta])* $id:ident = $name:literal, $audience:ident, $meaning:literal;)*) => {
        $($(#[$doc])* pub const $id: Variable = Variable {
            name: $name,
            audience: Audience::$audience,
            meaning: $meaning,
        };)*
        /// Every variable, in the order README lists them.
        pub const ALL: &[Variable] = &[$($id),*];
    };
}

variables! {
    /// Frozen clock (unix seconds) for certificate validity checks.
    NOW = "DBOS_GITOPS_NOW", User,
        "Unix seconds to use as the current time when judging certificate validity (`tls`, `check`): reproducible runs and checks of a future date.";
    /// How long a command waits for the repository lock.
    LOCK_TIMEOUT = "DBOS_GITOPS_LOCK_TIMEOUT", User,
        "Seconds (0 to 3600, default 30) a command waits for another one's repository lock.";
    /// Where `check` keeps its render cache.
    CACHE_DIR = "DBOS_GITOPS_CACHE_DIR", User,
        "Directory of `check`'s render cache (default `$XDG_CACHE_HOME/dbos-gitops/render`).";
    /// The value-MAC key shared by a team or CI.
    SEAL_MAC_KEY_FILE = "DBOS_GITOPS_SEAL_MAC_KEY_FILE", User,
        "File of the value-MAC key that keeps unchanged values' ciphertexts stable (as `--mac-key-file`).";
    /// The DBOS system database.
    SYSTEM_DATABASE_URL = "DBOS_SYSTEM_DATABASE_URL", User,
        "The DBOS system database URL for `version list|activate` and `retire` (instead of `--database-url`).";
    /// The caller's Conductor token.
    CONDUCTOR_TOKEN = "DBOS_CONDUCTOR_TOKEN", User,
        "Bearer token (a user JWT or an admin API key) for Conductor's API (instead of `--token-file`).";
    /// kubeseal's variable for the sealing certificate.
    SEALED_SECRETS_CERT = "SEALED_SECRETS_CERT", User,
        "The sealing certificate of `seal` without `--env` (as kubeseal's `--cert`; ignored with `--env`).";
    /// The no-color.org convention.
    NO_COLOR = "NO_COLOR", User,
        "Set and not empty: no colour with `--color auto` (the default); `--color always` still colours.";
    /// XDG config base.
    XDG_CONFIG_HOME = "XDG_CONFIG_HOME", Platform,
        "Base of the per-user private directory (`dbos-gitops/`: development keys, MAC and journal keys).";
    /// XDG cache base.
    XDG_CACHE_HOME = "XDG_CACHE_HOME", Platform,
        "Base of the render cache directory.";
    /// The home directory.
    HOME = "HOME", Platform,
        "Fallback for the XDG directories (`~/.config`, `~/.cache`).";
    /// Where `kubectl` is found.
    PATH = "PATH", Platform,
        "Searched for `kubectl` (absolute entries only).";
    /// Crash on demand, for the crash-consistency tests.
    FAILPOINT = "DBOS_GITOPS_FAILPOINT", Test,
        "`stage:N` or `rename:N`: abort just before the Nth staged write or rename (crash tests).";
}

/// Whether this build honours [`Audience::Test`] switches.
pub const TEST_HOOKS: bool = cfg!(any(debug_assertions, feature = "test-hooks"));

/// The variable's value, or `None` when unset (or a test switch in a build that ignores them).
pub fn get_os(variable: Variable) -> Option<OsString> {
    if variable.audience == Audience::Test && !TEST_HOOKS {
        return None;
    }
    #[allow(clippy::disallowed_methods)]
    std::env::var_os(variable.name)
}

/// The variable's value when it is set and valid UTF-8.
pub fn get(variable: Variable) -> Option<String> {
    get_os(variable).and_then(|value| value.into_string().ok())
}

/// The variable's value when it is set and not empty.
pub fn get_non_empty(variable: Variable) -> Option<OsString> {
    get_os(variable).filter(|value| !value.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_documented() {
        let mut names: Vec<&str> = ALL.iter().map(|variable| variable.name).collect();
        names.sort_unstable();
        let count = names.len();
        names.dedup();
        assert_eq!(names.len(), count, "a variable is declared twice");
        for variable in ALL {
            assert!(
                variable.meaning.len() > 20,
                "{} has no meaning",
                variable.name
            );
        }
    }

    #[test]
    fn every_user_variable_is_in_the_readme() {
        let readme = include_str!("../README.md");
        for variable in ALL.iter().filter(|v| v.audience == Audience::User) {
            assert!(
                readme.contains(&format!("| `{}` |", variable.name)),
                "README's variables table has no row for `{}`",
                variable.name
            );
        }
    }
}
