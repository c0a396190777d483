//! Whole-output tests with the builder of tests/cli/expect.rs: every byte of stdout and stderr
//! and the exit code, for refusals and no-ops whose exact wording users see (and scripts read).
//! Each refusal also leaves the tree byte-identical.

use crate::expect::Test;
use crate::support::TestRepo;

#[test]
fn init_in_an_existing_repository_refuses() {
    let repo = TestRepo::new();
    Test::in_repo(&repo)
        .args(["init", "--repo-url", "https://github.com/acme/other.git"])
        .status(1)
        .stderr(
            "error: `[REPO]/dbos-gitops.yaml` already exists: this is a dbos-gitops repository\n  \
             hint: add an environment with `dbos-gitops init env NAME`\n",
        )
        .unchanged()
        .run();
}

#[test]
fn an_unknown_environment_names_the_known_ones() {
    let repo = TestRepo::prod();
    Test::in_repo(&repo)
        .args(["build", "--env", "nope"])
        .status(2)
        .stderr(
            "error: no environment `nope` in this repository\n  hint: known environments: `prod`\n",
        )
        .unchanged()
        .run();
}

#[test]
fn a_second_build_is_up_to_date_and_writes_nothing() {
    let repo = TestRepo::prod();
    Test::in_repo(&repo)
        .args(["build"])
        .stdout("up to date\n")
        .unchanged()
        .run();
    Test::in_repo(&repo)
        .args(["build", "--check"])
        .unchanged()
        .run();
}

#[test]
fn tls_refuses_zero_days() {
    let repo = TestRepo::prod();
    Test::in_repo(&repo)
        .args(["tls", "--env", "prod", "--days", "0"])
        .status(2)
        .stderr(
            "error: `--days 0` gives a certificate that is never valid\n  \
             hint: ask for at least 1 day, e.g. `--days 365`\n",
        )
        .unchanged()
        .run();
}

#[test]
fn activating_an_unknown_version_names_the_known_ones() {
    let repo = TestRepo::prod();
    Test::in_repo(&repo)
        .args(["version", "activate", "v9", "--env", "prod"])
        .status(2)
        .stderr("error: environment `prod` has no version `v9`\n  hint: known versions: `v1`\n")
        .unchanged()
        .run();
}

/// `dex hash` prints exactly one bcrypt hash line (masked: its salt is random) and nothing else.
#[test]
fn dex_hash_prints_one_hash_line() {
    let repo = TestRepo::new();
    Test::in_repo(&repo)
        .args(["dex", "hash"])
        .stdin(b"correct horse battery staple\n")
        .filter(r"\$2[aby]\$10\$[./A-Za-z0-9]{53}", "[BCRYPT-COST-10]")
        .stdout("[BCRYPT-COST-10]\n")
        .unchanged()
        .run();
}
