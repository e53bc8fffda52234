#!/usr/bin/env python3
"""Page weight of EmmyApp's web UI: bytes of each page's HTML plus the CSS and JS it loads.

Starts `emmyops serve` on a free loopback port with a fresh data directory, queues one batch of
100 contacts (3 bad) through /upload so the batch and results pages have content, then fetches
every page. Budget: under 100 KB per page (WebTests checks it). Usage:

    scripts/bench/page-weight.py [--binary .build/debug/emmyops]
"""
import argparse, json, re, shutil, socket, subprocess, tempfile, time, urllib.request, uuid

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

def fetch(url, data=None, headers=None):
    with urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers or {})) as response:
        return response.read()

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=".build/debug/emmyops")
    args = parser.parse_args()
    data, port = tempfile.mkdtemp(), free_port()
    server = subprocess.Popen([args.binary, "serve", "--port", str(port), "--data-dir", data],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 20
        while True:
            try:
                fetch(base + "/ready"); break
            except OSError:
                if time.time() > deadline: raise
                time.sleep(0.05)
        rows = ["phone,name"] + [f"+2547123{i:05d},Name{i}" for i in range(1, 98)] + ["12345,Bad", "+254712300001,Dup", "+254712300099,"]
        boundary = uuid.uuid4().hex
        body = (f'--{boundary}\r\nContent-Disposition: form-data; name="csvFile"; filename="c.csv"\r\n\r\n' + "\n".join(rows) + "\n\r\n"
                f'--{boundary}\r\nContent-Disposition: form-data; name="message"\r\n\r\nHello {{name}}, your order is ready.\r\n--{boundary}--\r\n')
        batch = json.loads(fetch(base + "/upload", body.encode(), {"Content-Type": f"multipart/form-data; boundary={boundary}", "Authorization": "Bearer bench"}))["batch_id"]
        assets = sum(len(fetch(base + path)) for path in ("/static/app.css", "/static/app.js"))
        print(f"{'page':<24}{'html':>8}{'+css+js':>10}")
        for path in ("/", "/results", f"/batches/{batch}", "/monitoring", "/login"):
            html = len(fetch(base + path))
            print(f"{path[:22] + ('…' if len(path) > 22 else ''):<24}{html:>8}{html + assets:>10}")
        print(f"(css + js: {assets} bytes; the batch page lists 50 messages per page)")
    finally:
        server.terminate(); server.wait(10)
        shutil.rmtree(data, ignore_errors=True)

if __name__ == "__main__":
    main()
