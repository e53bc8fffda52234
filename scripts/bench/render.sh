#!/usr/bin/env bash
# Wall time of `emmyops render all` of examples/emmy.yaml with the release binary:
# prints every run and the median. Usage: scripts/bench/render.sh [runs=10]
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-10}
swift build -c release >/dev/null
bin="$PWD/.build/release/emmyops"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
python3 - "$bin" "$out" "$runs" <<'PY'
import statistics, subprocess, sys, time
binary, out, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
cmd = [binary, "render", "all", "--spec", "examples/emmy.yaml", "--out", out]
subprocess.run(cmd, check=True, capture_output=True)  # warm the page cache once
times = []
for i in range(runs):
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    times.append((time.perf_counter() - start) * 1000)
print("runs (ms):", " ".join(f"{t:.1f}" for t in times))
print(f"render all, release, median of {runs}: {statistics.median(times):.1f} ms (min {min(times):.1f}, max {max(times):.1f})")
PY
