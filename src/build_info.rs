//! What `--version` says: the package version and the commit it was built from (build.rs), and
//! under `--version` (not `-V`) the target and how AWS-LC seeds its generator, read from the
//! linked library at run time.

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
    fn this_build_has_no_cpu_jitter_entropy() {
        assert!(
            !super::aws_lc_uses_cpu_jitter(),
            "{}",
            super::long_version()
        );
    }
}
