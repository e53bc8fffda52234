#!/usr/bin/env python3
"""`render all` and `validate --tools off` of a spec, two emmyops binaries side by side.

Usage: scripts/bench/render-compare.py BASELINE CANDIDATE [--spec examples/emmy.yaml] [--runs 10]

Runs alternate between the binaries (this machine is noisy, so neither gets a quieter
stretch), prints the median, min and max of each, and checks both rendered the same files.
Next to wall time it prints the median CPU time (user + system) of each, which a loaded
machine disturbs far less than wall time.
Build both with `swift build -c release` first; a re-layout must be no slower.
"""
import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("baseline")
    parser.add_argument("candidate")
    parser.add_argument("--spec", default="examples/emmy.yaml")
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    binaries = {"baseline": os.path.abspath(args.baseline), "candidate": os.path.abspath(args.candidate)}
    out = tempfile.mkdtemp(prefix="emmy-render-compare-")
    commands = {
        "render all": lambda name, binary: [binary, "render", "all", "--spec", args.spec, "--out", os.path.join(out, name)],
        "validate --tools off": lambda name, binary: [binary, "validate", "--tools", "off", "--spec", args.spec],
    }
    times = {(command, name): [] for command in commands for name in binaries}
    cpu = {(command, name): [] for command in commands for name in binaries}
    for run in range(args.runs + 1):  # the first round only warms the page cache
        for name, binary in binaries.items():
            for command, argv in commands.items():
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                started = time.perf_counter()
                result = subprocess.run(argv(name, binary), capture_output=True)
                elapsed = time.perf_counter() - started
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                if result.returncode != 0:
                    print(f"{name}: {command} exited {result.returncode}: {result.stderr.decode()[-500:]}", file=sys.stderr)
                    return 1
                if run > 0:
                    times[(command, name)].append(elapsed * 1000)
                    cpu[(command, name)].append((after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) * 1000)
    print(f"median of {args.runs}, alternating, {args.spec}; {os.cpu_count()} cores, 1-min load average {os.getloadavg()[0]:.1f}")
    for command in commands:
        for name in binaries:
            values = times[(command, name)]
            print(f"  {command:22} {name:9} {statistics.median(values):7.1f} ms  (min {min(values):.1f}, max {max(values):.1f})"
                  f"  cpu {statistics.median(cpu[(command, name)]):6.1f} ms")
    same = subprocess.run(["diff", "-r", os.path.join(out, "baseline"), os.path.join(out, "candidate")], capture_output=True)
    print("rendered files identical:", "yes" if same.returncode == 0 else "NO\n" + same.stdout.decode()[:2000])
    return 0 if same.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
