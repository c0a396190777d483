#!/usr/bin/env python3
"""build and check at scale, against kubectl kustomize of the same environments, plus the
whole-process latency of typical commands. Prints wall time, peak memory and ratios measured in
the same run; asserts nothing (targets are read by people, see BENCHMARKS.md).

Usage: bench/scale.py BINARY [--sizes 1,10,100,1000] [--skip-kustomize-over N] [--cache-sizes 100,1000]
                       [--cache-baseline OTHER_BINARY] [--cache-repeat 3] [--cache-only]
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CERT = os.path.join(ROOT, "tests/fixtures/sealed-secrets-go/go-cert.pem")

ENV_YAML = """namespace: dbos-{name}
domain: {name}.dbos.example.com
conductor:
  replicas: {replicas}
app:
  autoscaling:
    queue: taskQueue
    worker-concurrency: 2
"""
VERSIONS_YAML = """active: v2
versions:
- name: v1
  image: ghcr.io/acme/app:v1
- name: v2
  image: ghcr.io/acme/app:v2
"""


def run(argv, cwd, stdin=None, env=None):
    """Runs argv; returns (seconds, peak RSS in MiB, exit code)."""
    start = time.perf_counter()
    process = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if stdin:
        process.stdin.write(stdin)
        process.stdin.close()
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    return elapsed, usage.ru_maxrss / 1024.0, process.returncode


def make_repo(binary, count):
    repo = tempfile.mkdtemp(prefix=f"dbos-gitops-bench-{count}-")
    seconds, _, code = run([binary, "init", "--repo-url", "https://github.com/acme/dbos-deploy.git"], repo)
    assert code == 0, "init failed"
    for index in range(count):
        name = f"env{index:04d}"
        directory = os.path.join(repo, "environments", name)
        os.makedirs(directory)
        with open(os.path.join(directory, "env.yaml"), "w") as handle:
            handle.write(ENV_YAML.format(name=name, replicas=2 if index % 2 else 1))
        with open(os.path.join(directory, "versions.yaml"), "w") as handle:
            handle.write(VERSIONS_YAML)
        shutil.copy(CERT, os.path.join(directory, "sealing-cert.pem"))
    return repo


def has_check(binary):
    return subprocess.run([binary, "check", "--help"], capture_output=True).returncode == 0


def median_of(argv, cwd, runs=15, stdin=None):
    samples = [run(argv, cwd, stdin)[0] for _ in range(runs)]
    return statistics.median(samples)


def render_cache(binary, kubectl, sizes, baseline=None, repeat=3):
    """`check` with its render step: cold cache, warm cache, one environment changed, and
    `--no-cache`, next to `check --no-render` (the offline checks alone, the floor of a warm
    run) and kubectl kustomize of every environment one after another. With `baseline`, that
    binary is measured on the same repository with its own cache (cold, warm, one changed), so
    before/after come from one run. Warm and one-changed are the median of `repeat` runs; each
    one-changed run changes env0000's env.yaml again (another console replica count)."""
    print("\ncheck with render (wall seconds): render cache cold, warm, one env changed (medians of "
          f"{repeat}), --no-cache; check --no-render; kubectl kustomize of all")
    print(f"{'binary':>8}  {'envs':>5}  {'cold':>8}  {'warm':>8}  {'one-chg':>8}  {'no-cache':>8}  "
          f"{'no-render':>9}  {'kustomize':>10}  {'warm/kust':>9}")
    binaries = [("new", binary)] + ([("baseline", baseline)] if baseline else [])
    for count in sizes:
        repo = make_repo(binary, count)
        caches = []
        try:
            assert run([binary, "build"], repo)[2] == 0, "build failed"
            env_yaml = os.path.join(repo, "environments/env0000/env.yaml")
            with open(env_yaml) as handle:
                original = handle.read()
            changes = 0
            rows = []
            for label, program in binaries:
                cache = tempfile.mkdtemp(prefix="dbos-gitops-bench-cache-")
                caches.append(cache)
                env = dict(os.environ, DBOS_GITOPS_CACHE_DIR=cache)
                cold, _, _ = run([program, "check"], repo, env=env)
                warm = statistics.median(run([program, "check"], repo, env=env)[0] for _ in range(repeat))
                samples = []
                for _ in range(repeat):
                    changes += 1
                    with open(env_yaml, "w") as handle:
                        handle.write(original + f"console:\n  replicas: {changes + 1}\n")
                    assert run([binary, "build"], repo)[2] == 0, "build failed"
                    samples.append(run([program, "check"], repo, env=env)[0])
                rows.append((label, cold, warm, statistics.median(samples)))
            no_cache, _, _ = run([binary, "check", "--no-cache"], repo)
            no_render = statistics.median(run([binary, "check", "--no-render"], repo)[0] for _ in range(repeat))
            kustomize = 0.0
            for index in range(count):
                seconds, _, code = run([kubectl, "kustomize", f"environments/env{index:04d}"], repo)
                assert code == 0, "kubectl kustomize failed"
                kustomize += seconds
            for label, cold, warm, one_changed in rows:
                print(f"{label:>8}  {count:>5}  {cold:>8.3f}  {warm:>8.3f}  {one_changed:>8.3f}  {no_cache:>8.3f}  "
                      f"{no_render:>9.3f}  {kustomize:>10.3f}  {warm / kustomize:>9.4f}", flush=True)
        finally:
            shutil.rmtree(repo)
            for cache in caches:
                shutil.rmtree(cache)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binary")
    parser.add_argument("--sizes", default="1,10,100,1000")
    parser.add_argument("--skip-kustomize-over", type=int, default=1000)
    parser.add_argument("--render-up-to", type=int, default=100,
                        help="run `check` with its kubectl render step up to this many environments")
    parser.add_argument("--cache-sizes", default="100,1000",
                        help="environment counts for check's render cache figures (empty: none)")
    parser.add_argument("--cache-baseline", default=None,
                        help="another dbos-gitops binary measured in the render cache table (before/after)")
    parser.add_argument("--cache-repeat", type=int, default=3,
                        help="runs of warm and one-changed check; the table shows medians")
    parser.add_argument("--cache-only", action="store_true",
                        help="only the render cache table")
    args = parser.parse_args()
    binary = os.path.abspath(args.binary)
    kubectl = shutil.which("kubectl")
    check = has_check(binary)

    if args.cache_only:
        assert kubectl and check, "--cache-only needs kubectl and a binary with `check`"
        baseline = os.path.abspath(args.cache_baseline) if args.cache_baseline else None
        render_cache(binary, kubectl, [int(size) for size in args.cache_sizes.split(",")],
                     baseline, args.cache_repeat)
        return 0

    print("build / check of N environments (wall seconds, peak MiB) and kubectl kustomize of all N")
    header = (f"{'envs':>5}  {'build':>8}  {'MiB':>6}  {'rebuild':>8}  {'check':>8}  {'MiB':>6}  {'check+render':>12}  "
              f"{'kustomize':>10}  {'build/kust':>10}  {'check/kust1':>11}")
    print(header)
    previous = None
    for count in [int(size) for size in args.sizes.split(",")]:
        repo = make_repo(binary, count)
        try:
            build_s, build_mib, code = run([binary, "build"], repo)
            assert code == 0, f"build of {count} envs failed"
            rebuild_s, _, _ = run([binary, "build"], repo)
            check_s, check_mib, check_render_s = float("nan"), float("nan"), float("nan")
            if check:
                check_s, check_mib, _ = run([binary, "check", "--no-render"], repo)
                if kubectl and count <= args.render_up_to:
                    check_render_s, _, _ = run([binary, "check"], repo)
            kustomize_s = float("nan")
            kustomize_one = float("nan")
            if kubectl and count <= args.skip_kustomize_over:
                kustomize_s = 0.0
                for index in range(count):
                    seconds, _, code = run([kubectl, "kustomize", f"environments/env{index:04d}"], repo)
                    assert code == 0, "kubectl kustomize failed"
                    kustomize_s += seconds
                kustomize_one = kustomize_s / count
            print(f"{count:>5}  {build_s:>8.3f}  {build_mib:>6.1f}  {rebuild_s:>8.3f}  {check_s:>8.3f}  {check_mib:>6.1f}  "
                  f"{check_render_s:>12.3f}  "
                  f"{kustomize_s:>10.3f}  {build_s / kustomize_s if kustomize_s == kustomize_s else float('nan'):>10.3f}  "
                  f"{check_s / kustomize_one if kustomize_one == kustomize_one else float('nan'):>11.3f}")
            if previous:
                previous_count, previous_build = previous
                print(f"       build cost x{build_s / previous_build:.1f} for x{count / previous_count:.0f} environments")
            previous = (count, build_s)
        finally:
            shutil.rmtree(repo)

    if kubectl and check and args.cache_sizes:
        baseline = os.path.abspath(args.cache_baseline) if args.cache_baseline else None
        render_cache(binary, kubectl, [int(size) for size in args.cache_sizes.split(",")],
                     baseline, args.cache_repeat)

    print("\nwhole-process latency (median of 15 runs)")
    example = ROOT
    rows = [("--version", [binary, "--version"], None)]
    if check:
        rows.append(("check (example, no render)", [binary, "--repo", example, "check", "--no-render"], None))
    secret = (b"apiVersion: v1\nkind: Secret\nmetadata:\n  name: conductor-db\n  namespace: dbos\n"
              b"stringData:\n  database-url: postgresql://u:p@h/db\n")
    rows.append(("seal one secret", [binary, "seal", "--cert", CERT], secret))
    rows.append(("build --check (example)", [binary, "--repo", example, "build", "--check"], None))
    for label, argv, stdin in rows:
        print(f"  {label:<30} {median_of(argv, ROOT, stdin=stdin) * 1000:8.2f} ms")


if __name__ == "__main__":
    sys.exit(main())
