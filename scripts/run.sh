#!/usr/bin/env bash
# The main job until EmmyApp's server lands: build emmyops, write the example spec into a
# fresh folder, prove it with the real checkers, and render every config from it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build -c release
bin="$PWD/.build/release/emmyops"
work=${1:-$(mktemp -d)}
mkdir -p "$work"
cd "$work"
[ -e emmy.yaml ] || "$bin" init
"$bin" validate --tools required
"$bin" render all --out rendered
echo "rendered into $work/rendered"
