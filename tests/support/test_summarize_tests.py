#!/usr/bin/env python3
"""Self-test of summarize_tests.py on a recorded-style cargo test output."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from summarize_tests import summarize  # noqa: E402

OUTPUT = """\
     Running unittests src/lib.rs (target/debug/deps/dbos_gitops_seal-0123abcd)
running 2 tests
test a::one ... ok
test a::two ... ok
test result: ok. 2 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.01s
     Running tests/cli/main.rs (target/debug/deps/cli-89abcdef)
running 5 tests
test retire::db ... ok

SKIPPED cli::retire::db: DBOS_GITOPS_TEST_DATABASE_URL is not set
test dex::hash ...
SKIPPED cli::dex::hash: `htpasswd` is not available
ok
test dex::other ... ok
test tls::partly ... FAILED

SKIPPED cli::tls::partly: `openssl version` does not run
test tls::ignored_one ... ignored
test result: FAILED. 3 passed; 1 failed; 1 ignored; 0 measured; 0 filtered out; finished in 1s
     Running tests/password.rs (target/debug/deps/password-00ff00ff)
test db ... ok
test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 1s
"""

report, summary = summarize(OUTPUT.splitlines(keepends=True))
# 6 ok, of which cli::retire::db and cli::dex::hash were skips (a same-named `db` in another
# binary is not); the failed test that also skipped stays failed.
assert summary == "4 passed, 1 failed, 2 skipped", summary
assert report == [
    "skipped: cli::dex::hash: `htpasswd` is not available",
    "skipped: cli::retire::db: DBOS_GITOPS_TEST_DATABASE_URL is not set",
    "skipped, then FAILED: cli::tls::partly: `openssl version` does not run",
], report
print("summarize_tests.py: self-test passed")
