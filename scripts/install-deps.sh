#!/usr/bin/env bash
# Installs the real tools the test suite drives (promtool, amtool, prometheus,
# alertmanager, node-exporter, docker-compose). Idempotent: a second run that
# finds everything on PATH does nothing.
set -euo pipefail

need=()
command -v prometheus >/dev/null || need+=(prometheus)
command -v promtool >/dev/null || need+=(prometheus)
command -v prometheus-alertmanager >/dev/null || command -v alertmanager >/dev/null || need+=(prometheus-alertmanager)
command -v amtool >/dev/null || need+=(prometheus-alertmanager)
command -v prometheus-node-exporter >/dev/null || need+=(prometheus-node-exporter)
command -v docker-compose >/dev/null || need+=(docker-compose)
[ -e /usr/include/sqlite3.h ] || need+=(libsqlite3-dev)

if [ ${#need[@]} -eq 0 ]; then
  echo "install-deps: everything present"
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

# Installing prometheus, nginx or ssh must not start their services on their
# default ports; Debian honours policy-rc.d exit 101 ("action forbidden").
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod 755 /usr/sbin/policy-rc.d
fi

mapfile -t uniq < <(printf '%s\n' "${need[@]}" | sort -u)
echo "install-deps: installing ${uniq[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${uniq[@]}" >/dev/null
