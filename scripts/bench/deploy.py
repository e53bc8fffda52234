#!/usr/bin/env python3
"""Seconds for `emmyops deploy --all` to 5 loopback hosts (medians of 3): a new release (the
artifact uploaded to every host), then a config-only change (same artifact, new spec: the hosts
reuse the binary they hold and only the spec travels).

Each run starts 5 fresh sshd processes on 127.0.0.1 (one per simulated host, each with its own
root, nginx port and slot ports, a throw-away host key and client key), deploys to all of them
in one batch, and times the command. Needs openssh-server and nginx (scripts/install-deps.sh)
and root (sshd needs /run/sshd).

The hosts are logged into as a deploy user with Debian's stock shell profile (`emmybench`,
created with /etc/skel on the first run; `--user` names another), as on a real host. This
machine's root runs pyenv from its ~/.bashrc, and bash sources ~/.bashrc for every command sshd
starts: 0.15 s of CPU per SSH command, three per host, which is this sandbox's cost and not
emmyops' (with `--user root` here: 3.73 s / 2.21 s instead of 1.93 s / 1.03 s, quiet machine).
Usage:

    scripts/bench/deploy.py [--binary .build/release/emmyops] [--artifact dist/emmyops-linux-x86_64]
                            [--hosts 5] [--runs 3] [--trace] [--user emmybench]
"""
import argparse, json, os, pwd, shutil, signal, socket, statistics, subprocess, sys, tempfile, time

def free_ports(n):
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports

def wait_port(port, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.02)
    sys.exit(f"sshd on {port} did not start")

def keygen(path):
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", path], check=True)

def deploy_user(name):
    """The login user of the simulated hosts: created with Debian's skeleton files when missing."""
    try:
        return pwd.getpwnam(name)
    except KeyError:
        # Password "*": no password login, but not locked ("!"), which sshd refuses even for keys.
        subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", "--password", "*", name], check=True)
        return pwd.getpwnam(name)

def one_run(binary, artifact, count, parallel, user, trace=False):
    d = tempfile.mkdtemp(prefix="emmyops-bench-deploy-")
    os.chmod(d, 0o711)  # the deploy user reaches its authorized_keys and host roots, lists nothing
    sshds, roots = [], []
    try:
        keygen(f"{d}/client"); keygen(f"{d}/hostkey")
        shutil.copy(f"{d}/client.pub", f"{d}/authorized_keys")
        os.chmod(f"{d}/authorized_keys", 0o644)
        host_pub = " ".join(open(f"{d}/hostkey.pub").read().split()[:2])
        open(f"{d}/ssh_config", "w").write("Host *\n  IdentitiesOnly yes\n")
        os.makedirs("/run/sshd", exist_ok=True)
        hosts, known = [], []
        for i in range(count):
            ssh_port, http_port, a, b = free_ports(4)
            conf = f"{d}/sshd{i}.conf"
            open(conf, "w").write(f"""Port {ssh_port}
ListenAddress 127.0.0.1
HostKey {d}/hostkey
PidFile none
UsePAM no
StrictModes no
PasswordAuthentication no
AuthorizedKeysFile {d}/authorized_keys
MaxSessions 64
LogLevel ERROR
""")
            sshds.append(subprocess.Popen(["/usr/sbin/sshd", "-D", "-e", "-f", conf], stderr=subprocess.DEVNULL))
            root = f"{d}/host{i}"
            roots.append(root)
            os.mkdir(root)
            os.chown(root, user.pw_uid, user.pw_gid)
            hosts.append(f"  - {{ name: h{i}, address: 127.0.0.1, user: {user.pw_name}, port: {ssh_port}, "
                         f"root: {root}, http_port: {http_port}, slot_ports: [{a}, {b}], roles: [app] }}")
            known.append(f"[127.0.0.1]:{ssh_port} {host_pub}")
            wait_port(ssh_port)
        open(f"{d}/known_hosts", "w").write("\n".join(known) + "\n")
        spec = f"{d}/emmy.yaml"
        def write_spec(region):
            open(spec, "w").write("version: 1\napp: { name: bench, default_region: " + region + " }\nhosts:\n" + "\n".join(hosts) + f"""
ssh: {{ known_hosts: {d}/known_hosts, identity: {d}/client }}
deploy: {{ health_timeout: 30s, drain_timeout: 2s, parallel: {parallel}, batch_size: {count}, proxy: {{ listen_address: 127.0.0.1 }} }}
monitoring: {{ node_exporter: {{ enabled: false }} }}
""")
        def deploy(version):
            start = time.monotonic()
            proc = subprocess.Popen([binary, "deploy", "--all", "--version", version, "--artifact", artifact, "--spec", spec,
                                     "--ssh-config", f"{d}/ssh_config", "--format", "json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            started, spans = {}, {}
            for line in proc.stdout:
                now = time.monotonic() - start
                if trace:
                    print(f"{now:6.2f}s {line.rstrip()}")
                    event = json.loads(line)
                    key = (event.get("host"), event["step"])
                    if event["status"] == "start":
                        started[key] = now
                    elif key in started:
                        spans.setdefault(event["step"], []).append((started.pop(key), now))
            stderr = proc.stderr.read()
            proc.wait()
            seconds = time.monotonic() - start
            if proc.returncode != 0:
                sys.exit(f"deploy {version} failed ({proc.returncode}):\n{stderr}")
            if trace:
                # Where the seconds went: each step's span over the hosts (first start to last end).
                print(f"{version}: {seconds:.2f}s in all; " + "; ".join(
                    f"{step} {min(a for a, _ in s):.2f}-{max(b for _, b in s):.2f}s (each {statistics.median(b - a for a, b in s):.2f}s)"
                    for step, s in sorted(spans.items(), key=lambda item: min(a for a, _ in item[1]))))
            return seconds
        write_spec("KE")
        release = deploy("bench1")
        write_spec("NG")
        config_only = deploy("bench2")
        return release, config_only
    finally:
        for root in roots:
            run = f"{root}/shared/run"
            for name in os.listdir(run) if os.path.isdir(run) else []:
                if name.endswith(".json") and name != "active.json":
                    try: os.kill(json.load(open(f"{run}/{name}"))["pid"], signal.SIGTERM)
                    except (OSError, KeyError, ValueError): pass
            pid = f"{root}/shared/nginx/logs/nginx.pid"
            if os.path.exists(pid):
                try: os.kill(int(open(pid).read()), signal.SIGTERM)
                except (OSError, ValueError): pass
        for p in sshds:
            p.terminate(); p.wait()
        shutil.rmtree(d, ignore_errors=True)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=".build/release/emmyops", help="the emmyops that deploys")
    ap.add_argument("--artifact", help="the binary deployed (default: --binary)")
    ap.add_argument("--hosts", type=int, default=5)
    ap.add_argument("--parallel", type=int, default=5)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--trace", action="store_true", help="print each progress event with its time")
    ap.add_argument("--user", default="emmybench", help="the hosts' login user (created when missing)")
    args = ap.parse_args()
    user = deploy_user(args.user)
    binary = os.path.abspath(args.binary)
    artifact = os.path.abspath(args.artifact or args.binary)
    size = os.path.getsize(artifact) / 2**20
    runs = [one_run(binary, artifact, args.hosts, args.parallel, user, args.trace) for _ in range(args.runs)]
    for label, times, target in (("new release", [r[0] for r in runs], 5), ("config-only", [r[1] for r in runs], 2)):
        print(f"deploy ({label}) of a {size:.0f} MiB artifact to {args.hosts} loopback hosts (parallel {args.parallel}): "
              f"runs {', '.join(f'{t:.2f}s' for t in times)}; median {statistics.median(times):.2f}s (target < {target} s)")

if __name__ == "__main__":
    main()
