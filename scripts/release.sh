#!/usr/bin/env bash
# Builds the release artifact users deploy: emmyops with the Swift runtime linked statically
# (so a host without a Swift toolchain can start it), stripped, its debug symbols in a separate
# file linked back by a GNU debuglink, and a .sha256 next to it.
#
#   scripts/release.sh [--config release|debug] [--out DIR]
#
# Writes DIR/emmyops-linux-x86_64, DIR/emmyops-linux-x86_64.debug and
# DIR/emmyops-linux-x86_64.sha256 (default DIR: dist). The build has its own scratch path
# (.build/static-CONFIG), so the normal `swift build` output is left alone. `--config debug`
# is what the test command uses: the bare-host check needs a static binary, not an optimised
# one, and a debug build costs far less CI time (see README).
set -euo pipefail
cd "$(dirname "$0")/.."

config=release
out=dist
while [ $# -gt 0 ]; do
  case $1 in
    --config) config=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "usage: scripts/release.sh [--config release|debug] [--out DIR]" >&2; exit 64 ;;
  esac
done
case $config in release|debug) ;; *) echo "release.sh: --config is release or debug" >&2; exit 64 ;; esac

scratch=.build/static-$config
# --no-export-dynamic: swiftc exports every symbol of an executable, 61,000 of them in this one,
# which the dynamic loader searches and --gc-sections must keep; nothing looks them up (the
# debug symbols go to the .debug file anyway). 7 MiB smaller, about 2% less CPU per command.
# -disable-concrete-type-metadata-mangled-name-accessors: compiled code asks for a generic type's
# metadata (a dictionary's storage, say) through an accessor that passes the witness tables it
# knows, instead of a mangled name the runtime demangles and whose requirements (Key: Hashable)
# it proves by scanning the binary's 12,000 conformance records, once per new type: 8% less
# time for `render all`, 7% for `validate --tools off`; 0.3 MiB more binary.
# libstdc++, zlib and zstd come from their static archives (the -dev packages the build already
# needs): the linker takes a library from the first directory that holds it, so a directory
# with only the .a files, searched first, wins over the system's .so. Loading those three
# shared objects (libstdc++'s 4,300 symbol relocations, its locale and iostream constructors)
# was a fifth of every command: `--version` 6.6 -> 4.5 ms, `render all` 13.2 -> 10.8 ms. A host
# then needs only libc, libgcc_s and libsqlite3 (which stays shared: SQLite gets its security
# updates from the distribution).
static_libs="$scratch/static-libs"
mkdir -p "$static_libs"
for lib in libstdc++.a libz.a libzstd.a; do
  found=$(clang -print-file-name="$lib")
  [ -f "$found" ] || { echo "release.sh: $lib not found (install libstdc++-12-dev, zlib1g-dev, libzstd-dev)" >&2; exit 2; }
  ln -sf "$found" "$static_libs/$lib"
done
swift build -c "$config" --static-swift-stdlib --scratch-path "$scratch" --product emmyops -Xlinker --no-export-dynamic \
  -Xlinker -L"$PWD/$static_libs" \
  -Xswiftc -Xfrontend -Xswiftc -disable-concrete-type-metadata-mangled-name-accessors
built="$scratch/$config/emmyops"

mkdir -p "$out"
artifact="$out/emmyops-linux-x86_64"
rm -f "$artifact" "$artifact.debug" "$artifact.sha256"
objcopy --only-keep-debug "$built" "$artifact.debug"
# The build stamp `emmyops --version` prints (Sources/EmmyOpsKit/System/BuildStamp.swift): an
# unloaded section added after linking, so stamping needs no rebuild. SOURCE_DATE_EPOCH, when
# set, fixes the time for reproducible builds.
commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
if [ "$commit" != unknown ] && ! git diff --quiet HEAD -- 2>/dev/null; then commit="$commit-dirty"; fi
stamp=$(mktemp)
trap 'rm -f "$stamp"' EXIT
printf 'commit=%s\nbuilt=%s\n' "$commit" "$(date -u ${SOURCE_DATE_EPOCH:+-d @$SOURCE_DATE_EPOCH} +%Y-%m-%dT%H:%M:%SZ)" >"$stamp"
objcopy --strip-debug --strip-unneeded --add-gnu-debuglink="$artifact.debug" \
  --add-section .emmyops.stamp="$stamp" --set-section-flags .emmyops.stamp=readonly "$built" "$artifact"
chmod 755 "$artifact"

# No library of the Swift toolchain may be loaded at run time, nor one linked statically above.
if ldd "$artifact" | grep -E 'libswift|libFoundation|libdispatch|libBlocksRuntime|/usr/share/swift|/swift/'; then
  echo "release.sh: $artifact still loads the Swift runtime dynamically" >&2
  exit 1
fi
if ldd "$artifact" | grep -E 'libstdc\+\+|libz\.|libzstd'; then
  echo "release.sh: $artifact still loads libstdc++, zlib or zstd dynamically" >&2
  exit 1
fi
(cd "$out" && sha256sum "$(basename "$artifact")" >"$(basename "$artifact").sha256")
echo "release.sh: $artifact ($(du -m "$artifact" | cut -f1) MiB; debug symbols $(du -m "$artifact.debug" | cut -f1) MiB): $("$artifact" --version)"
