#!/usr/bin/env python3
"""Refresh the advisory snapshot `cargo deny` falls back to when GitHub cannot be reached.

    python3 supply-chain/snapshot.py ADVISORY_DB_CHECKOUT

ADVISORY_DB_CHECKOUT is a clone of https://github.com/rustsec/advisory-db. For every crate named
in Cargo.lock (any version), each of its advisories under `crates/<name>/` is copied into
`supply-chain/advisory-db/crates/<name>/` with its facts only: the TOML front matter (id,
package, date, affected and patched versions, aliases, the advisory's URL), and a title line of
our own naming the advisory and the package. The advisory's prose stays upstream; the URL in
each file leads to it. `supply-chain/advisory-db/SOURCE` records the commit and its date.

Advisories for crates that are not in the lock are left out: the snapshot answers for this
lock only, and a dependency change that brings a new crate needs a refresh (tests/deny.sh says
so when the lock names a crate the snapshot was not made for).
"""

import pathlib
import shutil
import subprocess
import sys
import tomllib

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "supply-chain" / "advisory-db"


def front_matter(text: str) -> str:
    """The ```toml fenced block at the top of an advisory."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "```toml":
        raise ValueError("no ```toml front matter")
    end = next(i for i, line in enumerate(lines[1:], 1) if line.strip() == "```")
    return "\n".join(lines[1:end]) + "\n"


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    db = pathlib.Path(sys.argv[1])
    lock = tomllib.loads((ROOT / "Cargo.lock").read_text())
    names = sorted({package["name"] for package in lock["package"]})
    commit = subprocess.run(
        ["git", "-C", str(db), "log", "-1", "--format=%H %cs"],
        check=True, capture_output=True, text=True,
    ).stdout.split()
    if OUT.exists():
        shutil.rmtree(OUT)
    count = 0
    for name in names:
        directory = db / "crates" / name
        if not directory.is_dir():
            continue
        for advisory in sorted(directory.glob("RUSTSEC-*.md")):
            facts = front_matter(advisory.read_text())
            parsed = tomllib.loads(facts)["advisory"]
            target = OUT / "crates" / name / advisory.name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(
                "```toml\n" + facts + "```\n\n"
                f"# {parsed['id']}: an advisory for `{name}`\n\n"
                f"Facts only (see supply-chain/snapshot.py); the advisory itself: {parsed.get('url') or 'https://rustsec.org/advisories/' + parsed['id']}\n"
            )
            count += 1
    (OUT / "SOURCE").write_text(
        "https://github.com/rustsec/advisory-db\n"
        f"commit {commit[0]}\n"
        f"date {commit[1]}\n"
        f"crates {' '.join(names)}\n"
    )
    print(f"{count} advisories for {len(names)} crates from {commit[0][:12]} ({commit[1]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
