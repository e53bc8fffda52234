import EmmyOpsKit
import Foundation

/// The external programs the closed-loop test drives, found on PATH once.
enum LoopTools {
    static let prometheus = ProcessRunner.which("prometheus")
    /// Debian names the binary `prometheus-alertmanager`; upstream calls it `alertmanager`.
    static let alertmanager = ProcessRunner.which("prometheus-alertmanager") ?? ProcessRunner.which("alertmanager")
    static let python = ProcessRunner.which("python3")

    static var missing: [String] {
        [("prometheus", prometheus), ("alertmanager", alertmanager), ("python3", python)].filter { $0.1 == nil }.map(\.0)
    }

    /// CI sets EMMY_REQUIRE_TOOLS=1 so a missing tool fails the test instead of skipping it.
    static var required: Bool { ProcessInfo.processInfo.environment["EMMY_REQUIRE_TOOLS"] == "1" }
}

/// Tiny Python HTTP servers on 127.0.0.1, written to a directory and run with python3.
enum FixtureServers {
    /// Serves a file at /metrics with the text exposition content type; any other path is 404.
    static let scrapeTarget = """
    import sys
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    port, path = int(sys.argv[1]), sys.argv[2]
    body = open(path, "rb").read()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path != "/metrics":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
    """

    /// Appends every POST body as one line to a file and answers 200; GET answers 200 (readiness).
    static let webhookRecorder = """
    import sys, threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    port, out = int(sys.argv[1]), sys.argv[2]
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            # JSON allows newlines only as whitespace, so flattening keeps one payload per line.
            line = body.decode("utf-8", "replace").replace("\\n", " ") + "\\n"
            with lock, open(out, "a") as f:
                f.write(line)
            self.reply()

        def do_GET(self):
            self.reply()

        def reply(self):
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
    """

    /// Forwards every TCP connection on 127.0.0.1:PORT to 127.0.0.1:TARGET: a stand-in for a
    /// host's nginx metrics listener in front of an app that is not deployed behind nginx.
    /// While the app is down, connections to it fail and so do scrapes, as through nginx.
    static let tcpForwarder = """
    import socket, sys, threading

    port, target = int(sys.argv[1]), int(sys.argv[2])

    def pipe(source, sink):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def serve(client):
        try:
            upstream = socket.create_connection(("127.0.0.1", target), timeout=2)
            upstream.settimeout(None)
        except OSError:
            client.close()
            return
        threading.Thread(target=pipe, args=(client, upstream), daemon=True).start()
        pipe(upstream, client)

    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(64)
    while True:
        client, _ = listener.accept()
        threading.Thread(target=serve, args=(client,), daemon=True).start()
    """

    /// Writes `script` into `directory` and starts it with python3 (inside `namespace`, a
    /// network namespace, when given).
    static func start(_ name: String, script: String, arguments: [String], in directory: URL, namespace: String? = nil) throws -> ProcessHarness {
        let url = directory.appendingPathComponent("\(name).py")
        try script.write(to: url, atomically: true, encoding: .utf8)
        let command = [LoopTools.python!, "-u", url.path] + arguments
        let argv = namespace.map { ["/usr/sbin/ip", "netns", "exec", $0] + command } ?? command
        return try ProcessHarness(name: name, executable: argv[0], arguments: Array(argv.dropFirst()), logDirectory: directory)
    }
}
