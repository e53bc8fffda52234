#!/usr/bin/env bash
# The main job: build emmyops and start EmmyApp locally (`emmyops up`): the embedded default
# spec, or ./emmy.yaml when present; SQLite under ./.emmy; sandbox sending; 127.0.0.1:5000.
# Installs only what building and running need (the SQLite headers GRDB links against); the
# test tools stay with scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -e /usr/include/sqlite3.h ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "run: installing libsqlite3-dev (the SQLite headers EmmyApp's database layer builds against)"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends libsqlite3-dev >/dev/null
fi

if [ -x .build/release/emmyops ]; then
  echo "run: building emmyops (release): seconds when little changed"
else
  echo "run: building emmyops (release) for the first time: about 10 min on 2 cores, 1 GB of RAM"
fi
swift build -c release
exec .build/release/emmyops up "$@"
