#!/usr/bin/env bash
# Coverage-guided fuzzing of every parser of user input (cargo-fuzz / libFuzzer; needs a nightly
# toolchain and `cargo install cargo-fuzz`). Not run in CI.
#
#   fuzz/run.sh [EXECUTIONS] [TARGET...]
#
# Runs each target (all by default) for EXECUTIONS executions (default 200000), one after the
# other, starting from the committed seeds (fuzz/seeds/<target>), the repository's own files and
# the regressions (fuzz/regressions/<target>), plus whatever earlier runs added to the working
# corpus. Prints a table of target, executions, crashes (time includes any rebuild). libFuzzer
# stops a target at its first crash: the input is kept under target/fuzz/artifacts/<target>/ and
# its log is target/fuzz/logs/<target>.log.
#
# Everything it writes (build, corpus, artifacts, logs) is under the repository's root `target/`,
# which `check` does not scan: the corpus holds copies of the test private keys.
set -euo pipefail
cd "$(dirname "$0")"
work="$(cd .. && pwd)/target/fuzz"
executions=${1:-200000}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo +nightly fuzz list)
fi
root=..

# The repository's own files a target reads in real use.
repository_seeds() {
    case "$1" in
        env_yaml) ls "$root"/environments/*/env.yaml ;;
        repo_yaml) ls "$root"/dbos-gitops.yaml ;;
        versions_yaml) ls "$root"/environments/*/versions.yaml ;;
        dex_users_yaml) ls "$root"/environments/*/dex-users.yaml ;;
        ownership_record) ls "$root"/.dbos-gitops.sha256 ;;
        secret_manifest) ls "$root"/tests/fixtures/sealed-secrets-go/*.yaml ;;
        sealed_secret_manifest | yaml_round_trip)
            ls "$root"/environments/*/secrets/*.yaml "$root"/tests/fixtures/sealed-secrets-go/*.yaml ;;
        pem) ls "$root"/tests/fixtures/sealed-secrets-go/*.pem "$root"/environments/*/*.pem "$root"/environments/*/tls.crt ;;
        *) true ;;
    esac
}

build=(--target-dir "$work/build")
# Only the targets asked for are built (all of them by default).
if [ $# -eq 0 ]; then
    cargo +nightly fuzz build -O "${build[@]}"
else
    for target in "${targets[@]}"; do cargo +nightly fuzz build -O "${build[@]}" "$target"; done
fi
mkdir -p "$work/logs"
rows=()
for target in "${targets[@]}"; do
    corpus=$work/corpus/$target
    artifacts=$work/artifacts/$target
    mkdir -p "$corpus" "$artifacts"
    for seed in seeds/"$target"/* regressions/"$target"/* $(repository_seeds "$target"); do
        [ -f "$seed" ] && cp "$seed" "$corpus/seed-$(basename "$seed")"
    done
    before=$(find "$artifacts" -type f | wc -l)
    started=$(date +%s)
    cargo +nightly fuzz run -O "${build[@]}" "$target" "$corpus" -- \
        -artifact_prefix="$artifacts/" -runs="$executions" -max_len=65536 -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 >"$work/logs/$target.log" 2>&1 || true
    seconds=$(($(date +%s) - started))
    done_runs=$(awk '/stat::number_of_executed_units/ {print $2}' "$work/logs/$target.log" | tail -1)
    after=$(find "$artifacts" -type f | wc -l)
    rows+=("$(printf '%-24s %12s %8s %8s' "$target" "${done_runs:-?}" "$((after - before))" "${seconds}s")")
    echo "${rows[-1]}" >&2
done
printf '%-24s %12s %8s %8s\n' target executions crashes time
printf '%s\n' "${rows[@]}"
