#!/usr/bin/env python3
"""Ingest throughput of EmmyApp: contacts/s and peak RSS for JSON and CSV batches.

Starts the release `emmyops serve` on a free loopback port with a fresh data directory per
case (so dedupe against earlier batches does not skew the numbers), posts one batch, and
reads the server's peak RSS (VmHWM) from /proc. The sandbox sender starts on the batch as soon
as it is stored; `--send-rate` sets its per-sender throttle in segments/s (default 1, what a
Twilio long code allows, so the figures are ingest's own; 0 = unthrottled, ingest and sending
share the two cores). Usage:

    scripts/bench/ingest.py [--binary .build/release/emmyops] [--sizes 10000,100000] [--csv-rows 1000000] [--runs 3] [--send-rate 1]
"""
import argparse, json, os, random, shutil, socket, statistics, subprocess, sys, tempfile, time, urllib.request

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

def contacts(n, seed=1):
    rng = random.Random(seed)
    # Distinct valid Kenyan mobiles (+2547XXXXXXXX), a few names and companies.
    numbers = rng.sample(range(10_000_000, 99_999_999), n)
    return [{"phone": f"+2547{num:08d}"[:13], "name": f"Name{i}", "company": f"Co{i % 97}"} for i, num in enumerate(numbers)]

def peak_rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")

def serve(binary, data, send_rate):
    port = free_port()
    env = dict(os.environ, EMMY_DATA_DIR=data)
    spec = os.path.join(data, "emmy.yaml")
    with open(spec, "w") as f:
        f.write(f"version: 1\nproject: bench\napp:\n  sending: {{ segments_per_second: {send_rate} }}\n")
    proc = subprocess.Popen([binary, "serve", "--spec", spec, "--port", str(port), "--data-dir", data], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=data)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=1).read()
            return proc, port
        except Exception:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("server did not become ready")

def post(url, body, headers):
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    start = time.perf_counter()
    with urllib.request.urlopen(req, timeout=600) as resp:
        answer = json.loads(resp.read())
    return time.perf_counter() - start, answer

def multipart(csv_path, message):
    boundary = "emmybench"
    with open(csv_path, "rb") as f:
        data = f.read()
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csvFile\"; filename=\"c.csv\"\r\nContent-Type: text/csv\r\n\r\n").encode() + data
    body += f"\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"message\"\r\n\r\n{message}\r\n--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}

def run_case(binary, kind, n, tmp, send_rate):
    data = tempfile.mkdtemp(dir=tmp)
    proc, port = serve(binary, data, send_rate)
    try:
        if kind == "json":
            body = json.dumps({"contacts": contacts(n), "message": "Hello {name} of {company}"}).encode()
            seconds, answer = post(f"http://127.0.0.1:{port}/messages", body, {"Content-Type": "application/json"})
        else:
            path = os.path.join(tmp, f"contacts-{n}.csv")
            if not os.path.exists(path):
                with open(path, "w") as f:
                    f.write("phone,name,company\n")
                    for c in contacts(n):
                        f.write(f"{c['phone']},{c['name']},{c['company']}\n")
            body, headers = multipart(path, "Hello {name} of {company}")
            seconds, answer = post(f"http://127.0.0.1:{port}/upload", body, {**headers, "Authorization": "Bearer bench"})
        if answer["accepted"] != n:
            raise SystemExit(f"{kind} {n}: accepted {answer['accepted']} of {n}: {answer.get('errors', [])[:3]}")
        return seconds, peak_rss_mb(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        shutil.rmtree(data, ignore_errors=True)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=".build/release/emmyops")
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--csv-rows", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--send-rate", type=int, default=1)
    args = ap.parse_args()
    args.binary = os.path.abspath(args.binary)
    tmp = tempfile.mkdtemp()
    try:
        cases = [(k, int(n)) for n in args.sizes.split(",") for k in ("json", "csv")]
        if args.csv_rows:
            cases.append(("csv", args.csv_rows))
        print(f"{'case':<14}{'contacts':>10}{'median s':>10}{'contacts/s':>12}{'peak RSS MB':>13}")
        for kind, n in cases:
            runs = [run_case(args.binary, kind, n, tmp, args.send_rate) for _ in range(args.runs if n <= 100_000 else 1)]
            seconds = statistics.median(r[0] for r in runs)
            rss = max(r[1] for r in runs)
            print(f"{'/messages' if kind == 'json' else '/upload':<14}{n:>10}{seconds:>10.2f}{n / seconds:>12.0f}{rss:>13.1f}", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

if __name__ == "__main__":
    main()
