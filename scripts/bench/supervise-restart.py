#!/usr/bin/env python3
"""Recovery time of `emmyops supervise`: from `kill -9` of the child to a new child answering /ready.

Each run starts a fresh supervisor (default settings: 500ms first backoff) on a free loopback
port, waits for a healthy child, kills it with SIGKILL and times until a new child answers
/ready; prints the median and the worst. Usage:

    scripts/bench/supervise-restart.py [--binary .build/release/emmyops] [--runs 5]
"""
import argparse, json, os, shutil, signal, socket, statistics, subprocess, tempfile, time, urllib.request

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

def ready(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=1) as r:
            return r.status == 200
    except Exception:
        return False

def wait_for(what, condition, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.005)
    raise SystemExit(f"timed out waiting for {what}")

def state(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None

def one_run(binary):
    work = tempfile.mkdtemp(prefix="emmy-bench-supervise-")
    port, data = free_port(), os.path.join(work, "shared")
    supervisor = subprocess.Popen([binary, "supervise", "--data-dir", data, "--port", str(port)], cwd=work,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        path = os.path.join(data, "supervise.json")
        first = wait_for("a healthy child", lambda: (s := state(path)) and s["state"] == "running" and s["child_pid"])
        wait_for("/ready", lambda: ready(port))
        started = time.monotonic()
        os.kill(first, signal.SIGKILL)
        wait_for("a new child", lambda: (s := state(path)) and s["child_pid"] not in (None, first))
        wait_for("/ready from the new child", lambda: ready(port))
        return time.monotonic() - started
    finally:
        supervisor.send_signal(signal.SIGTERM)
        supervisor.wait(timeout=60)
        shutil.rmtree(work, ignore_errors=True)

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=".build/release/emmyops")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    times = [one_run(os.path.abspath(args.binary)) for _ in range(args.runs)]
    print(f"kill -9 to /ready again: median {statistics.median(times):.3f} s, worst {max(times):.3f} s "
          f"over {args.runs} runs (first backoff 500ms)")

if __name__ == "__main__":
    main()
