#!/usr/bin/env python3
"""The writer stall each snapshot method causes: `VACUUM INTO` against SQLite's online backup API.

Builds a WAL-mode database of --mb megabytes, then for each method runs a writer process that
commits one small INSERT transaction after another (as EmmyApp's ingest does) and records every
commit's latency, while `emmyops backup create --snapshot-method M` runs against the same file.
The snapshot phase is read off create's JSON progress events on stderr (from `snapshot` to
`encrypt`). Prints, per method: snapshot seconds, and the writer's longest and p99 commit latency
during the snapshot, next to the same writer's figures with no backup running. Needs age-keygen.
Usage:

    scripts/bench/backup-snapshot.py [--binary .build/release/emmyops] [--mb 200] [--runs 3]
"""
import argparse, json, multiprocessing, os, shutil, sqlite3, subprocess, sys, tempfile, time


def build_db(path, mb):
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE message (id INTEGER PRIMARY KEY, phone TEXT NOT NULL, body TEXT NOT NULL, created_at REAL NOT NULL)")
    db.execute("CREATE INDEX message_phone ON message(phone)")
    row = "x" * 400
    per_batch = 10_000
    batches = max(1, mb * 1024 * 1024 // (per_batch * 480))
    for b in range(batches):
        db.executemany("INSERT INTO message (phone, body, created_at) VALUES (?, ?, ?)",
                       ((f"+2547{(b * per_batch + i):08d}", row, time.time()) for i in range(per_batch)))
        db.commit()
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


def writer(path, stop, out):
    """Commits one-row transactions until told to stop; sends (start, latency) of each."""
    db = sqlite3.connect(path, timeout=30, isolation_level=None)
    db.execute("PRAGMA busy_timeout=30000")
    db.execute("PRAGMA synchronous=NORMAL")
    samples = []
    i = 0
    while not stop.is_set():
        t0 = time.monotonic()
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO message (phone, body, created_at) VALUES (?, 'stall probe', ?)", (f"+2549{i:08d}", time.time()))
        db.execute("COMMIT")
        samples.append((t0, time.monotonic() - t0))
        i += 1
        time.sleep(0.002)
    out.put(samples)
    db.close()


def measure(binary, data, spec, target, method):
    stop = multiprocessing.Event()
    out = multiprocessing.Queue()
    proc = multiprocessing.Process(target=writer, args=(os.path.join(data, "emmy.sqlite"), stop, out))
    proc.start()
    time.sleep(1.0)  # the writer's steady state before the backup starts
    phases = {}
    create = subprocess.Popen([binary, "backup", "create", "--spec", spec, "--data-dir", data, "--target", target,
                               "--snapshot-method", method, "--format", "json"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in create.stderr:
        try:
            event = json.loads(line)
        except ValueError:
            continue
        phases.setdefault(event.get("phase"), time.monotonic())
    create.wait()
    if create.returncode != 0:
        sys.exit(f"create failed: {create.stdout.read()}")
    time.sleep(0.5)
    stop.set()
    samples = out.get()
    proc.join()
    start, end = phases["snapshot"], phases.get("encrypt", time.monotonic())
    during = sorted(lat for t, lat in samples if start - lat <= t <= end)
    before = sorted(lat for t, lat in samples if t < start)
    def p(xs, q):
        return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else float("nan")
    return {"snapshot_s": end - start, "max_ms": (during[-1] if during else 0) * 1000, "p99_ms": p(during, 0.99) * 1000,
            "commits": len(during), "idle_max_ms": (before[-1] if before else 0) * 1000, "idle_p99_ms": p(before, 0.99) * 1000}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=".build/release/emmyops")
    ap.add_argument("--mb", type=int, default=200)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    binary = os.path.abspath(args.binary)
    work = tempfile.mkdtemp(prefix="emmy-snapshot-bench-")
    try:
        data = os.path.join(work, "data")
        os.makedirs(data)
        build_db(os.path.join(data, "emmy.sqlite"), args.mb)
        size = os.path.getsize(os.path.join(data, "emmy.sqlite"))
        keygen = subprocess.run(["age-keygen", "-o", os.path.join(work, "id.txt")], capture_output=True, text=True, check=True)
        recipient = keygen.stderr.split("Public key: ")[1].strip()
        spec = os.path.join(work, "emmy.yaml")
        with open(spec, "w") as f:
            f.write(f"version: 1\nbackup:\n  recipients: [{recipient}]\n")
        print(f"database: {size / 1048576:.0f} MiB; writer: one-row transactions every 2 ms; {args.runs} runs per method, alternating")
        results = {"vacuum-into": [], "backup-api": []}
        for run in range(args.runs):
            for method in results:
                target = "file://" + os.path.join(work, f"target-{method}-{run}")
                results[method].append(measure(binary, data, spec, target, method))
                shutil.rmtree(target[len("file://"):], ignore_errors=True)
        for method, rs in results.items():
            worst = max(r["max_ms"] for r in rs)
            print(f"{method:12s} snapshot {min(r['snapshot_s'] for r in rs):.2f}-{max(r['snapshot_s'] for r in rs):.2f} s; "
                  f"writer stall during it: max {worst:.1f} ms (runs: {', '.join('%.1f' % r['max_ms'] for r in rs)}), "
                  f"p99 {max(r['p99_ms'] for r in rs):.1f} ms over {sum(r['commits'] for r in rs)} commits; "
                  f"same writer without a backup: max {max(r['idle_max_ms'] for r in rs):.1f} ms, p99 {max(r['idle_p99_ms'] for r in rs):.1f} ms")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
