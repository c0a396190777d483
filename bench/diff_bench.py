#!/usr/bin/env python3
"""`diff` at scale (#26): nothing changed, and one of N environments changed, next to `check`
with a warm render cache and one `kubectl kustomize`, measured in the same run. Prints
paired medians (each diff run next to a check run), ratios, peak memory of our process, and the
most kubectl processes seen at once (a wrapper on PATH counts them). Asserts nothing; the
targets are in BENCHMARKS.md.

Usage: bench/diff_bench.py BINARY [--sizes 100,1000] [--repeat 5]
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from scale import make_repo, run  # noqa: E402

WRAPPER = """#!/bin/sh
if [ "$1" = kustomize ]; then
  touch '{dir}/running/'$$
  ls '{dir}/running' | wc -l >> '{dir}/concurrent.log'
  '{real}' "$@"; status=$?
  rm -f '{dir}/running/'$$
  exit $status
fi
exec '{real}' "$@"
"""


def git(repo, *arguments):
    subprocess.run(["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com",
                    "-c", "commit.gpgsign=false", *arguments], cwd=repo, check=True,
                   stdout=subprocess.DEVNULL)


def spy(kubectl):
    directory = tempfile.mkdtemp(prefix="dbos-gitops-bench-spy-")
    os.makedirs(os.path.join(directory, "bin"))
    os.makedirs(os.path.join(directory, "running"))
    path = os.path.join(directory, "bin", "kubectl")
    with open(path, "w") as handle:
        handle.write(WRAPPER.format(dir=directory, real=kubectl))
    os.chmod(path, 0o755)
    return directory


def most_at_once(directory):
    try:
        with open(os.path.join(directory, "concurrent.log")) as handle:
            return max(int(line) for line in handle if line.strip())
    except (FileNotFoundError, ValueError):
        return 0


def measure(binary, kubectl, count, repeat):
    repo = make_repo(binary, count)
    cache = tempfile.mkdtemp(prefix="dbos-gitops-bench-cache-")
    spied = spy(kubectl)
    env = dict(os.environ, DBOS_GITOPS_CACHE_DIR=cache,
               PATH=os.path.join(spied, "bin") + os.pathsep + os.environ["PATH"])
    try:
        assert run([binary, "build"], repo)[2] == 0, "build failed"
        git(repo, "init", "-q", "-b", "main")
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", "bench")
        cold, _, _ = run([binary, "check"], repo, env=env)
        pairs_none = []
        for _ in range(repeat):
            check_s, _, _ = run([binary, "check"], repo, env=env)
            diff_s, diff_mib, code = run([binary, "diff"], repo, env=env)
            assert code == 0, f"diff of an unchanged tree exited {code}"
            pairs_none.append((check_s, diff_s, diff_mib))
        env_yaml = os.path.join(repo, "environments/env0000/env.yaml")
        with open(env_yaml) as handle:
            original = handle.read()
        pairs_one = []
        for index in range(repeat):
            with open(env_yaml, "w") as handle:
                handle.write(original + f"console:\n  replicas: {index + 2}\n")
            assert run([binary, "build"], repo)[2] == 0, "build failed"
            diff_s, diff_mib, code = run([binary, "diff"], repo, env=env)
            assert code == 1, f"diff of one changed environment exited {code}"
            check_s, _, _ = run([binary, "check"], repo, env=env)
            pairs_one.append((check_s, diff_s, diff_mib))
        kustomize = statistics.median(
            run([kubectl, "kustomize", "environments/env0001"], repo)[0] for _ in range(repeat))
        most = most_at_once(spied)
    finally:
        shutil.rmtree(repo)
        shutil.rmtree(cache)
        shutil.rmtree(spied)
    return cold, pairs_none, pairs_one, kustomize, most


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binary")
    parser.add_argument("--sizes", default="100,1000")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    binary = os.path.abspath(args.binary)
    kubectl = shutil.which("kubectl")
    assert kubectl, "diff needs kubectl"
    cores = os.cpu_count()
    print(f"diff against check warm and one kubectl kustomize (wall seconds, paired medians of "
          f"{args.repeat}; {cores} cores)")
    print(f"{'envs':>5}  {'check cold':>10}  {'check warm':>10}  {'diff none':>9}  {'none/warm':>9}  "
          f"{'check warm':>10}  {'diff one':>8}  {'(one-warm)/kust':>15}  {'kustomize':>9}  "
          f"{'diff MiB':>8}  {'kubectl at once':>15}")
    for count in [int(size) for size in args.sizes.split(",")]:
        cold, none, one, kustomize, most = measure(binary, kubectl, count, args.repeat)
        warm_none = statistics.median(pair[0] for pair in none)
        diff_none = statistics.median(pair[1] for pair in none)
        ratio_none = statistics.median(pair[1] / pair[0] for pair in none)
        warm_one = statistics.median(pair[0] for pair in one)
        diff_one = statistics.median(pair[1] for pair in one)
        excess = statistics.median((pair[1] - pair[0]) / kustomize for pair in one)
        mib = max(pair[2] for pair in none + one)
        print(f"{count:>5}  {cold:>10.3f}  {warm_none:>10.3f}  {diff_none:>9.3f}  {ratio_none:>9.2f}  "
              f"{warm_one:>10.3f}  {diff_one:>8.3f}  {excess:>15.2f}  {kustomize:>9.3f}  "
              f"{mib:>8.1f}  {most:>15}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
