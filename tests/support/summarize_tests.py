#!/usr/bin/env python3
"""The last line of tests/run.sh: `N passed, M failed, K skipped`, true.

A test that returns early because a tool is missing is `ok` to the Rust harness. Every such
test writes `SKIPPED <binary>::<test>: <why>` on stderr (crates/test-support, skip.rs); here
each is matched to its `test <test> ... ok` line in the output of the binary cargo was running,
and counted as skipped instead of passed. A skip line whose test failed stays a failure. A skip
line that matches no test line is reported and counted as skipped; it is not subtracted from
passed (we cannot tell which `ok` it was).

Usage: summarize_tests.py CARGO_TEST_OUTPUT. Prints the skipped tests, then the summary line.
"""
import re
import sys

RUNNING = re.compile(r"^\s*Running .*\((?:.*/)?([^/()]+?)-[0-9a-f]+(?:\.exe)?\)\s*$")
DOCTESTS = re.compile(r"^\s*Doc-tests (\S+)")
TEST = re.compile(r"^test (\S+) \.\.\. ?(ok|FAILED|ignored)?")
STATUS = re.compile(r"^(ok|FAILED|ignored)\b")
SKIP = re.compile(r"^[!* ]*SKIPPED ([^\s:]+)::(\S+?): (.*)$")
RESULT = re.compile(r"^test result: \w+\. (\d+) passed; (\d+) failed")


def summarize(lines):
    binary = None
    pending = None  # a `test X ... ` line whose status came on a later line
    status = {}  # (binary, test) -> ok | FAILED | ignored
    skips = {}  # (binary, test) -> why
    passed = failed = 0
    for line in lines:
        line = line.rstrip("\n")
        if m := RUNNING.match(line):
            binary, pending = m.group(1), None
        elif m := DOCTESTS.match(line):
            binary, pending = f"doctests-{m.group(1)}", None
        elif m := SKIP.match(line):
            skips.setdefault((m.group(1), m.group(2)), m.group(3))
        elif m := TEST.match(line):
            if m.group(2):
                status[(binary, m.group(1))] = m.group(2)
                pending = None
            else:
                pending = m.group(1)
        elif pending and (m := STATUS.match(line.strip())):
            status[(binary, pending)] = m.group(1)
            pending = None
        elif m := RESULT.match(line):
            passed += int(m.group(1))
            failed += int(m.group(2))
    report = []
    skipped_ok = 0
    for (skip_binary, test), why in sorted(skips.items()):
        outcome = status.get((skip_binary, test))
        if outcome == "ok":
            skipped_ok += 1
            report.append(f"skipped: {skip_binary}::{test}: {why}")
        elif outcome is None:
            report.append(f"skipped (no matching test line): {skip_binary}::{test}: {why}")
        else:
            report.append(f"skipped, then {outcome}: {skip_binary}::{test}: {why}")
    skipped = sum(1 for key in skips if status.get(key) in ("ok", None))
    return report, f"{passed - skipped_ok} passed, {failed} failed, {skipped} skipped"


def main():
    with open(sys.argv[1], encoding="utf-8", errors="replace") as output:
        report, summary = summarize(output)
    for line in report:
        print(line)
    print(summary)


if __name__ == "__main__":
    main()
