#!/usr/bin/env bash
# Installs the real tools the test suite drives: Debian packages (promtool, amtool,
# prometheus, alertmanager, node-exporter, postgres-exporter, docker-compose, shellcheck, cloud-init, chromium,
# chromium-driver, sshd, nginx, strace, debootstrap, binutils, postgresql-15) and PyPI tools, each in its own virtualenv under
# /opt/emmyops-tools with its commands
# linked into /usr/local/bin (checkov, zizmor, check-jsonschema, python-hcl2, moto, schemathesis).
# Idempotent: a second run that finds everything does nothing.
set -euo pipefail

need=()
command -v prometheus >/dev/null || need+=(prometheus)
command -v promtool >/dev/null || need+=(prometheus)
command -v prometheus-alertmanager >/dev/null || command -v alertmanager >/dev/null || need+=(prometheus-alertmanager)
command -v amtool >/dev/null || need+=(prometheus-alertmanager)
command -v prometheus-node-exporter >/dev/null || need+=(prometheus-node-exporter)
# deploy --monitoring runs postgres_exporter beside Prometheus when the app uses PostgreSQL.
command -v prometheus-postgres-exporter >/dev/null || command -v postgres_exporter >/dev/null || need+=(prometheus-postgres-exporter)
command -v docker-compose >/dev/null || need+=(docker-compose)
[ -e /usr/include/sqlite3.h ] || need+=(libsqlite3-dev)
command -v shellcheck >/dev/null || need+=(shellcheck)
command -v cloud-init >/dev/null || need+=(cloud-init)
# The web UI's browser test: headless Chromium driven through chromedriver (WebDriver).
command -v chromium >/dev/null || need+=(chromium)
command -v chromedriver >/dev/null || need+=(chromium-driver)
# Deploy tests: one real sshd per simulated host, nginx as the cut-over proxy.
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v ssh >/dev/null || need+=(openssh-client)
[ -x /usr/sbin/nginx ] || need+=(nginx)
# The durability test watches EmmyApp's fsyncs: a batch is on disk before its 202.
command -v strace >/dev/null || need+=(strace)
# Backups: libzstd is linked (Sources/CZstd); age and zstd read what emmyops writes in tests.
[ -e /usr/include/zstd.h ] || need+=(libzstd-dev)
command -v age >/dev/null || need+=(age)
command -v zstd >/dev/null || need+=(zstd)
# The release artifact: objcopy strips it; debootstrap builds the bare host it must start on.
command -v objcopy >/dev/null || need+=(binutils)
[ -x /usr/sbin/debootstrap ] || need+=(debootstrap)
# The PostgreSQL engine's tests start their own throw-away cluster (initdb + pg_ctl).
[ -x /usr/lib/postgresql/15/bin/initdb ] || need+=(postgresql-15)
# The simulated hosts' shutdown proves with pgrep that nothing of a test fleet still runs.
command -v pgrep >/dev/null || need+=(procps)

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

# Installing prometheus, nginx or ssh must not start their services on their
# default ports; Debian honours policy-rc.d exit 101 ("action forbidden"). A policy-rc.d this
# script puts there is removed when it exits, however it exits: left behind it would stop every
# service installed later on this machine from starting.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod 755 /usr/sbin/policy-rc.d
fi

# Debian's postgresql-15 creates a `main` cluster on 5432 when it installs (policy-rc.d only
# keeps it from starting, and a boot would start it): postgresql-common goes in first and is
# told not to. Only when this script installs PostgreSQL; an existing setup is left alone.
if [[ " ${need[*]} " == *" postgresql-15 "* ]]; then
  if [ ! -e /etc/postgresql-common/createcluster.conf ]; then
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends postgresql-common >/dev/null
  fi
  $SUDO sed -i 's/^#\?create_main_cluster *=.*/create_main_cluster = false/' /etc/postgresql-common/createcluster.conf
fi

if [ ${#need[@]} -gt 0 ]; then
  mapfile -t uniq < <(printf '%s\n' "${need[@]}" | sort -u)
  echo "install-deps: installing ${uniq[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${uniq[@]}" >/dev/null
fi

# PyPI tools: one virtualenv each (checkov brings its own hcl2 module, so python-hcl2 must
# not share its environment), pinned to versions known to work offline here.
tools=/opt/emmyops-tools
pip_tool() { # venv-name requirement command [command...]: links each command onto PATH
  local name=$1 requirement=$2; shift 2
  if [ ! -x "$tools/$name/bin/$1" ]; then
    echo "install-deps: pip installing $requirement"
    $SUDO python3 -m venv "$tools/$name"
    $SUDO "$tools/$name/bin/pip" install -q --disable-pip-version-check $requirement
  fi
  for cmd in "$@"; do $SUDO ln -sf "$tools/$name/bin/$cmd" "/usr/local/bin/$cmd"; done
}
pip_tool checkov "checkov==3.3.30" checkov
pip_tool zizmor "zizmor==1.32.0" zizmor
pip_tool check-jsonschema "check-jsonschema==0.39.0" check-jsonschema
pip_tool moto "moto[server]==5.2.5" moto_server
# EmmyApp's OpenAPI description, checked against the live server with generated requests.
pip_tool schemathesis "schemathesis==4.32.5" st schemathesis
# python-hcl2 is a library: a wrapper runs its venv's interpreter as emmy-hcl2-python (a
# symlink would not do: Python finds its virtualenv from the path it was started by).
if ! "$tools/hcl2/bin/python" -c "import hcl2" 2>/dev/null; then
  echo "install-deps: pip installing python-hcl2"
  $SUDO python3 -m venv "$tools/hcl2"
  $SUDO "$tools/hcl2/bin/pip" install -q --disable-pip-version-check "python-hcl2==8.1.4"
fi
wrapper=/usr/local/bin/emmy-hcl2-python
if [ ! -f "$wrapper" ] || [ -L "$wrapper" ]; then
  $SUDO rm -f "$wrapper"   # never write through an old symlink into the interpreter itself
  printf '#!/bin/sh\nexec %s/hcl2/bin/python "$@"\n' "$tools" | $SUDO tee "$wrapper" >/dev/null
  $SUDO chmod 755 "$wrapper"
fi
echo "install-deps: done"
