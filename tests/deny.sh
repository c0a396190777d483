#!/usr/bin/env bash
# `cargo deny check` over deny.toml: advisories, licences, sources and duplicate crates. Run by
# tests/run.sh; on its own: `bash tests/deny.sh [--config FILE] [CHECK...]` (needs
# `cargo install --locked cargo-deny@0.20.2`).
#
# Advisories come from the live RustSec database when GitHub answers. When it does not (CI
# machines here reach crates.io but not GitHub), from supply-chain/advisory-db: the advisories
# of every crate in Cargo.lock, facts only, as of the commit its SOURCE names. That snapshot is
# served to cargo-deny as a local git repository; the run says which source it used and how old
# the snapshot is, and refuses when Cargo.lock names a crate the snapshot was not made for.
set -euo pipefail
cd "$(dirname "$0")/.."

# `--config FILE` checks against another deny.toml (tests/cli/supply_chain.rs uses it).
config=deny.toml
if [ "${1:-}" = --config ]; then
  config="$2"
  shift 2
fi

command -v cargo-deny >/dev/null ||
  { echo "deny.sh: cargo-deny is not installed: cargo install --locked cargo-deny" >&2; exit 2; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

live=https://github.com/rustsec/advisory-db
offline=""
if timeout 20 git ls-remote "$live" HEAD >/dev/null 2>&1; then
  echo "deny.sh: advisories from the live RustSec database ($live)"
else
  snapshot=supply-chain/advisory-db
  commit="$(sed -n 's/^commit //p' "$snapshot/SOURCE")"
  date="$(sed -n 's/^date //p' "$snapshot/SOURCE")"
  covered="$(sed -n 's/^crates //p' "$snapshot/SOURCE")"
  missing="$(python3 - "$covered" <<'PY'
import sys, tomllib
covered = set(sys.argv[1].split())
lock = tomllib.load(open("Cargo.lock", "rb"))
print(" ".join(sorted({p["name"] for p in lock["package"]} - covered)))
PY
)"
  if [ -n "$missing" ]; then
    echo "deny.sh: Cargo.lock names crates the advisory snapshot was not made for: $missing" >&2
    echo "  hint: refresh it from a clone of $live: python3 supply-chain/snapshot.py CLONE" >&2
    exit 1
  fi
  age_days=$(( ( $(date -u +%s) - $(date -u -d "$date" +%s) ) / 86400 ))
  echo "deny.sh: GitHub is unreachable: advisories from the snapshot of rustsec/advisory-db ${commit:0:12} ($date, $age_days days old; refresh with supply-chain/snapshot.py)"
  # cargo-deny 0.20 keeps the default database in `<db-path>/advisory-db-3157b0e258782691` (its
  # name for the URL above) and, with --offline, reads it there without fetching; it asks git
  # for the HEAD commit's date, which is the snapshot's.
  db="$work/db/advisory-db-3157b0e258782691"
  mkdir -p "$work/db"
  git init -q "$db"
  cp -R "$snapshot/." "$db/"
  git -C "$db" add -A
  GIT_AUTHOR_DATE="${date}T00:00:00Z" GIT_COMMITTER_DATE="${date}T00:00:00Z" \
    git -C "$db" -c user.name=deny.sh -c user.email=deny.sh@localhost \
    commit -q -m "advisory snapshot $commit"
  offline=--offline
fi

# deny.toml with the database directory of this run.
python3 - "$work/db" "$config" > "$work/deny.toml" <<'PY'
import sys
path, config = sys.argv[1:]
text = open(config).read()
assert text.count("[advisories]\n") == 1, "deny.toml must have one [advisories] table"
sys.stdout.write(text.replace("[advisories]\n", f'[advisories]\ndb-path = "{path}"\n', 1))
PY

exec cargo deny --locked $offline --config "$work/deny.toml" check --show-stats "$@"
