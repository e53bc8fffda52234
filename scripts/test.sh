#!/usr/bin/env bash
# The test command: installs the real checkers when missing, builds, runs every test with
# missing tools treated as failures, then checks the committed renderings are up to date.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh

export EMMY_REQUIRE_TOOLS=1
swift build --build-tests
# Some tests run on their own afterwards: the Twilio stand-in (Twilio, sending-pause and secrets-push tests) and the connection-limit
# tests' server serve from this test process, and on two cores the parallel run's blocking
# process tests starve them for minutes; the serve-limit tests hold 2,000 sockets and 64 MB
# bodies, which is no load to add to the parallel run. The incident closed loop measures
# seconds from fault to remedy with Prometheus, Alertmanager and the app all on 1 s clocks (so do
# its provider-outage and bad-deploy siblings, IncidentRemedyLoopTests), and
# the receiver test times its 202: both need the machine to themselves. The monitored fleet's
# alert and slot-switch timings (1 s scrapes, a 2 s `for:`) belong there too. The light group
# runs together; each timing suite runs alone, since swift test runs suites side by side.
# The backup under load races a 200,000-contact ingest and sends to the in-process stand-in.
# `up --stack` (UpStackTests) waits on 1 s scrapes for an alert and its resolution, likewise.
isolated_groups=("SendingCrashTests|TwilioProviderTests|ConnectionLimitTests|ServeLimitsTests|SendingPauseTests"
                 SecretsPushTests IncidentClosedLoopTests IncidentRemedyLoopTests IncidentReceiverTests MonitoredFleetTests
                 BackupUnderLoadTests UpStackTests)
# The monitoring page's and the notifiers' suites serve stand-ins (Prometheus, Alertmanager,
# Slack, PagerDuty) from this process with 2 s fetch timeouts, and the live batch page times a
# throttled worker pool: starved by the parallel run they time out or fall back.
isolated_groups+=("MonitoringChartTests|IncidentNotifierTests" BatchLiveTests)
# The browser suite reads a live batch page mid-run (throttled messages, time left) while
# Chromium and a 3,000-message send share the machine: in the parallel run the batch's live
# phase can pass between two reads.
isolated_groups+=(BrowserTests)
# The PostgreSQL engine's suite runs its own cluster and concurrent claimers and starters:
# a server process and many connections that the parallel run's process tests would slow.
# `serve` on PostgreSQL runs the built binary against a cluster of its own, likewise.
isolated_groups+=("PostgresEngineTests|ServeOnPostgresTests")
# Three `serve` replicas behind nginx on one cluster, 100,000 messages through the Twilio
# stand-in in this process, one replica killed mid-send: minutes of the machine's two cores.
isolated_groups+=(PostgresReplicasTests)
isolated=$(IFS="|"; echo "${isolated_groups[*]}")
swift test --skip-build --skip "$isolated" 2>&1 | tee .build/test.log
# swift test exits non-zero on failure; with `tee` we must look at its status ourselves.
status=${PIPESTATUS[0]}
[ "$status" -eq 0 ] || exit "$status"

# The release artifact starts where users deploy it: built with the Swift runtime linked
# statically (a debug build: the check needs a static binary, not an optimised one, and a
# debug build costs about half a release build's CI time), then run in a chroot of a cached
# minimal Debian (debootstrap, no Swift inside). About 5 min on a quiet 2-core machine, plus
# 1-4 min once for the root filesystem; about 1 s per later check. The monitored fleet's
# app-only hosts then run the same artifact from a bare root filesystem of their own (with
# nginx and node-exporter, which deploys start there).
echo "== the release artifact on a bare host"
bash scripts/release.sh --config debug --out .build/dist
bash scripts/bare-host-check.sh .build/dist/emmyops-linux-x86_64
EMMY_RELEASE_ARTIFACT=$PWD/.build/dist/emmyops-linux-x86_64
EMMY_BARE_ROOTFS=$(bash scripts/bare-rootfs.sh libsqlite3-0,nginx,prometheus-node-exporter)
export EMMY_RELEASE_ARTIFACT EMMY_BARE_ROOTFS

: > .build/test-isolated.log
for group in "${isolated_groups[@]}"; do
  swift test --skip-build --filter "$group" 2>&1 | tee -a .build/test-isolated.log
  status=${PIPESTATUS[0]}
  [ "$status" -eq 0 ] || exit "$status"
done

# The EmmyApp suites that matter (API, ingest, bad input, concurrency, sending, crash
# recovery, web) once more on PostgreSQL: TestStore gives each test a fresh database on one
# throw-away cluster the test process starts. The live batch page's timing suite runs alone,
# as in the SQLite pass.
echo "== the EmmyApp suites on PostgreSQL"
postgres_suites="EmmyAppTests\.(TestStoreTests|ServerTests|SendingRouterTests|SendWorkerPoolTests|ConcurrencyTests|InterruptedBatchTests|BadInputTests|UploadTests|UploadRefusalTests|WebTests|RequestSecurityTests)"
for group in "$postgres_suites" "EmmyAppTests\.BatchLiveTests"; do
  EMMY_TEST_ENGINE=postgres swift test --skip-build --filter "$group" 2>&1 | tee -a .build/test-isolated.log
  status=${PIPESTATUS[0]}
  [ "$status" -eq 0 ] || exit "$status"
done

echo "== integration: the example spec through the real tools"
bin=.build/debug/emmyops
"$bin" validate --spec examples/emmy.yaml --tools required
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
"$bin" init --dir "$scratch"
(cd "$scratch" && "$OLDPWD/$bin" validate --tools required && "$OLDPWD/$bin" render all --out r >/dev/null)
echo "integration: passed"

# A short coverage-guided run of every fuzz target from its committed seeds: about 2.5 min to
# build the fuzz package (Yams and a few sources, with libFuzzer and AddressSanitizer), then
# 20 s per target. Any crash, failed check, timeout or memory blow-up fails the run.
bash scripts/fuzz.sh 20
# One plain closing line: every Swift test passed, and so did the integration run.
count=0
while read -r n; do
  count=$((count + n))
done < <(grep -ohE "Test run with [0-9]+ tests" .build/test.log .build/test-isolated.log | grep -oE "[0-9]+")
echo "${count} passed, 0 failed"
