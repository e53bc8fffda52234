#!/usr/bin/env bash
# Coverage-guided fuzzing (libFuzzer, with AddressSanitizer) of the code that reads hostile
# input: the CSV parser, the /messages reader, the spec loader and the message template.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     (default: 30 seconds, every target)
#
# Builds Fuzz/ (its own package: only the few sources the targets exercise), then runs each
# target for the given time with its token dictionary (Fuzz/dict/<target>.dict), starting from
# its committed seeds (Fuzz/corpus/<target>/) plus what earlier runs found
# (.build/fuzz/corpus/<target>/, never committed). Exits non-zero on any crash, failed check,
# timeout (one input over $FUZZ_TIMEOUT s) or memory over $FUZZ_RSS_MB MB; the input that did
# it is saved under .build/fuzz/artifacts/, and every finding becomes a regression test in the
# normal suite.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-30}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(csv messages spec template)
timeout_s=${FUZZ_TIMEOUT:-5}
rss_mb=${FUZZ_RSS_MB:-1024}

declare -A products=([csv]=FuzzCSV [messages]=FuzzMessages [spec]=FuzzSpec [template]=FuzzTemplate)
declare -A max_len=([csv]=8192 [messages]=16384 [spec]=16384 [template]=4096)
for target in "${targets[@]}"; do
  [ -n "${products[$target]:-}" ] || { echo "fuzz: unknown target $target (csv, messages, spec, template)" >&2; exit 64; }
done

# The fuzz package keeps its build next to the main one, so `.build/` stays the only thing to ignore.
# The coverage options are spelled out: with whole-module optimisation (any -c release build of
# more than one file) swiftc 6.3 applies -sanitize=fuzzer's implied coverage to nothing, and
# libFuzzer then runs blind ("no interesting inputs were found").
build=(swift build --package-path Fuzz --scratch-path .build/fuzz/build -c release --sanitize=fuzzer --sanitize=address
       -Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp)
echo "== fuzz: building: ${build[*]}"
mkdir -p .build/fuzz/artifacts
start=$(date +%s)
"${build[@]}" >.build/fuzz/build.log 2>&1 || { tail -40 .build/fuzz/build.log >&2; echo "fuzz: build failed" >&2; exit 1; }
echo "fuzz: built in $(( $(date +%s) - start ))s"
# The same flags, or SwiftPM plans a different build and the next run compiles everything again.
bin=$("${build[@]}" --show-bin-path)

failed=()
for target in "${targets[@]}"; do
  product=${products[$target]}
  corpus=.build/fuzz/corpus/$target
  mkdir -p "$corpus"
  log=.build/fuzz/$target.log
  echo "== fuzz: $target for ${seconds}s"
  status=0
  # New inputs go to the first folder; the committed seeds are only read. LeakSanitizer is off:
  # the Swift runtime's metadata caches live for the process and read as leaks; memory is
  # bounded by -rss_limit_mb (and libFuzzer's malloc limit, the same) instead.
  ASAN_OPTIONS=detect_leaks=0 "$bin/$product" "$corpus" "Fuzz/corpus/$target" \
    -max_total_time="$seconds" -timeout="$timeout_s" -rss_limit_mb="$rss_mb" \
    -max_len="${max_len[$target]}" -dict="Fuzz/dict/$target.dict" -print_final_stats=1 \
    -artifact_prefix=".build/fuzz/artifacts/$target-" >"$log" 2>&1 || status=$?
  runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo 0)
  rate=$(grep -oE 'stat::average_exec_per_sec: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo 0)
  size=$(find "$corpus" "Fuzz/corpus/$target" -type f | wc -l)
  echo "fuzz: $target: exit $status, $runs runs, ${rate} exec/s, corpus $size inputs (Fuzz/corpus/$target: $(find "Fuzz/corpus/$target" -type f | wc -l))"
  if [ "$status" -ne 0 ]; then
    grep -E '==ERROR|ALARM|Fatal error|SUMMARY|Test unit written|out-of-memory|deadly signal' "$log" | head -20 >&2 || true
    echo "fuzz: $target FAILED; full log in $log" >&2
    failed+=("$target")
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: failures in ${failed[*]}; the inputs are in .build/fuzz/artifacts/" >&2
  exit 1
fi
echo "fuzz: ${#targets[@]} targets, 0 crashes, 0 timeouts"
