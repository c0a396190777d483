#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what the tests check against (Python's
# cryptography, bcrypt, dbos, kubernetes-validate; htpasswd), starts a throwaway PostgreSQL 15 on
# 127.0.0.1 for the retire drain check, and runs every test. README's second set-up command.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "installing test tools"
python3 -m pip install --quiet --disable-pip-version-check \
  'cryptography>=42' 'bcrypt>=4' 'dbos>=3.4' 'kubernetes-validate>=1.31' 'jsonschema>=4' 'pyyaml>=6' 2>&1 \
  | grep -v "Running pip as the 'root' user" || true
if ! command -v htpasswd >/dev/null || ! command -v openssl >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && apt-get install -y -qq apache2-utils openssl) >/dev/null
  else
    echo "htpasswd/openssl missing: install apache2-utils and openssl" >&2
  fi
fi
command -v kubectl >/dev/null || { echo "kubectl (with built-in kustomize) is required" >&2; exit 2; }

step "starting a throwaway PostgreSQL"
eval "$(bash tests/support/postgres.sh start)"
trap 'bash tests/support/postgres.sh stop >/dev/null 2>&1 || true' EXIT

step "formatting and lints"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --quiet -- -D warnings

step "the bundled example is current"
cargo run --quiet -- build --check

step "schema validator self-test"
python3 tests/support/test_validate_manifests.py

step "cargo test"
cargo test --workspace 2>&1 | tee target/test-output.txt
passed=$(grep -Eo 'test result: [a-zA-Z]+\. [0-9]+ passed' target/test-output.txt | awk '{s+=$4} END {print s+0}')
failed=$(grep -Eo '[0-9]+ failed' target/test-output.txt | awk '{s+=$1} END {print s+0}')
echo
echo "${passed} passed, ${failed} failed"
