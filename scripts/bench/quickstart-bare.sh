#!/usr/bin/env bash
# Wall time of the main-job command (`scripts/run.sh`) on a machine with only the OS and Swift:
# from a fresh clone to EmmyApp answering /ready. Usage: scripts/bench/quickstart-bare.sh [timeout-min=90]
#
# The machine is a chroot: Debian bookworm minbase (scripts/bare-rootfs.sh, cached) plus what
# swift.org's Debian 12 image installs next to the toolchain (its list, with libsqlite3-0 for
# its libsqlite3-dev: the SQLite headers are what run.sh must install itself), with this
# machine's toolchain bind-mounted read-only at the same path. An overlay keeps the cached root
# untouched, so every run starts bare. Stand-ins for the internet: the host's network for apt,
# and the host's git rewrite of github.com to its local package copies (when it has one).
# Must run as root (mount, chroot). Prints the seconds, the load average and the log's tail.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
timeout_min=${1:-90}

# swift.org's Debian 12 image minus libsqlite3-dev (bookworm has no binutils-gold package:
# gold is in binutils there).
packages=libsqlite3-0,binutils,libicu-dev,libcurl4-openssl-dev,libedit-dev,libncurses-dev,libpython3-dev,libxml2-dev,pkg-config,uuid-dev,tzdata,git,gcc,libstdc++-12-dev,ca-certificates,curl
lower=$(scripts/bare-rootfs.sh "$packages")
swift_root=$(readlink -f "$(command -v swift)")
swift_root=${swift_root%/usr/bin/*}
if [ -e "$lower/usr/include/sqlite3.h" ]; then
  echo "quickstart-bare: $lower already has the SQLite headers; it is not the machine to measure" >&2
  exit 1
fi

work=$(mktemp -d /tmp/emmy-quickstart-XXXXXX)
# Under set -e a failing last command of an && list ends the trap early: the SIGKILL that finds
# the group already gone (the usual case) returned 1 before the work tree was removed.
cleanup() {
  if [ -n "${pid:-}" ] && kill -- -"$pid" 2>/dev/null; then
    sleep 1
    kill -9 -- -"$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work"/{upper/root,overlay-work,root}
git clone -q "$repo" "$work/upper/root/emmyops"
{ git config --get-regexp '^url\..*\.insteadof$' || true; } | while read -r key value; do
  git config -f "$work/upper/root/.gitconfig" --add "$key" "$value"
done
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# Everything mounted here lives in a private mount namespace and goes with its last process.
# shellcheck disable=SC2016 # the inner shell expands its own arguments
setsid unshare -m --propagation private bash -c '
  set -e
  root=$1 lower=$2 swift_root=$3 port=$4
  mount -t overlay overlay -o "lowerdir=$lower,upperdir=$root/../upper,workdir=$root/../overlay-work" "$root"
  mount -t proc proc "$root/proc"
  mount --rbind /dev "$root/dev"
  mkdir -p "$root$swift_root" && mount --bind -o ro "$swift_root" "$root$swift_root"
  if [ -d /opt/swift-packages ]; then mkdir -p "$root/opt/swift-packages" && mount --bind -o ro /opt/swift-packages "$root/opt/swift-packages"; fi
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  exec chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb PATH="$swift_root/usr/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    bash -c "cd /root/emmyops && exec scripts/run.sh --port $port"
' quickstart "$work/root" "$lower" "$swift_root" "$port" >"$work/run.log" 2>&1 &
pid=$!
started=$(date +%s.%N)
load_start=$(cut -d" " -f1 /proc/loadavg)
deadline=$(( $(date +%s) + timeout_min * 60 ))
until curl -fsS -o /dev/null "http://127.0.0.1:$port/ready" 2>/dev/null; do
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "quickstart-bare: run.sh exited before /ready answered; its log ends:" >&2
    tail -30 "$work/run.log" >&2
    exit 1
  fi
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "quickstart-bare: no /ready within $timeout_min min; the log ends:" >&2
    tail -30 "$work/run.log" >&2
    exit 1
  fi
  sleep 1
done
seconds=$(python3 -c "import sys; print(round(float(sys.argv[1]) - float(sys.argv[2])))" "$(date +%s.%N)" "$started")
echo "--- run.sh output (tail) ---"
tail -8 "$work/run.log"
echo "---"
printf 'scripts/run.sh on a bare Debian 12 + Swift root, fresh clone to /ready: %d s (%d min %02d s)\n' \
  "$seconds" $((seconds / 60)) $((seconds % 60))
echo "$(nproc) cores; 1-min load average $load_start at the start, $(cut -d' ' -f1 /proc/loadavg) at /ready"
