#!/usr/bin/env bash
# Prints the path of a minimal Debian root filesystem (debootstrap --variant=minbase, no Swift
# in it): the "bare host" the release artifact must start on. Built once from the mirror apt
# already uses and cached under /var/cache/emmyops-test, so later runs cost nothing.
# Usage: scripts/bare-rootfs.sh [extra-package,...]   (extra packages make a separate cache entry)
set -euo pipefail

extra=${1:-}
cache=${EMMY_TEST_CACHE:-/var/cache/emmyops-test}
suite=bookworm
name="$suite-minbase${extra:+-${extra//,/-}}"
root="$cache/rootfs/$name"

# The mirror apt uses for this suite (deb822 stanzas or one-line sources), so debootstrap
# reaches nothing apt does not already reach.
sources=$(ls /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null || true)
# shellcheck disable=SC2086 # one word per existing file
mirror=$(awk -v suite="$suite" '
  /^URIs:/ { uri = $2 }
  /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == suite) found = uri }
  /^deb / && $3 == suite && !found { found = $2 }
  END { if (found) print found }' $sources /dev/null 2>/dev/null || true)
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian

if [ ! -e "$root/.emmyops-complete" ]; then
  # A half-finished earlier run leaves a folder without the marker: start over.
  rm -rf "$root" "$root.partial"
  mkdir -p "$cache/rootfs"
  echo "bare-rootfs: debootstrap --variant=minbase $suite into $root (from $mirror)" >&2
  debootstrap --variant=minbase ${extra:+--include="$extra"} "$suite" "$root.partial" "$mirror" >"$cache/rootfs/$name.log" 2>&1 || {
    tail -20 "$cache/rootfs/$name.log" >&2
    exit 2
  }
  # Keep the cache small: downloaded packages are not needed once unpacked.
  rm -rf "$root.partial/var/cache/apt/archives/"*.deb
  touch "$root.partial/.emmyops-complete"
  mv "$root.partial" "$root"
fi
# The point of the exercise: nothing of Swift may be in there.
if find "$root" -name 'libswiftCore*' -print -quit | grep -q .; then
  echo "bare-rootfs: $root holds a Swift runtime; it is not bare" >&2
  exit 1
fi
echo "$root"
