#!/usr/bin/env bash
# The main job: build emmyops and start EmmyApp locally (`emmyops up`): the embedded default
# spec, or ./emmy.yaml when present; SQLite under ./.emmy; sandbox sending; 127.0.0.1:5000.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build -c release
exec .build/release/emmyops up "$@"
