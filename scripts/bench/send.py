#!/usr/bin/env python3
"""Sending throughput of EmmyApp: messages/s from accepted batch to every message final.

Starts the release `emmyops serve` on loopback with a fresh data directory per run, posts one
batch, and times from the 202 until /health counts every message `delivered` (log provider) or
`sent` (twilio provider, pointed at a Twilio-compatible stand-in served by this script on
loopback: Basic auth checked, 201 with an SM sid). With --throttle N it also checks that the
per-sender throttle holds N segments/s, measured by the stand-in over --throttle-seconds.

    scripts/bench/send.py [--binary .build/release/emmyops] [--count 20000] [--runs 3] [--workers 16]
                          [--providers log,twilio] [--throttle 50 --throttle-seconds 60]
"""
import argparse, asyncio, base64, json, os, secrets, shutil, socket, statistics, subprocess, tempfile, threading, time, urllib.request

SID, TOKEN = "AC" + "0" * 32, "bench-token"


class StandIn:
    """A minimal Twilio Messages API on 127.0.0.1 (asyncio, HTTP/1.1 keep-alive), counting accepts."""

    def __init__(self):
        self.accepted = []  # monotonic times
        self.loop = asyncio.new_event_loop()
        self.port = None
        ready = threading.Event()
        threading.Thread(target=self._run, args=(ready,), daemon=True).start()
        ready.wait()

    def _run(self, ready):
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(asyncio.start_server(self._client, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        ready.set()
        self.loop.run_forever()

    async def _client(self, reader, writer):
        auth = "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                headers = {k.strip().lower(): v.strip() for k, _, v in (l.partition(":") for l in lines[1:] if l)}
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                if headers.get("authorization") != auth:
                    status, payload = "401 Unauthorized", {"code": 20003, "message": "Authenticate", "status": 401}
                elif b"To=" not in body or b"Body=" not in body:
                    status, payload = "400 Bad Request", {"code": 21604, "message": "A 'To' phone number is required.", "status": 400}
                else:
                    self.accepted.append(time.monotonic())
                    status, payload = "201 Created", {"sid": "SM" + secrets.token_hex(16), "status": "queued"}
                data = json.dumps(payload).encode()
                writer.write(f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n".encode() + data)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def batch(n):
    contacts = [{"phone": f"+254710{i:06d}", "name": f"c{i}"} for i in range(n)]
    return json.dumps({"message": "Hello {name}, your order is ready.", "contacts": contacts}).encode()


def get_json(url):
    with urllib.request.urlopen(url, timeout=10) as resp:
        return json.loads(resp.read())


def run(binary, provider, n, workers, throttle, stand_in):
    data = tempfile.mkdtemp(prefix="emmy-send-bench-")
    port = free_port()
    spec = f"version: 1\napp:\n  port: {port}\n  rate_limits: {{messages: 100/second}}\n  provider:\n"
    if provider == "log":
        spec += "    kind: log\n"
    else:
        spec += (f"    kind: twilio\n    twilio: {{from: \"+15005550006\", base_url: \"http://127.0.0.1:{stand_in.port}\","
                 f" account_sid: \"${{TWILIO_ACCOUNT_SID}}\", auth_token: \"${{TWILIO_AUTH_TOKEN}}\"}}\n")
    spec += f"  sending: {{workers: {workers}, segments_per_second: {throttle}}}\n"
    with open(os.path.join(data, "emmy.yaml"), "w") as f:
        f.write(spec)
    env = dict(os.environ, TWILIO_ACCOUNT_SID=SID, TWILIO_AUTH_TOKEN=TOKEN)
    proc = subprocess.Popen([binary, "serve", "--spec", os.path.join(data, "emmy.yaml"), "--data-dir", os.path.join(data, "db")],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 30
        while True:
            try:
                urllib.request.urlopen(base + "/ready", timeout=1).read()
                break
            except Exception:
                if time.time() > deadline:
                    raise SystemExit("server did not become ready")
                time.sleep(0.05)
        final = "delivered" if provider == "log" else "sent"
        req = urllib.request.Request(base + "/messages", data=batch(n), headers={"Content-Type": "application/json"}, method="POST")
        posted = time.monotonic()
        with urllib.request.urlopen(req, timeout=600) as resp:
            assert json.loads(resp.read())["accepted"] == n
        accepted = time.monotonic()
        if throttle:
            return throttle_window(base, stand_in, throttle)
        while get_json(base + "/health")["messages"].get(final, 0) < n:
            time.sleep(0.02)
        done = time.monotonic()
        return n / (done - accepted), n / (done - posted)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        shutil.rmtree(data, ignore_errors=True)


def throttle_window(base, stand_in, rate, warmup=5):
    start = len(stand_in.accepted)
    time.sleep(warmup + args.throttle_seconds + 1)
    t0 = stand_in.accepted[start] + warmup
    inside = [t for t in stand_in.accepted[start:] if t0 <= t < t0 + args.throttle_seconds]
    measured = len(inside) / args.throttle_seconds
    return measured, (measured - rate) / rate * 100


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=".build/release/emmyops")
    parser.add_argument("--count", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--providers", default="log,twilio")
    parser.add_argument("--throttle", type=int, default=0, help="also measure a throttled twilio run at this many segments/s")
    parser.add_argument("--throttle-seconds", type=int, default=60)
    args = parser.parse_args()
    stand_in = StandIn()
    for provider in args.providers.split(","):
        results = [run(args.binary, provider, args.count, args.workers, 0, stand_in) for _ in range(args.runs)]
        sending = statistics.median(r[0] for r in results)
        overall = statistics.median(r[1] for r in results)
        print(f"{provider:7} {args.count} messages, {args.workers} workers, throttle off: "
              f"median {sending:,.0f} msg/s from accepted to final ({overall:,.0f} msg/s including ingest); "
              f"runs: {', '.join(f'{r[0]:,.0f}' for r in results)}")
    if args.throttle:
        measured, error = run(args.binary, "twilio", max(args.count, args.throttle * (args.throttle_seconds + 10)), args.workers,
                              args.throttle, stand_in)
        print(f"twilio throttled at {args.throttle} segments/s: measured {measured:.2f}/s over {args.throttle_seconds} s "
              f"({error:+.2f}%)")
