#!/usr/bin/env python3
"""EmmyApp's CSV ingest against SQLite's own bulk path, side by side, for the same rows into the
same schema.

App: `POST /upload` of an N-row CSV sent with plain `curl -F` (so curl's `Expect:
100-continue` is part of the figure, as users meet it), timed by curl from connect to the last
byte of the 202; the sandbox sender is throttled to 1 segment/s so the figure is ingest's own.
SQLite: the sqlite3 CLI on a copy of an empty database the app migrated (the same tables,
indexes and CHECKs), WAL and synchronous=NORMAL as the app runs it, `.import` into a staging
table, then one `INSERT ... SELECT` that builds the same message rows (the body from the
template, a 64-bit hash and dedupe key, encoding, segments, status). Each side's median of
`--runs` fresh databases; rows/s and the ratio app/sqlite (the target is 0.9 or more).

In the same run, with the same binary, the median wall time of `render all` of the example spec
(`--render-runs` runs, target under 10 ms), so the two figures the quick start promises come
from one machine state. Usage:

    scripts/bench/ingest-vs-sqlite.py [--binary .build/release/emmyops] [--rows 100000] [--runs 3] [--render-runs 15]
"""
import argparse, json, os, random, shutil, statistics, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ingest import serve  # noqa: E402  (the same server start as the other ingest bench)
from render_median import render_times  # noqa: E402

def write_csv(path, n):
    rng = random.Random(1)
    numbers = rng.sample(range(10_000_000, 99_999_999), n)
    with open(path, "w") as f:
        f.write("phone,name,company\n")
        for i, num in enumerate(numbers):
            f.write(f"+2547{num:08d},Name{i},Co{i % 97}\n")

def stop(proc):
    proc.terminate()
    proc.wait(timeout=30)

def app_run(binary, csv, n, tmp):
    data = tempfile.mkdtemp(dir=tmp)
    proc, port = serve(binary, data, 1)
    try:
        out = subprocess.run(["curl", "-sS", "-o", os.path.join(data, "answer.json"), "-w", "%{time_total} %{http_code}",
                              "-F", f"csvFile=@{csv}", "-F", "message=Hello {name} of {company}", f"http://127.0.0.1:{port}/upload"],
                             capture_output=True, text=True, check=True).stdout.split()
        with open(os.path.join(data, "answer.json")) as f:
            answer = json.load(f)
        if out[1] != "202" or answer.get("accepted") != n:
            raise SystemExit(f"upload answered {out[1]}: {str(answer)[:300]}")
        return float(out[0])
    finally:
        stop(proc)
        shutil.rmtree(data, ignore_errors=True)

def empty_database(binary, tmp):
    """An empty database with every migration the app runs, to copy for each SQLite run."""
    data = tempfile.mkdtemp(dir=tmp)
    proc, _ = serve(binary, data, 1)
    stop(proc)
    subprocess.run(["sqlite3", os.path.join(data, "emmy.sqlite"), "PRAGMA wal_checkpoint(TRUNCATE);"], check=True, capture_output=True)
    return os.path.join(data, "emmy.sqlite")

SQL = """
PRAGMA journal_mode=WAL;
PRAGMA synchronous=NORMAL;
CREATE TEMP TABLE staging(phone TEXT, name TEXT, company TEXT);
.import --csv --skip 1 {csv} staging
BEGIN;
INSERT INTO batch (id, created_at, source, template, client, accepted, complete)
  VALUES ('bench', unixepoch(), 'csv', 'Hello {{name}} of {{company}}', '127.0.0.1', (SELECT count(*) FROM staging), 1);
INSERT INTO message (batch_id, row, phone, body, body_hash, dedupe_key, encoding, segments, status, created_at, updated_at)
  SELECT 'bench', rowid + 1, phone, 'Hello ' || name || ' of ' || company, random(), random(), 'GSM-7', 1, 'queued', unixepoch(), unixepoch()
  FROM staging;
COMMIT;
"""

def sqlite_run(template, csv, n, tmp):
    data = tempfile.mkdtemp(dir=tmp)
    db = os.path.join(data, "emmy.sqlite")
    shutil.copy(template, db)
    try:
        start = time.perf_counter()
        subprocess.run(["sqlite3", "-bail", db], input=SQL.format(csv=csv), text=True, check=True, capture_output=True)
        seconds = time.perf_counter() - start
        count = subprocess.run(["sqlite3", db, "SELECT count(*) FROM message"], capture_output=True, text=True, check=True).stdout.strip()
        if int(count) != n:
            raise SystemExit(f"sqlite3 stored {count} of {n} rows")
        return seconds
    finally:
        shutil.rmtree(data, ignore_errors=True)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=".build/release/emmyops")
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--render-runs", type=int, default=15)
    ap.add_argument("--spec", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples", "emmy.yaml"))
    args = ap.parse_args()
    binary = os.path.abspath(args.binary)
    tmp = tempfile.mkdtemp()
    load_before = os.getloadavg()[0]
    try:
        csv = os.path.join(tmp, "contacts.csv")
        write_csv(csv, args.rows)
        template = empty_database(binary, tmp)
        app, lite = [], []
        for _ in range(args.runs):  # alternating, so a burst of load hits both sides alike
            app.append(app_run(binary, csv, args.rows, tmp))
            lite.append(sqlite_run(template, csv, args.rows, tmp))
        render = render_times(binary, os.path.normpath(args.spec), args.render_runs)
        app_rate, lite_rate = args.rows / statistics.median(app), args.rows / statistics.median(lite)
        print(f"{'path':<34}{'rows':>9}{'median s':>10}{'rows/s':>10}")
        print(f"{'EmmyApp /upload (curl -F)':<34}{args.rows:>9}{statistics.median(app):>10.3f}{app_rate:>10.0f}")
        print(f"{'sqlite3 .import + INSERT SELECT':<34}{args.rows:>9}{statistics.median(lite):>10.3f}{lite_rate:>10.0f}")
        print(f"ratio app/sqlite: {app_rate / lite_rate:.2f}x (target >= 0.90x)")
        print(f"render all, median of {args.render_runs}: {statistics.median(render):.1f} ms "
              f"(min {min(render):.1f}, max {max(render):.1f}; target < 10 ms)")
        print(f"{os.cpu_count()} cores, 1-min load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

if __name__ == "__main__":
    main()
