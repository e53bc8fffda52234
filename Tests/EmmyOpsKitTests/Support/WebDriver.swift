import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A small W3C WebDriver client for `chromedriver` on loopback, enough to click through pages
/// as a user does. chromedriver refuses HTTP/1.0 (HTTPProbe), so this speaks a minimal HTTP/1.1.
final class WebDriver {
    struct Failure: Error, CustomStringConvertible { var description: String }

    let port: Int
    let base: String
    private(set) var session = ""
    static let elementKey = "element-6066-11e4-a52e-4f735466cecf"

    init(port: Int) {
        self.port = port
        base = "http://127.0.0.1:\(port)"
    }

    /// One HTTP/1.1 exchange with `Connection: close`: (status, body).
    static func exchange(port: Int, method: String, path: String, body: Data?, timeout: Int = 60) throws -> (Int, Data) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket failed") }
        defer { close(fd) }
        var tv = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard connected else { throw Failure(description: "connect to 127.0.0.1:\(port): \(String(cString: strerror(errno)))") }
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\nContent-Length: \(body?.count ?? 0)\r\n"
        if body != nil { head += "Content-Type: application/json; charset=utf-8\r\n" }
        let message = Array(head.utf8) + Array("\r\n".utf8) + Array(body ?? Data())
        var sent = 0
        while sent < message.count {
            let n = message[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw Failure(description: "send failed") }
            sent += n
        }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        // chromedriver keeps the connection open despite `Connection: close`: read to Content-Length.
        func expectedLength() -> Int? {
            guard let split = received.firstRange(of: Array("\r\n\r\n".utf8)) else { return nil }
            for line in String(decoding: received[..<split.lowerBound], as: UTF8.self).split(separator: "\r\n") {
                let parts = line.split(separator: ":", maxSplits: 1)
                if parts.count == 2, parts[0].lowercased() == "content-length" {
                    return Int(parts[1].trimmingCharacters(in: .whitespaces)).map { split.upperBound + $0 }
                }
            }
            return nil
        }
        while expectedLength().map({ received.count < $0 }) ?? true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { break }
            guard n > 0 else { throw Failure(description: "no answer from chromedriver within \(timeout)s") }
            received += buffer[0..<n]
        }
        guard let split = received.firstRange(of: Array("\r\n\r\n".utf8)) else { throw Failure(description: "not HTTP") }
        let header = String(decoding: received[..<split.lowerBound], as: UTF8.self)
        let status = Int(header.split(separator: " ").dropFirst().first ?? "") ?? 0
        var payload = Array(received[split.upperBound...])
        if header.lowercased().contains("transfer-encoding: chunked") {
            var decoded: [UInt8] = []
            var rest = payload[...]
            while let line = rest.firstRange(of: Array("\r\n".utf8)),
                  let size = Int(String(decoding: rest[..<line.lowerBound], as: UTF8.self), radix: 16), size > 0 {
                decoded += rest[line.upperBound..<(line.upperBound + size)]
                rest = rest[(line.upperBound + size + 2)...]
            }
            payload = decoded
        }
        return (status, Data(payload))
    }

    /// Sends one command and returns its `value`, or throws WebDriver's error message.
    @discardableResult
    func command(_ method: String, _ path: String, _ body: [String: Any]? = nil) async throws -> Any {
        let json = try body.map { try JSONSerialization.data(withJSONObject: $0) }
        let (status, data) = try Self.exchange(port: port, method: method, path: path, body: json)
        let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        let value = object?["value"] ?? NSNull()
        if status >= 400 {
            let error = value as? [String: Any]
            throw Failure(description: "\(method) \(path): \(error?["error"] ?? status): \(error?["message"] ?? String(decoding: data, as: UTF8.self))")
        }
        return value
    }

    /// Is chromedriver answering?
    func ready() async -> Bool {
        ((try? await command("GET", "/status")) as? [String: Any])?["ready"] as? Bool == true
    }

    /// Starts headless Chromium; `javascript: false` turns scripts off for the whole session.
    func startSession(chromium: String, javascript: Bool) async throws {
        var args = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1400",
                    "--no-first-run", "--disable-extensions", "--disable-background-networking"]
        if !javascript { args.append("--blink-settings=scriptEnabled=false") }
        let value = try await command("POST", "/session", ["capabilities": ["alwaysMatch": [
            "browserName": "chrome", "goog:chromeOptions": ["binary": chromium, "args": args],
        ]]])
        guard let id = (value as? [String: Any])?["sessionId"] as? String else { throw Failure(description: "no session id in \(value)") }
        session = id
    }

    func quit() async {
        guard !session.isEmpty else { return }
        _ = try? await command("DELETE", "/session/\(session)")
        session = ""
    }

    func go(_ url: String) async throws { try await command("POST", "/session/\(session)/url", ["url": url]) }

    func currentURL() async throws -> String { try await command("GET", "/session/\(session)/url") as? String ?? "" }

    func findAll(_ css: String) async throws -> [String] {
        let value = try await command("POST", "/session/\(session)/elements", ["using": "css selector", "value": css])
        return (value as? [[String: Any]] ?? []).compactMap { $0[Self.elementKey] as? String }
    }

    func find(_ css: String) async throws -> String {
        guard let element = try await findAll(css).first else { throw Failure(description: "no element matches `\(css)` on \(try await currentURL())") }
        return element
    }

    /// The element's rendered text, as the user reads it.
    func text(_ css: String) async throws -> String {
        try await command("GET", "/session/\(session)/element/\(try await find(css))/text") as? String ?? ""
    }

    func texts(_ css: String) async throws -> [String] {
        var texts: [String] = []
        for element in try await findAll(css) {
            texts.append(try await command("GET", "/session/\(session)/element/\(element)/text") as? String ?? "")
        }
        return texts
    }

    func attribute(_ css: String, _ name: String) async throws -> String? {
        try await command("GET", "/session/\(session)/element/\(try await find(css))/attribute/\(name)") as? String
    }

    func click(_ css: String) async throws { try await command("POST", "/session/\(session)/element/\(try await find(css))/click", [:]) }

    /// Types into a field; for a file input, `text` is the file's path.
    func type(_ css: String, _ text: String) async throws {
        let element = try await find(css)
        try await command("POST", "/session/\(session)/element/\(element)/clear", [:])
        try await command("POST", "/session/\(session)/element/\(element)/value", ["text": text])
    }

    func typeFile(_ css: String, _ path: String) async throws {
        try await command("POST", "/session/\(session)/element/\(try await find(css))/value", ["text": path])
    }

    /// Saves a PNG of the viewport.
    func screenshot(to url: URL) async throws {
        guard let base64 = try await command("GET", "/session/\(session)/screenshot") as? String, let data = Data(base64Encoded: base64) else {
            throw Failure(description: "no screenshot")
        }
        try data.write(to: url)
    }
}
