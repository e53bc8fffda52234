#!/usr/bin/env python3
"""`emmyops backup create` + `verify` side by side with the pipeline users would write by hand.

Builds a WAL-mode SQLite database of --mb megabytes (message rows with partly repetitive text,
like EmmyApp's), starts moto_server on loopback as S3, and per run (alternating, --runs times):

  emmyops   create --target s3://…   snapshot (online backup API), zstd, age, upload, manifest
            verify ID                 download, SHA-256, decrypt, decompress, integrity_check,
                                      row counts against the manifest
  pipeline  sqlite3 DB ".backup F"; zstd -c F | age -r R | aws s3 cp - s3://…
            aws s3 cp s3://… - | age -d -i ID | zstd -d -o G; sqlite3 G "PRAGMA integrity_check"

During each snapshot a writer process commits one-row transactions every 2 ms (as EmmyApp's
ingest does); the longest commit it saw while the snapshot ran is the ingest stall. The shell's
`.backup` restarts on every foreign commit, so under that writer it may never end: it gets
--live-timeout seconds, and if it has not finished it is timed again with the writer stopped. emmyops'
snapshot phase is read off its JSON progress events (`snapshot` to `encrypt`). Peak RSS of each
emmyops process comes from wait4(). Prints medians. Needs sqlite3, zstd, age, age-keygen, aws
(awscli) and moto_server (scripts/install-deps.sh puts moto in /opt/emmyops-tools/moto). Usage:

    scripts/bench/backup.py [--binary .build/release/emmyops] [--mb 1024] [--runs 3] [--live-timeout 60]
"""
import argparse, importlib.util, json, multiprocessing, os, shutil, socket, statistics, subprocess, sys, tempfile, time

MOTO = "/opt/emmyops-tools/moto/bin/moto_server"

# The stall probe of the snapshot-method benchmark: one-row transactions every 2 ms, each timed.
_snapshot_bench = importlib.util.spec_from_file_location("backup_snapshot", os.path.join(os.path.dirname(__file__), "backup-snapshot.py"))
backup_snapshot = importlib.util.module_from_spec(_snapshot_bench)
_snapshot_bench.loader.exec_module(backup_snapshot)


def build_db(path, mb):
    import sqlite3
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE message (id INTEGER PRIMARY KEY, phone TEXT NOT NULL, body TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'queued', created_at REAL NOT NULL)")
    db.execute("CREATE INDEX message_phone ON message(phone)")
    per_batch = 20_000
    row_bytes = 420
    batches = max(1, mb * 1024 * 1024 // (per_batch * row_bytes))
    rnd = os.urandom
    for b in range(batches):
        # Half template text, half random (base64-ish): compresses about as real bodies do.
        db.executemany("INSERT INTO message (phone, body, status, created_at) VALUES (?, ?, 'queued', ?)",
                       ((f"+2547{(b * per_batch + i):08d}", "Hello customer, your order is ready for collection at the depot. "
                         * 2 + rnd(96).hex(), time.time()) for i in range(per_batch)))
        db.commit()
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


class Writer:
    def __init__(self, path):
        self.stop, self.out = multiprocessing.Event(), multiprocessing.Queue()
        self.proc = multiprocessing.Process(target=backup_snapshot.writer, args=(path, self.stop, self.out))
        self.proc.start()
        time.sleep(1.0)  # steady state before the snapshot starts

    def longest(self, start, end):
        self.stop.set()
        samples = self.out.get()
        self.proc.join()
        during = [lat for t, lat in samples if start - lat <= t <= end]
        return max(during) * 1000 if during else 0.0


def run_measured(argv, env, on_stderr_line=None):
    """Runs argv; returns (seconds, peak RSS MiB, stdout). Fails loudly on a non-zero exit."""
    t0 = time.monotonic()
    p = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    err = []
    for line in p.stderr:
        err.append(line)
        if on_stderr_line:
            on_stderr_line(line)
    out = p.stdout.read()
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.monotonic() - t0
    if p.returncode != 0:
        sys.exit(f"{' '.join(argv[:3])} failed ({p.returncode}): {''.join(err)[-2000:]}")
    return seconds, usage.ru_maxrss / 1024, out


def sh(script, env):
    """Runs a bash pipeline (pipefail); returns seconds."""
    t0 = time.monotonic()
    r = subprocess.run(["bash", "-eo", "pipefail", "-c", script], env=env, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"pipeline failed: {script}\n{r.stderr[-2000:]}")
    return time.monotonic() - t0, r.stdout


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def emmyops_run(binary, env, work, data, spec, run):
    db = os.path.join(data, "emmy.sqlite")
    target = f"s3://bench/emmyops-{run}"
    phases = {}

    def note(line):
        try:
            phases.setdefault(json.loads(line).get("phase"), time.monotonic())
        except ValueError:
            pass
    w = Writer(db)
    create_s, create_rss, out = run_measured([binary, "backup", "create", "--spec", spec, "--data-dir", data, "--target", target,
                                              "--format", "json"], env, note)
    stall = w.longest(phases["snapshot"], phases.get("encrypt", time.monotonic()))
    manifest = json.loads(out)
    verify_s, verify_rss, _ = run_measured([binary, "backup", "verify", manifest["id"], "--spec", spec, "--data-dir", data,
                                            "--target", target, "--format", "json"], env)
    return {"create_s": create_s, "verify_s": verify_s, "total_s": create_s + verify_s, "create_rss_mib": create_rss,
            "verify_rss_mib": verify_rss, "stall_ms": stall, "snapshot_s": phases.get("encrypt", 0) - phases["snapshot"],
            "stored_mib": manifest["stored_bytes"] / 1048576}


def pipeline_run(env, work, data, recipient, identity, run, live_timeout):
    db = os.path.join(data, "emmy.sqlite")
    snap, restored = os.path.join(work, "snap.sqlite"), os.path.join(work, "restored.sqlite")
    url = f"s3://bench/pipeline-{run}/emmy.sqlite.zst.age"
    # The shell's .backup restarts whenever another connection commits: under a writer it may
    # never finish. Try it under the writer for --live-timeout seconds; if it does not finish,
    # say so and time it again with the writer stopped (the best case for the pipeline).
    w = Writer(db)
    t0 = time.monotonic()
    live = subprocess.run(["timeout", str(live_timeout), "sqlite3", db, f".backup '{snap}'"], env=env, capture_output=True)
    stall = w.longest(t0, time.monotonic())
    finished_live = live.returncode == 0
    snapshot_s = time.monotonic() - t0
    if not finished_live:
        if os.path.exists(snap):
            os.remove(snap)
        snapshot_s, _ = sh(f"sqlite3 '{db}' \".backup '{snap}'\"", env)
    upload_s, _ = sh(f"zstd -q -3 -c '{snap}' | age -r {recipient} | aws s3 cp --only-show-errors - {url}", env)
    os.remove(snap)
    download_s, _ = sh(f"aws s3 cp --only-show-errors {url} - | age -d -i '{identity}' | zstd -q -d -o '{restored}'", env)
    check_s, check = sh(f"sqlite3 '{restored}' 'PRAGMA integrity_check'", env)
    if check.strip() != "ok":
        sys.exit(f"pipeline restore fails integrity_check: {check}")
    os.remove(restored)
    create_s = snapshot_s + upload_s
    return {"create_s": create_s, "verify_s": download_s + check_s, "total_s": create_s + download_s + check_s,
            "stall_ms": stall, "snapshot_s": snapshot_s, "snapshot_finished_under_writer": 1.0 if finished_live else 0.0}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=".build/release/emmyops")
    ap.add_argument("--mb", type=int, default=1024)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--live-timeout", type=int, default=60, help="seconds the pipeline's .backup may run under the writer")
    args = ap.parse_args()
    binary = os.path.abspath(args.binary)
    for tool in ("sqlite3", "zstd", "age", "age-keygen", "aws"):
        if not shutil.which(tool):
            sys.exit(f"needs {tool} on PATH")
    work = tempfile.mkdtemp(prefix="emmy-backup-bench-")
    moto = None
    try:
        port = free_port()
        moto = subprocess.Popen([MOTO, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        env = dict(os.environ, AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1",
                   AWS_REGION="us-east-1", AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}", AWS_ENDPOINT_URL_S3=f"http://127.0.0.1:{port}",
                   AWS_EC2_METADATA_DISABLED="true")
        deadline = time.time() + 20
        while subprocess.run(["aws", "s3api", "create-bucket", "--bucket", "bench"], env=env, capture_output=True).returncode != 0:
            if time.time() > deadline:
                sys.exit("moto_server did not start")
            time.sleep(0.2)
        data = os.path.join(work, "data")
        os.makedirs(data)
        t0 = time.monotonic()
        build_db(os.path.join(data, "emmy.sqlite"), args.mb)
        size = os.path.getsize(os.path.join(data, "emmy.sqlite"))
        identity = os.path.join(work, "id.txt")
        keygen = subprocess.run(["age-keygen", "-o", identity], capture_output=True, text=True, check=True)
        recipient = keygen.stderr.split("Public key: ")[1].strip()
        spec = os.path.join(work, "emmy.yaml")
        with open(spec, "w") as f:
            f.write(f"version: 1\nbackup:\n  recipients: [{recipient}]\n  path_style: true\n")
        env["EMMY_BACKUP_IDENTITY_FILE"] = identity
        print(f"database: {size / 1048576:.0f} MiB (built in {time.monotonic() - t0:.0f} s); binary: {binary}; "
              f"S3: moto_server on 127.0.0.1:{port}; {args.runs} runs each, alternating", flush=True)
        results = {"emmyops": [], "pipeline": []}
        for run in range(args.runs):
            results["emmyops"].append(emmyops_run(binary, env, work, data, spec, run))
            print(f"  run {run + 1} emmyops:  " + json.dumps({k: round(v, 2) for k, v in results['emmyops'][-1].items()}), flush=True)
            results["pipeline"].append(pipeline_run(env, work, data, recipient, identity, run, args.live_timeout))
            print(f"  run {run + 1} pipeline: " + json.dumps({k: round(v, 2) for k, v in results['pipeline'][-1].items()}), flush=True)

        def med(name, key):
            return statistics.median(r[key] for r in results[name])
        print(f"medians over {args.runs} runs ({size / 1048576:.0f} MiB database):")
        for name in results:
            line = (f"  {name:9s} create {med(name, 'create_s'):6.1f} s  verify {med(name, 'verify_s'):6.1f} s  "
                    f"total {med(name, 'total_s'):6.1f} s  snapshot {med(name, 'snapshot_s'):5.1f} s  "
                    f"longest writer stall during the snapshot {med(name, 'stall_ms'):7.1f} ms (max {max(r['stall_ms'] for r in results[name]):.1f})")
            if name == "pipeline":
                done = sum(r["snapshot_finished_under_writer"] for r in results[name])
                line += f"  .backup finished under the writer in {done:.0f} of {args.runs} runs (else timed again without it)"
            if name == "emmyops":
                line += (f"  peak RSS create {med(name, 'create_rss_mib'):.0f} MiB, verify {med(name, 'verify_rss_mib'):.0f} MiB"
                         f" (max {max(max(r['create_rss_mib'], r['verify_rss_mib']) for r in results[name]):.0f})"
                         f"  stored {med(name, 'stored_mib'):.0f} MiB")
            print(line)
        ratio = med("emmyops", "total_s") / med("pipeline", "total_s")
        print(f"  emmyops create+verify takes {ratio:.2f}x the pipeline's upload+download+integrity_check")
    finally:
        if moto:
            moto.terminate()
            moto.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
