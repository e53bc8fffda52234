#!/usr/bin/env python3
"""EmmyApp on one SQLite node against PostgreSQL with 1, 2 and 3 replicas, side by side in one run.

Each configuration runs the release `emmyops serve` replicas on loopback behind a real nginx
(round robin), with fresh data: a new SQLite data directory, or a new database in one
throw-away PostgreSQL 15 cluster (initdb + pg_ctl here, `synchronous_commit = off`, which is
as durable as SQLite's WAL with `synchronous = NORMAL`: a crash of the app loses nothing, a
power cut the last commits). Two figures per configuration, medians of --runs:

- ingest: --contacts contacts in --batches JSON batches posted at the same time through nginx,
  contacts/s from the first post to the last 202 (sending is paused meanwhile, through the
  incident switch, so ingest has the machine to itself);
- send: sending resumed on every replica, msg/s until the Twilio-compatible stand-in (send.py's)
  has accepted every message.

    scripts/bench/replicas.py [--binary .build/release/emmyops] [--contacts 100000] [--batches 4]
                              [--runs 3] [--workers 16] [--configs sqlite:1,postgres:1,postgres:2,postgres:3]
"""
import argparse, json, os, pwd, shutil, statistics, subprocess, sys, tempfile, threading, time, urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from send import SID, TOKEN, StandIn, free_port, get_json  # noqa: E402

PG_BIN = "/usr/lib/postgresql/15/bin"
PAUSE = "sending-paused.json"


def as_postgres(argv):
    """PostgreSQL refuses to run as root: its programs run as the Debian package's user."""
    return ["/usr/sbin/runuser", "-u", "postgres", "--"] + argv if os.geteuid() == 0 else argv


class Cluster:
    def __init__(self, root):
        self.dir = os.path.join(root, "pg")
        os.chmod(root, 0o755)  # mkdtemp's 0700 would keep the postgres user out
        os.makedirs(self.dir)
        self.password = "bench-" + os.urandom(6).hex()
        pwfile = os.path.join(self.dir, "pw")
        with open(pwfile, "w") as f:
            f.write(self.password + "\n")
        if os.geteuid() == 0:
            account = pwd.getpwnam("postgres")
            for path in (self.dir, pwfile):
                os.chown(path, account.pw_uid, account.pw_gid)
        self.data = os.path.join(self.dir, "data")
        subprocess.run(as_postgres([f"{PG_BIN}/initdb", "-D", self.data, "-U", "emmy", f"--pwfile={pwfile}", "--auth-local=trust",
                                    "--auth-host=scram-sha-256", "--encoding=UTF8", "--no-locale"]), check=True, stdout=subprocess.DEVNULL)
        self.port = free_port()
        with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
            f.write(f"\nlisten_addresses = '127.0.0.1'\nport = {self.port}\nunix_socket_directories = '{self.dir}'\n"
                    "max_connections = 300\nsynchronous_commit = off\nshared_buffers = 256MB\n")
        subprocess.run(as_postgres([f"{PG_BIN}/pg_ctl", "-D", self.data, "-l", os.path.join(self.dir, "server.log"), "-w", "start"]),
                       check=True, stdout=subprocess.DEVNULL)
        self.count = 0

    def database(self):
        self.count += 1
        name = f"bench{self.count}"
        subprocess.run(as_postgres(["/usr/bin/psql", "-h", self.dir, "-p", str(self.port), "-U", "emmy", "-d", "postgres", "-q",
                                    "-c", f"CREATE DATABASE {name}"]), check=True)
        return f"postgres://emmy@127.0.0.1:{self.port}/{name}"

    def stop(self):
        subprocess.run(as_postgres([f"{PG_BIN}/pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop"]),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def nginx(root, ports):
    prefix = os.path.join(root, "nginx")
    os.makedirs(prefix + "/logs", exist_ok=True)
    port = free_port()
    upstreams = "\n".join(f"    server 127.0.0.1:{p};" for p in ports)
    with open(prefix + "/nginx.conf", "w") as f:
        f.write(f"""daemon off; master_process off; worker_processes 1; pid logs/nginx.pid; error_log logs/error.log warn;
events {{ worker_connections 2048; }}
http {{
  access_log off; client_max_body_size 0; client_body_temp_path logs; proxy_temp_path logs;
  upstream replicas {{
{upstreams}
    keepalive 32;
  }}
  server {{
    listen 127.0.0.1:{port};
    location / {{ proxy_pass http://replicas; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_request_buffering off; proxy_read_timeout 600s; }}
  }}
}}
""")
    proc = subprocess.Popen(["/usr/sbin/nginx", "-p", prefix, "-c", prefix + "/nginx.conf", "-e", prefix + "/logs/error.log"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return proc, f"http://127.0.0.1:{port}"


def wait_ready(url, proc, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{url}: exited with {proc.returncode}")
        try:
            urllib.request.urlopen(url + "/ready", timeout=1).read()
            return
        except Exception:
            time.sleep(0.05)
    raise SystemExit(f"{url} did not become ready")


def batch(start, n):
    contacts = [{"phone": f"+25471{i:07d}", "name": f"c{i}"} for i in range(start, start + n)]
    return json.dumps({"message": "Hello {name}, your order is ready.", "contacts": contacts}).encode()


def run(binary, engine, replicas, cluster, stand_in, args):
    root = tempfile.mkdtemp(prefix="emmy-replicas-bench-")
    procs = []
    try:
        database = cluster.database() if engine == "postgres" else "sqlite"
        pwfile = os.path.join(root, "pg-password")
        with open(pwfile, "w") as f:
            f.write(cluster.password + "\n")
        spec = os.path.join(root, "emmy.yaml")
        with open(spec, "w") as f:
            f.write(f"""version: 1
app:
  database: "{database}"
  database_password_file: {pwfile}
  database_tls: disable
  rate_limits: {{ messages: 1000/second }}
  provider:
    kind: twilio
    twilio: {{ from: "+15005550006", base_url: "http://127.0.0.1:{stand_in.port}", account_sid: "${{TWILIO_ACCOUNT_SID}}", auth_token: "${{TWILIO_AUTH_TOKEN}}" }}
  sending: {{ workers: {args.workers} }}
""")
        env = dict(os.environ, TWILIO_ACCOUNT_SID=SID, TWILIO_AUTH_TOKEN=TOKEN)
        ports, dirs = [free_port() for _ in range(replicas)], []
        for i, port in enumerate(ports):
            data = os.path.join(root, f"data-{i}")
            os.makedirs(data)
            with open(os.path.join(data, PAUSE), "w") as f:
                json.dump({"reason": "bench: ingest first", "who": "bench", "since": "now"}, f)
            dirs.append(data)
            procs.append(subprocess.Popen([binary, "serve", "--spec", spec, "--port", str(port), "--data-dir", data], env=env,
                                          stdout=subprocess.DEVNULL, stderr=open(os.path.join(root, f"replica-{i}.log"), "w")))
        for port, proc in zip(ports, procs):
            wait_ready(f"http://127.0.0.1:{port}", proc)
        balancer, base = nginx(root, ports)
        procs.append(balancer)
        wait_ready(base, balancer, 20)

        size = args.contacts // args.batches
        bodies = [batch(i * size, size) for i in range(args.batches)]
        answers = []

        def post(body):
            req = urllib.request.Request(base + "/messages", data=body, headers={"Content-Type": "application/json"}, method="POST")
            with urllib.request.urlopen(req, timeout=600) as resp:
                answers.append(json.loads(resp.read())["accepted"])

        threads = [threading.Thread(target=post, args=(b,)) for b in bodies]
        before = len(stand_in.accepted)
        start = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        ingest = time.monotonic() - start
        total = size * args.batches
        if sum(answers) != total:
            raise SystemExit(f"{engine}x{replicas}: accepted {sum(answers)} of {total}")

        start = time.monotonic()
        for data in dirs:
            os.remove(os.path.join(data, PAUSE))
        deadline = start + 900
        while len(stand_in.accepted) - before < total:
            if time.monotonic() > deadline:
                raise SystemExit(f"{engine}x{replicas}: only {len(stand_in.accepted) - before} of {total} sent in 900 s")
            time.sleep(0.02)
        send = time.monotonic() - start
        if len(stand_in.accepted) - before != total:
            raise SystemExit(f"{engine}x{replicas}: {len(stand_in.accepted) - before} accepts for {total} messages")
        return total / ingest, total / send
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(root, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=".build/release/emmyops")
    ap.add_argument("--contacts", type=int, default=100_000)
    ap.add_argument("--batches", type=int, default=4)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--workers", type=int, default=16)
    ap.add_argument("--configs", default="sqlite:1,postgres:1,postgres:2,postgres:3")
    args = ap.parse_args()
    binary = os.path.abspath(args.binary)
    stand_in = StandIn()
    root = tempfile.mkdtemp(prefix="emmy-replicas-pg-")
    cluster = Cluster(root)
    try:
        print(f"{args.contacts} contacts in {args.batches} concurrent batches through nginx; {args.workers} workers per replica; "
              f"medians of {args.runs}; {os.cpu_count()} cores")
        print(f"{'engine':<10}{'replicas':>9}{'ingest contacts/s':>19}{'send msg/s':>12}   runs (ingest / send)")
        for config in args.configs.split(","):
            engine, replicas = config.split(":")
            results = [run(binary, engine, int(replicas), cluster, stand_in, args) for _ in range(args.runs)]
            ingest = statistics.median(r[0] for r in results)
            send = statistics.median(r[1] for r in results)
            runs = ", ".join(f"{r[0]:,.0f}/{r[1]:,.0f}" for r in results)
            print(f"{engine:<10}{replicas:>9}{ingest:>19,.0f}{send:>12,.0f}   {runs}", flush=True)
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
