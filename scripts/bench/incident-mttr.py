#!/usr/bin/env python3
"""Incident MTTR: seconds from fault to firing, to remedy and to resolved in the closed loops
(real EmmyApp, Prometheus and Alertmanager on the rendered configs at 1 s intervals,
`emmyops incident serve`), for each run and their medians.

- app-down (default): EmmyApp under `emmyops supervise` crashes past its supervisor's budget;
  the remedy is the playbook's restart. N cycles on one stack.
- bad-deploy: a release whose POST /messages answers 500 is deployed over real sshd under load;
  the remedy is the playbook's rollback to the previous release over SSH. N fresh stacks.

Usage: scripts/bench/incident-mttr.py [--runs 5] [--scenario app-down|bad-deploy]
       (after `swift build --build-tests`)
"""
import argparse
import os
import re
import statistics
import subprocess
import sys

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--runs", type=int, default=5)
parser.add_argument("--scenario", choices=["app-down", "bad-deploy"], default="app-down")
args = parser.parse_args()

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
number = r"([\d.]+)s"


def swift_test(test, env):
    proc = subprocess.run(["swift", "test", "--skip-build", "--filter", test], cwd=root,
                          env=dict(os.environ, EMMY_REQUIRE_TOOLS="1", **env), capture_output=True, text=True)
    return proc, proc.stdout


rows = []
if args.scenario == "app-down":
    proc, out = swift_test("IncidentClosedLoopTests/appDownIsRepaired", {"EMMY_MTTR_RUNS": str(args.runs)})
    pattern = re.compile(rf"incident mttr: cycle \d+ fault->firing {number} fault->remedy {number} fault->resolved {number}")
    rows = [tuple(float(x) for x in m.groups()) for m in pattern.finditer(out)]
    failed = proc.returncode != 0
else:
    # Each run deploys afresh: the rollback window and the budget belong to one deploy.
    pattern = re.compile(rf"incident bad deploy: fault->firing {number} fault->remedy {number} fault->resolved {number}")
    failed = False
    out = ""
    for _ in range(args.runs):
        proc, out = swift_test("IncidentRemedyLoopTests/badDeployIsRolledBack", {})
        rows += [tuple(float(x) for x in m.groups()) for m in pattern.finditer(out)]
        if proc.returncode != 0:
            failed = True
            break
if failed or len(rows) != args.runs:
    sys.stdout.write(out[-4000:])
    sys.stderr.write(proc.stderr[-4000:])
    sys.exit(f"the closed loop failed or printed {len(rows)} of {args.runs} runs (exit {proc.returncode})")

print(f"{args.scenario}: seconds from the fault")
print(f"{'run':>6} {'firing':>8} {'remedy':>8} {'resolved':>9}")
for i, (firing, remedy, resolved) in enumerate(rows, 1):
    print(f"{i:>6} {firing:>7.2f}s {remedy:>7.2f}s {resolved:>8.2f}s")
medians = [statistics.median(column) for column in zip(*rows)]
print(f"{'median':>6} {medians[0]:>7.2f}s {medians[1]:>7.2f}s {medians[2]:>8.2f}s")
