#!/usr/bin/env bash
# `seal --env` of one 2000-key Secret, whole process, for one or more binaries (say, a release
# build before and after a change): a fresh seal (the file does not exist) and an unchanged
# re-seal (every MAC matches), median wall seconds of RUNS runs each, and their ratio. A 2048-bit
# certificate: with the 4096-bit keys controllers make, 2000 values are a SealedSecret over the
# 1.5 MiB etcd accepts, which `seal` refuses. Figures only; see BENCHMARKS.md.
#   bash bench/seal_env.sh [RUNS] BINARY...
set -euo pipefail
runs=5
if [[ "${1:-}" =~ ^[0-9]+$ ]]; then runs=$1; shift; fi
[ $# -gt 0 ] || { echo "usage: $0 [RUNS] BINARY..." >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/key.pem" -out "$work/cert.pem" \
    -days 3650 -subj "/CN=bench" 2>/dev/null
{
    printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: conductor-db\nstringData:\n'
    for i in $(seq -w 0 1999); do printf '  key-%s: postgresql://role:secret-%s@db:5432/dbos\n' "$i" "$i"; done
} > "$work/secret.yaml"
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
seconds() { /usr/bin/time -f %e -o "$work/t" "$@" < "$work/secret.yaml" > /dev/null 2>&1; cat "$work/t"; }
printf '%-40s %10s %12s %8s\n' binary "fresh s" "unchanged s" ratio
for binary in "$@"; do
    repo="$work/repo"; export HOME="$work/home"
    rm -rf "$repo" "$HOME"; mkdir -p "$repo" "$HOME"; cd "$repo"
    "$binary" init --repo-url https://github.com/acme/bench.git > /dev/null
    "$binary" init env prod --cert "$work/cert.pem" --domain bench.example.com > /dev/null
    fresh=$(for _ in $(seq "$runs"); do
        rm -f environments/prod/secrets/conductor-db.yaml
        seconds "$binary" seal --env prod; done | median)
    unchanged=$(for _ in $(seq "$runs"); do seconds "$binary" seal --env prod; done | median)
    printf '%-40s %10s %12s %8.2f\n' "$binary" "$fresh" "$unchanged" "$(echo "$unchanged / $fresh" | bc -l)"
    cd "$work"
done
