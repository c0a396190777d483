#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what the tests check against (Python's
# cryptography, bcrypt, dbos, kubernetes-validate, in a venv under target/; htpasswd, openssl and
# PostgreSQL 15 from apt when run as root), starts a throwaway PostgreSQL 15 on 127.0.0.1 for the
# retire drain check (and a second one that admits only TLS, for the sslmode tests), and runs
# every test. README's second set-up command.
#
# With `CI` set, a test whose tool is missing fails; without it, it prints a loud SKIPPED line.
# The last line printed is always `N passed, M failed, K skipped`, where a skipped test is not
# also counted as passed (tests/support/summarize_tests.py); the exit status is cargo test's.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

step() { printf '\n==> %s\n' "$*"; }
is_root() { [ "$(id -u)" = 0 ]; }

apt_updated=""
apt_install() {
  if [ -z "$apt_updated" ]; then
    apt-get update -qq
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}

mkdir -p target

step "installing test tools (Python packages into target/test-venv)"
# A venv of our own: no `pip install` into the user's (or pyenv's) interpreter, no root-pip
# warning to filter, and a failed install stops the run instead of vanishing behind `|| true`.
python3 -m venv target/test-venv
target/test-venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
target/test-venv/bin/python -m pip install --quiet --disable-pip-version-check \
  'cryptography>=42' 'bcrypt>=4' 'dbos>=3.4' 'kubernetes-validate>=1.31' 'jsonschema>=4' 'pyyaml>=6'
# PR review (#24): GitHub's own Markdown renderer, cmark-gfm, through its Python binding:
# tests/support/gfm_structure.py reads the structure of `diff --format markdown` with it.
target/test-venv/bin/python -m pip install --quiet --disable-pip-version-check 'cmarkgfm>=2024.1'
# The tests call `python3` and `dbos` by name: both come from the venv.
export PATH="$root/target/test-venv/bin:$PATH"
export VIRTUAL_ENV="$root/target/test-venv"
[ "$(command -v python3)" = "$root/target/test-venv/bin/python3" ] ||
  { echo "python3 is not the venv's: $(command -v python3)" >&2; exit 2; }
command -v dbos >/dev/null || { echo "the venv has no \`dbos\` CLI" >&2; exit 2; }

if ! command -v htpasswd >/dev/null || ! command -v openssl >/dev/null; then
  if is_root; then
    apt_install apache2-utils openssl
  else
    echo "htpasswd/openssl missing: install apache2-utils and openssl (tests needing them will skip, or fail under CI)" >&2
  fi
fi

# Install paths, completions and man pages (#24): the real shells (bash, zsh, fish; zsh driven
# in tmux), man(1), pre-commit (into the venv) and cargo-cyclonedx for scripts/dist.sh's SBOM.
for tool in zsh fish tmux man; do
  if ! command -v "$tool" >/dev/null; then
    if is_root; then
      apt_install zsh fish tmux man-db groff-base
      break
    else
      echo "$tool missing: install zsh, fish, tmux and man-db (their tests will skip, or fail under CI)" >&2
    fi
  fi
done
target/test-venv/bin/python -m pip install --quiet --disable-pip-version-check 'pre-commit>=4'
# Sealing draws no random byte from AWS-LC (#24): tests/cli/seal_entropy.rs counts the calls into
# AWS-LC's generator with the real gdb.
if ! command -v gdb >/dev/null; then
  if is_root; then
    apt_install gdb
  else
    echo "gdb missing: install gdb (the sealing-entropy test will skip, or fail under CI)" >&2
  fi
fi
if ! command -v cargo-cyclonedx >/dev/null; then
  cargo install --locked --quiet cargo-cyclonedx
fi
# cargo-deny (#25): advisories, licences, sources, duplicate crates (tests/deny.sh). Pinned:
# tests/deny.sh's offline fallback names the database directory this version keeps.
if [ "$(cargo deny --version 2>/dev/null)" != "cargo-deny 0.20.2" ]; then
  cargo install --locked --quiet cargo-deny@0.20.2
fi

if [ -d /usr/lib/postgresql/15/bin ]; then
  export PATH="$PATH:/usr/lib/postgresql/15/bin"
fi
if ! command -v initdb >/dev/null || ! command -v pg_ctl >/dev/null; then
  if is_root; then
    apt_install postgresql-15
    export PATH="$PATH:/usr/lib/postgresql/15/bin"
  else
    echo "initdb/pg_ctl missing: install PostgreSQL 15 (Debian: apt-get install postgresql-15)" >&2
    exit 2
  fi
fi
command -v kubectl >/dev/null || { echo "kubectl (with built-in kustomize) is required" >&2; exit 2; }

step "installing the TypeScript DBOS CLI (into target/test-node)"
# tests/cli/migrate_job.rs runs the migrate Job's `npx --no dbos schema ...` with the real
# TypeScript SDK, from a directory laid out like an app's root. Pinned for repeatable runs.
if ! command -v npm >/dev/null || ! command -v npx >/dev/null; then
  if is_root; then
    apt_install nodejs npm
  else
    echo "npm/npx missing: install Node.js (the TypeScript migrate test will skip, or fail under CI)" >&2
  fi
fi
if command -v npm >/dev/null; then
  mkdir -p target/test-node
  # A package.json of its own, so npm installs here and not into a parent's project.
  [ -f target/test-node/package.json ] || echo '{ "private": true }' > target/test-node/package.json
  if [ ! -x target/test-node/node_modules/.bin/dbos ]; then
    (cd target/test-node && npm install --no-audit --no-fund --silent --no-save \
      @dbos-inc/dbos-sdk@5.3.0)
  fi
  export DBOS_GITOPS_TEST_NODE_DIR="$root/target/test-node"
fi

step "installing yaml-language-server (into target/yaml-language-server)"
# tests/cli/schema.rs drives the real YAML language server over LSP (tests/support/lsp_client.py)
# with our generated schemas: diagnostics, completion and hover. Pinned for repeatable runs;
# without npm the test says SKIPPED (a failure under CI).
if command -v npm >/dev/null; then
  mkdir -p target/yaml-language-server
  [ -f target/yaml-language-server/package.json ] || echo '{ "private": true }' > target/yaml-language-server/package.json
  if [ ! -x target/yaml-language-server/node_modules/.bin/yaml-language-server ]; then
    (cd target/yaml-language-server && npm install --no-audit --no-fund --silent --no-save \
      yaml-language-server@1.25.0)
  fi
  export DBOS_GITOPS_TEST_YAML_LANGUAGE_SERVER="$root/target/yaml-language-server/node_modules/.bin/yaml-language-server"
fi

step "starting a throwaway PostgreSQL"
# Stop only a cluster this run started: a developer's already-running test cluster stays up.
# The trap is in place before starting, so a start that fails half-way is cleaned up too.
pg_ours=1
stop_postgres() {
  if [ "$pg_ours" = 1 ]; then
    bash tests/support/postgres.sh stop >/dev/null 2>&1 || true
  fi
}
trap stop_postgres EXIT
pg_log=target/postgres-start.log
if ! pg_exports=$(bash tests/support/postgres.sh start 2>"$pg_log"); then
  cat "$pg_log" >&2
  echo "could not start the test PostgreSQL (see above)" >&2
  exit 1
fi
cat "$pg_log" >&2
# postgres.sh reports a cluster that was up before us as `already running` on stderr.
if grep -q 'already running' "$pg_log"; then
  pg_ours=0
fi
eval "$pg_exports"
[ -n "${DBOS_GITOPS_TEST_DATABASE_URL:-}" ] ||
  { echo "postgres.sh start printed no DBOS_GITOPS_TEST_DATABASE_URL" >&2; exit 1; }

step "starting a throwaway PostgreSQL that admits only TLS (sslmode tests)"
# Beside the plain one: `ssl = on`, its own CA, `hostssl` + password only, port 54339.
pg_tls_ours=1
stop_postgres_tls() {
  if [ "$pg_tls_ours" = 1 ]; then
    bash tests/support/postgres-tls.sh stop >/dev/null 2>&1 || true
  fi
}
trap 'stop_postgres; stop_postgres_tls' EXIT
pg_tls_log=target/postgres-tls-start.log
if ! pg_tls_exports=$(bash tests/support/postgres-tls.sh start 2>"$pg_tls_log"); then
  cat "$pg_tls_log" >&2
  echo "could not start the TLS test PostgreSQL (see above)" >&2
  exit 1
fi
cat "$pg_tls_log" >&2
if grep -q 'already running' "$pg_tls_log"; then
  pg_tls_ours=0
fi
eval "$pg_tls_exports"
[ -n "${DBOS_GITOPS_TEST_TLS_DATABASE_URL:-}" ] ||
  { echo "postgres-tls.sh start printed no DBOS_GITOPS_TEST_TLS_DATABASE_URL" >&2; exit 1; }

step "formatting and lints"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --quiet -- -D warnings

step "dependencies: cargo deny check (advisories, licences, sources, duplicates)"
bash tests/deny.sh

step "the bundled example is current"
cargo run --quiet -- build --check

step "self-tests: schema validator, test summary, Conductor spec server"
python3 tests/support/test_validate_manifests.py
python3 tests/support/test_summarize_tests.py
python3 tests/support/test_conductor_spec_server.py

step "cargo test"
set +e
# --no-fail-fast: every test binary runs, so the summary counts the whole suite.
cargo test --workspace --no-fail-fast 2>&1 | tee target/test-output.txt
status=${PIPESTATUS[0]}
set -e
# A test that returned early because a tool is missing is `ok` to the harness: each such test
# printed `SKIPPED <binary>::<test>: why`, and the summary counts it as skipped, not passed.
summary=$(python3 tests/support/summarize_tests.py target/test-output.txt)
if [ "$status" != 0 ] && ! grep -q ' [1-9][0-9]* failed' <<<"${summary##*$'\n'}"; then
  echo "cargo test exited $status without a failed test (a build error or a crashed test binary?)" >&2
fi
echo
echo "$summary"
exit "$status"
