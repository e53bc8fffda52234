#!/usr/bin/env bash
# Regenerates the golden renderings of examples/emmy.yaml that RenderTests compare against.
# Run it after an intended change to a renderer, then review the diff before committing.
set -euo pipefail
cd "$(dirname "$0")/.."
golden=Tests/EmmyOpsKitTests/Golden/example
swift build
rm -rf "$golden"
.build/debug/emmyops render all --spec examples/emmy.yaml --out "$golden"
git status --short "$golden"
