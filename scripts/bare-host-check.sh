#!/usr/bin/env bash
# Proves a release artifact starts where users deploy it: on a bare Debian host without Swift.
# Runs the artifact in a chroot of the cached minimal root filesystem (scripts/bare-rootfs.sh),
# inside its own network namespace (only its loopback): --version, init, validate, render all,
# serve until /ready, and one POST /messages. Needs root (chroot, ip netns).
#
#   scripts/bare-host-check.sh ARTIFACT
set -euo pipefail
cd "$(dirname "$0")/.."

artifact=${1:?usage: scripts/bare-host-check.sh ARTIFACT}
[ -x "$artifact" ] || { echo "bare-host-check: $artifact is not an executable" >&2; exit 64; }
# The artifact links the system SQLite (GRDB), as the release notes say; a host needs the
# libsqlite3-0 package and nothing else beyond a minimal Debian/Ubuntu.
root=$(bash scripts/bare-rootfs.sh libsqlite3-0)

ns=emmy-bare-$$
work=/tmp/emmy-bare-$$          # inside the root filesystem
cleanup() {
  # Every process in the namespace is this script's (the server).
  pids=$(ip netns pids "$ns" 2>/dev/null || true)
  # shellcheck disable=SC2086 # one word per pid
  [ -z "$pids" ] || { kill $pids 2>/dev/null || true; wait 2>/dev/null || true; }
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "${root:?}$work"
}
trap cleanup EXIT

ip netns add "$ns"
ip -n "$ns" link set lo up
mkdir -p "$root$work"
cp "$artifact" "$root$work/emmyops"

# Runs a command in the chroot and the namespace. `ip netns exec` gives the command a private
# mount namespace, so the /proc mounted for it disappears with it and the cache stays clean.
inside() {
  # shellcheck disable=SC2016 # $1 and $@ are expanded by the inner sh
  ip netns exec "$ns" sh -c 'root=$1; shift; mount -t proc proc "$root/proc" && exec chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/tmp LANG=C.UTF-8 "$@"' \
    sh "$root" "$@"
}
in_work() { inside /bin/sh -c "cd $work && $1"; }
fail() { echo "bare-host-check: FAILED: $*" >&2; exit 1; }

started=$(date +%s%N)
# The root filesystem really is bare: no Swift runtime, no compiler.
inside /bin/sh -c '! ls /usr/lib/swift /usr/bin/swift 2>/dev/null' >/dev/null || fail "the root filesystem holds Swift"

version=$(in_work "./emmyops --version") || fail "--version did not run: $version"
echo "bare-host-check: --version: $version"
# release.sh stamps the commit and build time; a binary that lost the stamp cannot be traced.
case $version in *"(commit "*", built "*")") ;; *) fail "--version names no commit and build time: $version" ;; esac
in_work "./emmyops init --dir site >/dev/null" || fail "init"
in_work "cd site && ../emmyops validate --tools off >/dev/null" || fail "validate"
in_work "cd site && ../emmyops render all --out rendered >/dev/null" || fail "render all"
rendered=$(find "$root$work/site/rendered" -type f | wc -l)
[ "$rendered" -gt 10 ] || fail "render all wrote only $rendered files"

port=5000
inside "$work/emmyops" serve --host 127.0.0.1 --port "$port" --data-dir "$work/data" >"$root$work/serve.log" 2>&1 &
serve_pid=$!
deadline=$(( $(date +%s) + 60 ))
until ip netns exec "$ns" curl -fsS -o /dev/null "http://127.0.0.1:$port/ready" 2>/dev/null; do
  kill -0 "$serve_pid" 2>/dev/null || { cat "$root$work/serve.log" >&2; fail "serve exited"; }
  [ "$(date +%s)" -lt "$deadline" ] || { cat "$root$work/serve.log" >&2; fail "serve not ready within 60 s"; }
  sleep 0.2
done
answer=$(ip netns exec "$ns" curl -fsS -H 'Content-Type: application/json' \
  --data '{"contacts":[{"phone":"+254712345678","name":"Jane"}],"message":"Hello {name}"}' "http://127.0.0.1:$port/messages") ||
  fail "POST /messages: $answer"
case $answer in *'"accepted":1'*) ;; *) fail "POST /messages did not accept the contact: $answer" ;; esac
elapsed=$(( ($(date +%s%N) - started) / 1000000 ))
echo "bare-host-check: passed in ${elapsed} ms: --version, init, validate, render all ($rendered files), serve /ready, POST /messages ($answer)"
