#!/usr/bin/env bash
# The main job: build emmyops and start EmmyApp locally (`emmyops up`): the embedded default
# spec, or ./emmy.yaml when present; SQLite under ./.emmy; sandbox sending; 127.0.0.1:5000.
# Installs only what building and running need (the SQLite and zstd headers); the
# test tools stay with scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

# The two C headers the build needs beyond Swift's own dependencies: SQLite (EmmyApp's
# database layer, through GRDB) and zstd (backups, Sources/CZstd). A bare Debian 12 with Swift
# has neither (scripts/bench/quickstart-bare.sh failed on zstd.h before it was listed here).
missing=""
[ -e /usr/include/sqlite3.h ] || missing="$missing libsqlite3-dev"
[ -e /usr/include/zstd.h ] || missing="$missing libzstd-dev"
if [ -n "$missing" ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "run: installing$missing (the C headers the build needs)"
  $SUDO apt-get update -qq
  # shellcheck disable=SC2086 # one word per package
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

if [ -x .build/release/emmyops ]; then
  echo "run: building emmyops (release): seconds when little changed"
else
  echo "run: building emmyops (release) for the first time: about 10 min on 2 cores, 1 GB of RAM"
fi
swift build -c release
exec .build/release/emmyops up "$@"
