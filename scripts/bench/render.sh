#!/usr/bin/env bash
# Wall time of `emmyops render all` of examples/emmy.yaml with the release binary:
# prints every run and the median. Usage: scripts/bench/render.sh [runs=10]
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-10}
swift build -c release >/dev/null
exec python3 scripts/bench/render_median.py "$PWD/.build/release/emmyops" --spec examples/emmy.yaml --runs "$runs"
