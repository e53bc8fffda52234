import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A minimal blocking HTTP/1.0 client for health probes and test polling.
///
/// Plain sockets on purpose: probes must work from a statically linked binary in a bare
/// container, where FoundationNetworking's libcurl is not available.
public enum HTTPProbe {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public struct Response: Sendable {
        public var status: Int
        public var body: String
    }

    /// Status code of a GET, or why there was none.
    public static func get(_ url: String, timeout: Double = 5) async -> Result<Int, Failure> {
        request(url, timeout: timeout).map(\.status)
    }

    /// Sends one request and reads the whole answer (bodies are capped at 8 MiB).
    public static func request(_ urlString: String, method: String = "GET", body: String? = nil,
                               contentType: String = "application/json", timeout: Double = 5) -> Result<Response, Failure> {
        // An IPv6 literal's host (`http://[::1]:9100/`) comes without its brackets.
        guard let url = URL(string: urlString), url.scheme == "http", let host = url.host else {
            return .failure(Failure(description: "`\(urlString)` is not an http:// URL"))
        }
        let port = url.port ?? 80
        var path = url.path.isEmpty ? "/" : url.path
        if let query = url.query { path += "?" + query }

        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var info: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &info) == 0, let first = info else {
            return .failure(Failure(description: "cannot resolve \(host)"))
        }
        defer { freeaddrinfo(info) }
        let fd = socket(first.pointee.ai_family, first.pointee.ai_socktype, first.pointee.ai_protocol)
        guard fd >= 0 else { return .failure(Failure(description: "socket: \(String(cString: strerror(errno)))")) }
        defer { close(fd) }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        guard connect(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else {
            return .failure(Failure(description: "connect to \(host):\(port): \(String(cString: strerror(errno)))"))
        }
        var head = "\(method) \(path) HTTP/1.0\r\nHost: \(HostPort.join(host, port))\r\nConnection: close\r\n"
        if let body {
            head += "Content-Type: \(contentType)\r\nContent-Length: \(body.utf8.count)\r\n"
        }
        let message = Array((head + "\r\n" + (body ?? "")).utf8)
        var sent = 0
        while sent < message.count {
            let n = message[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { return .failure(Failure(description: "send: \(String(cString: strerror(errno)))")) }
            sent += n
        }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while received.count < 8 << 20 {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { break }
            guard n > 0 else { return .failure(Failure(description: "no answer from \(host):\(port) within \(timeout)s")) }
            received += buffer[0..<n]
        }
        let text = String(decoding: received, as: UTF8.self)
        let statusLine = text.prefix { $0 != "\r" && $0 != "\n" }
        let parts = statusLine.split(separator: " ")
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/"), let status = Int(parts[1]) else {
            return .failure(Failure(description: "not an HTTP answer from \(host):\(port)"))
        }
        let bodyText = text.range(of: "\r\n\r\n").map { String(text[$0.upperBound...]) } ?? ""
        return .success(Response(status: status, body: bodyText))
    }
}
