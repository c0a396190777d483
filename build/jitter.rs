//! Whether this build has AWS-LC's CPU-jitter entropy turned off, read the way aws-lc-sys 0.47
//! reads it (its `builder/main.rs`: the crate-and-target variable first, then the crate one; a
//! value starting with `0`, `n`, `off` or `f` is false, one starting with another digit, `y`,
//! `on` or `t` true). Shared by build.rs and its test (tests/install.rs).

/// What build.rs does with the setting.
#[derive(Debug, PartialEq, Eq)]
pub enum Decision {
    /// Jitter entropy off: the program every install path must build.
    Off,
    /// Explicitly turned back on: builds, with a warning.
    DeliberatelyOn,
    /// Not set (or unreadable): `cargo install --git` or a registry install; stop.
    Missing,
}

/// The variables aws-lc-sys consults, in its order, for `target` (e.g. x86_64-unknown-linux-gnu).
pub fn variable_names(target: &str) -> [String; 2] {
    let base = "AWS_LC_SYS_NO_JITTER_ENTROPY";
    [
        format!("{base}_{}", target.to_lowercase().replace('-', "_")),
        base.to_string(),
    ]
}

pub fn decide(value: Option<&str>) -> Decision {
    let Some(value) = value else {
        return Decision::Missing;
    };
    let value = value.to_lowercase();
    let starts = |prefixes: &[&str]| prefixes.iter().any(|p| value.starts_with(p));
    if starts(&["0", "n", "off", "f"]) {
        Decision::DeliberatelyOn
    } else if value.starts_with(|c: char| c.is_ascii_digit()) || starts(&["y", "on", "t"]) {
        Decision::Off
    } else {
        Decision::Missing
    }
}

pub const MISSING_HELP: &str = "\
error: AWS_LC_SYS_NO_JITTER_ENTROPY is not set for this build.
  dbos-gitops builds AWS-LC without its CPU-jitter entropy (it seeds from the operating system
  instead; with jitter every `seal` costs ~20 ms more). The repository's .cargo/config.toml sets
  it, but `cargo install --git` and registry installs do not read that file. Set it yourself:
    AWS_LC_SYS_NO_JITTER_ENTROPY=1 cargo install --locked --git <url> dbos-gitops
  or install from a checkout: cargo install --locked --path <checkout>";
