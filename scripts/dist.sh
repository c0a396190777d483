#!/usr/bin/env bash
# Release archives: builds the release binary and writes into OUT (default target/dist)
#
#   dbos-gitops-<version>-<target>.tar.gz   binary, README.md, LICENSE (when there is one),
#                                           completions/ (bash, zsh, fish), man/ (one page per command)
#   dbos-gitops-<version>-<target>.cdx.json CycloneDX SBOM of the binary's dependencies (cargo-cyclonedx)
#   SHA256SUMS                              `sha256sum -c SHA256SUMS` checks both
#
# The archive is reproducible from the same commit: sorted entries, root-owned, every mtime the
# commit's time (SOURCE_DATE_EPOCH when set), gzip without a name or time stamp.
# Usage: scripts/dist.sh [OUT]; CARGO_TARGET_DIR is honoured. Needs cargo-cyclonedx
# (`cargo install --locked cargo-cyclonedx`). Held by tests/cli/install.rs.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$(mkdir -p "${1:-$root/target/dist}" && cd "${1:-$root/target/dist}" && pwd)"
cd "$root"

command -v cargo-cyclonedx >/dev/null ||
  { echo "dist: cargo-cyclonedx is missing: cargo install --locked cargo-cyclonedx" >&2; exit 2; }

target="$(rustc -vV | sed -n 's/^host: //p')"
cargo build --release --locked --bin dbos-gitops
bin="${CARGO_TARGET_DIR:-$root/target}/release/dbos-gitops"
# The version the binary reports is the one in the names: `dbos-gitops 0.1.0 (commit ...)`.
version="$("$bin" -V | awk '{print $2}')"
name="dbos-gitops-$version-$target"

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
dir="$stage/$name"
mkdir -p "$dir/completions" "$dir/man"
install -m 0755 "$bin" "$dir/dbos-gitops"
install -m 0644 README.md "$dir/"
for license in LICENSE LICENSE-APACHE LICENSE-MIT; do
  if [ -f "$license" ]; then install -m 0644 "$license" "$dir/"; fi
done
"$bin" completions bash >"$dir/completions/dbos-gitops.bash"
"$bin" completions zsh >"$dir/completions/_dbos-gitops"
"$bin" completions fish >"$dir/completions/dbos-gitops.fish"
"$bin" man --out "$dir/man" >/dev/null
chmod 0644 "$dir"/completions/* "$dir"/man/*

epoch="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}"
export SOURCE_DATE_EPOCH="$epoch"   # cargo-cyclonedx dates the SBOM with it
tar --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner \
  -C "$stage" -cf - "$name" | gzip -n -9 >"$out/$name.tar.gz"

# The SBOM of what builds the binary (normal and build dependencies, not dev ones, for this
# target), CycloneDX 1.5 JSON. cargo-cyclonedx writes one beside each workspace member's
# Cargo.toml: ours is kept, the members' are removed.
cargo cyclonedx --manifest-path "$root/Cargo.toml" --format json --target "$target" \
  --spec-version 1.5 --override-filename dbos-gitops.cdx -q
mv "$root/dbos-gitops.cdx.json" "$out/$name.cdx.json"
find "$root/crates" -maxdepth 2 -name 'dbos-gitops.cdx.json' -delete

(cd "$out" && sha256sum "$name.tar.gz" "$name.cdx.json" >SHA256SUMS)
echo "$out/$name.tar.gz"
echo "$out/$name.cdx.json"
echo "$out/SHA256SUMS"
