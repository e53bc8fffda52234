#!/usr/bin/env python3
"""Wall time of `emmyops render all` of a spec: every run and the median, in milliseconds.

Each run renders into the same fresh folder (the first, untimed run fills it and warms the page
cache), as a user re-rendering after an edit does. Imported by render.sh and ingest-vs-sqlite.py;
usable alone: scripts/bench/render_median.py BINARY [--spec examples/emmy.yaml] [--runs 10]
"""
import argparse, shutil, statistics, subprocess, sys, tempfile, time


def render_times(binary, spec="examples/emmy.yaml", runs=10):
    """Milliseconds of each of `runs` timed `render all` runs of `binary`."""
    out = tempfile.mkdtemp(prefix="emmy-render-")
    try:
        cmd = [binary, "render", "all", "--spec", spec, "--out", out]
        subprocess.run(cmd, check=True, capture_output=True)
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            times.append((time.perf_counter() - start) * 1000)
        return times
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("binary")
    ap.add_argument("--spec", default="examples/emmy.yaml")
    ap.add_argument("--runs", type=int, default=10)
    args = ap.parse_args()
    times = render_times(args.binary, args.spec, args.runs)
    print("runs (ms):", " ".join(f"{t:.1f}" for t in times))
    print(f"render all, median of {args.runs}: {statistics.median(times):.1f} ms (min {min(times):.1f}, max {max(times):.1f})")


if __name__ == "__main__":
    sys.exit(main())
