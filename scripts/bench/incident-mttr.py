#!/usr/bin/env python3
"""Incident MTTR: the app-down closed loop (real EmmyApp under `emmyops supervise`, Prometheus and
Alertmanager on the rendered configs at 1 s intervals, `emmyops incident serve`) run N times on
one stack; prints seconds from fault to firing, to remedy (the playbook's restart) and to
resolved for each cycle, and their medians.

Usage: scripts/bench/incident-mttr.py [--runs 5]   (after `swift build --build-tests`)
"""
import argparse
import os
import re
import statistics
import subprocess
import sys

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--runs", type=int, default=5)
args = parser.parse_args()

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
env = dict(os.environ, EMMY_MTTR_RUNS=str(args.runs), EMMY_REQUIRE_TOOLS="1")
proc = subprocess.run(["swift", "test", "--skip-build", "--filter", "IncidentClosedLoopTests/appDownIsRepaired"],
                      cwd=root, env=env, capture_output=True, text=True)
pattern = re.compile(r"incident mttr: cycle (\d+) fault->firing ([\d.]+)s fault->remedy ([\d.]+)s fault->resolved ([\d.]+)s")
rows = [tuple(float(x) for x in m.groups()[1:]) for m in pattern.finditer(proc.stdout)]
if proc.returncode != 0 or len(rows) != args.runs:
    sys.stdout.write(proc.stdout[-4000:])
    sys.stderr.write(proc.stderr[-4000:])
    sys.exit(f"the closed loop failed or printed {len(rows)} of {args.runs} cycles (exit {proc.returncode})")

print(f"{'cycle':>5} {'firing':>8} {'remedy':>8} {'resolved':>9}")
for i, (firing, remedy, resolved) in enumerate(rows, 1):
    print(f"{i:>5} {firing:>7.2f}s {remedy:>7.2f}s {resolved:>8.2f}s")
medians = [statistics.median(column) for column in zip(*rows)]
print(f"{'median':>5} {medians[0]:>7.2f}s {medians[1]:>7.2f}s {medians[2]:>8.2f}s")
