#!/usr/bin/env bash
# Why this exists: the drain tests must query the DBOS system tables exactly as DBOS itself
# creates them, so instead of a hand-written copy of the schema (which would drift) this script
# runs the real DBOS tooling, `dbos migrate` from the `dbos` PyPI package, against a database.
#
#   tests/support/dbos_schema.sh DATABASE_URL [SCHEMA]
#
# Creates (or upgrades) the DBOS system tables in schema SCHEMA (default `dbos`) of the existing
# database DATABASE_URL. Needs no network: `dbos migrate` only talks to that database.
# Exit status: 0 done, 1 migration failed, 2 the `dbos` CLI is not installed (`pip install dbos`),
# 64 bad usage.
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ] || [ -z "$1" ]; then
    echo "usage: $0 DATABASE_URL [SCHEMA]" >&2
    exit 64
fi
url="$1"
schema="${2:-dbos}"

case "$schema" in
[A-Za-z_]*) ;;
*)
    echo "dbos_schema.sh: error: schema must be a plain name, got \`$schema\`" >&2
    exit 64
    ;;
esac
case "$schema" in
*[!A-Za-z0-9_]*)
    echo "dbos_schema.sh: error: schema must be a plain name, got \`$schema\`" >&2
    exit 64
    ;;
esac

if ! command -v dbos >/dev/null 2>&1; then
    echo "dbos_schema.sh: error: the \`dbos\` CLI is not installed; run \`pip install dbos\`" >&2
    exit 2
fi

# `dbos migrate` reads ./dbos-config.yaml when present and runs its migrate commands: run it
# in an empty directory so nothing from the caller's working directory leaks in.
workdir="$(mktemp -d "${TMPDIR:-/tmp}/dbos-schema.XXXXXX")"
trap 'rm -rf "$workdir"' EXIT

log="$workdir/migrate.log"
if ! (
    cd "$workdir" &&
        env -u DBOS_SYSTEM_DATABASE_URL -u DBOS_DATABASE_URL \
            dbos migrate --sys-db-url "$url" --schema "$schema"
) >"$log" 2>&1; then
    cat "$log" >&2
    echo "dbos_schema.sh: error: \`dbos migrate\` failed (see output above)" >&2
    exit 1
fi
