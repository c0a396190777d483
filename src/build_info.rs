//! What `--version` says: the package version and the commit it was built from (build.rs), and
//! under `--version` (not `-V`) the target and how AWS-LC seeds its generator, read from the
//! linked library at run time. Every install path builds the same AWS-LC (CPU jitter and the
//! operating system, its default); sealing draws no random byte from it either way
//! (crates/seal/src/rsa_public.rs), so the line is there to tell two builds apart, not to warn.

/// `-V`: `0.1.0 (commit 0123456789ab)`, or `0.1.0` for a build with no commit to name.
pub const VERSION: &str = {
    if env!("DBOS_GITOPS_COMMIT").is_empty() {
        env!("CARGO_PKG_VERSION")
    } else {
        concat!(
            env!("CARGO_PKG_VERSION"),
            " (commit ",
            env!("DBOS_GITOPS_COMMIT"),
            ")"
        )
    }
};

/// Whether the linked AWS-LC seeds from CPU-jitter entropy (no seeding happens to ask it).
pub fn aws_lc_uses_cpu_jitter() -> bool {
    aws_lc_rs::try_fips_cpu_jitter_entropy().is_ok()
}

/// `--version`: VERSION, then the target and AWS-LC's entropy source.
pub fn long_version() -> String {
    let entropy = if aws_lc_uses_cpu_jitter() {
        "CPU jitter and the operating system"
    } else {
        "the operating system (no CPU jitter)"
    };
    format!(
        "{VERSION}\ntarget: {}\nAWS-LC entropy: {entropy}",
        env!("DBOS_GITOPS_TARGET")
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_long_version_names_the_target_and_what_aws_lc_was_built_with() {
        let long = super::long_version();
        let lines: Vec<&str> = long.lines().collect();
        assert_eq!(lines.len(), 3, "{long}");
        assert_eq!(lines[0], super::VERSION);
        assert_eq!(lines[1], concat!("target: ", env!("DBOS_GITOPS_TARGET")));
        // What the library says of itself: the default build seeds from CPU jitter too.
        let expected = if aws_lc_rs::try_fips_cpu_jitter_entropy().is_ok() {
            "AWS-LC entropy: CPU jitter and the operating system"
        } else {
            "AWS-LC entropy: the operating system (no CPU jitter)"
        };
        assert_eq!(lines[2], expected);
    }
}
