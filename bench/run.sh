#!/usr/bin/env bash
# Every benchmark in one run: sealing throughput (against the bare RSA-OAEP operation and
# Python's cryptography), build/check at 1-1000 environments against kubectl kustomize, and the
# latency of typical commands. Figures only, no pass/fail; see BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
echo "== sealing"
cargo bench --quiet -p dbos-gitops-seal --bench seal 2>/dev/null | grep -v '^$'
echo
echo "== scale and latency"
python3 bench/scale.py target/release/dbos-gitops "$@"
echo
echo "== diff"
python3 bench/diff_bench.py target/release/dbos-gitops --sizes 100
