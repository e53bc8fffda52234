import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1

/// An S3 bucket prefix as a backup target, on AWS or any S3-compatible store. Objects above
/// `multipartThreshold` go up in parts, each with its own `x-amz-checksum-sha256`; every request
/// is retried with backoff on 5xx, SlowDown and lost connections, and a download that breaks off
/// resumes where it stopped; after an upload a HEAD checks size and checksum before anything
/// names the object.
public final class S3Target: BackupTarget, @unchecked Sendable {
    public let bucket: String
    /// Ends with `/` unless empty.
    public let prefix: String
    public let endpoint: URL
    public let pathStyle: Bool
    public let region: String
    public var multipartThreshold: Int = 16 * 1024 * 1024
    public var partSize: Int = 8 * 1024 * 1024
    public var maxAttempts = 5
    /// First retry delay; doubles per attempt, with jitter.
    public var retryBase: Double = 0.2
    private let environment: [String: String]
    private let client: HTTPClient
    // Resolved once, on first use, behind the lock.
    private let lock = NSLock()
    private var credentials: AWSCredentials?

    public var description: String { "s3://\(bucket)/\(prefix)" }

    /// `url` is `s3://bucket/prefix`; the endpoint is `settings.endpoint`, else
    /// AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL, else AWS's regional endpoint.
    public init(url: String, settings: Backup, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        let rest = url.dropFirst("s3://".count)
        guard url.hasPrefix("s3://"), let bucket = rest.split(separator: "/").first.map(String.init), !bucket.isEmpty else {
            throw BackupError.target("`\(url)` is not s3://bucket/prefix")
        }
        self.bucket = bucket
        let prefix = rest.split(separator: "/", maxSplits: 1).dropFirst().first.map(String.init) ?? ""
        self.prefix = prefix.isEmpty || prefix.hasSuffix("/") ? prefix : prefix + "/"
        region = settings.region ?? environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"] ?? "us-east-1"
        let configured = settings.endpoint ?? environment["AWS_ENDPOINT_URL_S3"] ?? environment["AWS_ENDPOINT_URL"]
        guard let endpoint = URL(string: configured ?? "https://s3.\(region).amazonaws.com"), endpoint.host != nil else {
            throw BackupError.target("`\(configured ?? "")` is not an endpoint URL")
        }
        self.endpoint = endpoint
        pathStyle = settings.pathStyle
        self.environment = environment
        // The process-wide client: nothing to shut down, and every request carries its own deadline.
        client = HTTPClient.shared
    }

    // MARK: - BackupTarget

    public func upload(file path: String, key: String, bytes: Int64, sha256: String) async throws {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw BackupError.io(path: path, reason: "cannot open") }
        defer { try? handle.close() }
        let expected: String
        if bytes <= Int64(multipartThreshold) {
            let body = try handle.readToEnd() ?? Data()
            let checksum = Data(SHA256.hash(data: body)).base64EncodedString()
            _ = try await send("PUT", key: key, headers: Self.checksumHeaders(checksum), body: body)
            expected = checksum
        } else {
            expected = try await multipart(handle, key: key)
        }
        let head = try await send("HEAD", key: key, headers: [("x-amz-checksum-mode", "ENABLED")])
        let size = head.headers.first(name: "content-length").flatMap(Int64.init)
        guard size == bytes else {
            throw BackupError.target("\(key) was stored as \(size.map(String.init) ?? "?") bytes, not \(bytes)")
        }
        // Stores that keep no checksums (older MinIO) answer without the header: size is all they give.
        // A multipart composite reads `…-N` on AWS and without the suffix on some emulators.
        if let stored = head.headers.first(name: "x-amz-checksum-sha256"), stored != expected,
           stored != expected.split(separator: "-").first.map(String.init) {
            throw BackupError.target("\(key) was stored with checksum \(stored), not \(expected)")
        }
    }

    public func put(_ data: Data, key: String) async throws {
        let checksum = Data(SHA256.hash(data: data)).base64EncodedString()
        _ = try await send("PUT", key: key, headers: Self.checksumHeaders(checksum) + [("content-type", "application/json")], body: data)
    }

    /// The checksum S3 verifies on receipt and keeps, and its algorithm as the SDKs name it
    /// (some emulators keep the checksum only when the algorithm is named).
    static func checksumHeaders(_ base64: String) -> [(String, String)] {
        [("x-amz-checksum-sha256", base64), ("x-amz-sdk-checksum-algorithm", "SHA256")]
    }

    /// Streams the object into `sink`, retried like every request; a body that breaks off
    /// midway (a lost connection, a truncated answer) resumes with a Range request from the
    /// byte the sink got last, pinned to the same object by If-Match, so the sink sees each
    /// byte once.
    public func download(_ key: String, into sink: any ByteSink) async throws {
        var offset: Int64 = 0
        var etag: String?
        var lastProblem = ""
        for attempt in 1...maxAttempts {
            if attempt > 1 { try await backoff(attempt) }
            var headers: [(String, String)] = []
            if offset > 0 {
                headers.append(("range", "bytes=\(offset)-"))
                if let etag { headers.append(("if-match", etag)) }
            }
            let response = try await send("GET", key: key, headers: headers, stream: true)
            guard let body = response.body else { throw BackupError.target("GET \(key): no body") }
            if offset > 0, response.status != 206 {
                throw BackupError.target("GET \(key) broke off after \(offset) bytes and the store does not resume (HTTP \(response.status) to a Range request)")
            }
            etag = etag ?? response.headers.first(name: "etag")
            let expected = response.headers.first(name: "content-length").flatMap(Int64.init).map { $0 + offset }
            do {
                for try await buffer in body {
                    try sink.write(ArraySlice(buffer.readableBytesView))
                    offset += Int64(buffer.readableBytes)
                }
            } catch let error as BackupError {
                // The sink refused the bytes (corrupt, not age): no retry helps.
                throw error
            } catch {
                lastProblem = "broke off after \(offset) bytes: \(error)"
                continue
            }
            if let expected, offset < expected {
                lastProblem = "ended after \(offset) of \(expected) bytes"
                continue
            }
            try sink.finish()
            return
        }
        throw BackupError.target("GET \(prefix + key) failed after \(maxAttempts) attempts: \(lastProblem)")
    }

    /// Waits before attempt `attempt` (2, 3, …): `retryBase` doubling, with jitter.
    private func backoff(_ attempt: Int) async throws {
        let delay = retryBase * pow(2, Double(attempt - 2)) * Double.random(in: 0.5...1.5)
        try await Task.sleep(nanoseconds: UInt64(delay * 1e9))
    }

    public func get(_ key: String) async throws -> Data? {
        do {
            let response = try await send("GET", key: key)
            return response.data
        } catch S3Failure.status(404, _) {
            return nil
        }
    }

    public func list() async throws -> [String: Int64] {
        var out: [String: Int64] = [:]
        var token: String?
        repeat {
            var query: [(String, String?)] = [("list-type", "2"), ("prefix", prefix)]
            if let token { query.append(("continuation-token", token)) }
            let response = try await send("GET", key: nil, query: query)
            let xml = String(decoding: response.data, as: UTF8.self)
            for contents in S3XML.elements("Contents", in: xml) {
                guard let key = S3XML.value("Key", in: contents), key.hasPrefix(prefix) else { continue }
                out[String(key.dropFirst(prefix.count))] = S3XML.value("Size", in: contents).flatMap(Int64.init) ?? 0
            }
            token = S3XML.value("IsTruncated", in: xml) == "true" ? S3XML.value("NextContinuationToken", in: xml) : nil
        } while token != nil
        return out
    }

    public func delete(_ key: String) async throws {
        _ = try await send("DELETE", key: key)
    }

    // MARK: - Multipart

    /// Uploads in parts of `partSize`, one in memory at a time; returns the composite checksum
    /// S3 reports for the object (base64 of the SHA-256 of the part checksums, `-N`).
    private func multipart(_ handle: FileHandle, key: String) async throws -> String {
        let created = try await send("POST", key: key, query: [("uploads", nil)], headers: [("x-amz-checksum-algorithm", "SHA256")])
        guard let uploadID = S3XML.value("UploadId", in: String(decoding: created.data, as: UTF8.self)) else {
            throw BackupError.target("CreateMultipartUpload for \(key) returned no UploadId")
        }
        do {
            var parts: [(number: Int, etag: String, checksum: Data)] = []
            while true {
                let chunk = try handle.read(upToCount: partSize) ?? Data()
                if chunk.isEmpty { break }
                let number = parts.count + 1
                let checksum = Data(SHA256.hash(data: chunk))
                let response = try await send("PUT", key: key, query: [("partNumber", String(number)), ("uploadId", uploadID)],
                                              headers: [("x-amz-checksum-sha256", checksum.base64EncodedString())], body: chunk)
                guard let etag = response.headers.first(name: "etag") else { throw BackupError.target("part \(number) of \(key): no ETag") }
                parts.append((number, etag, checksum))
            }
            let xml = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                + parts.map { "<Part><PartNumber>\($0.number)</PartNumber><ETag>\(S3XML.escape($0.etag))</ETag><ChecksumSHA256>\($0.checksum.base64EncodedString())</ChecksumSHA256></Part>" }.joined()
                + "</CompleteMultipartUpload>"
            do {
                let completed = try await send("POST", key: key, query: [("uploadId", uploadID)], headers: [("content-type", "application/xml")], body: Data(xml.utf8))
                // CompleteMultipartUpload can fail with 200 and an <Error> body.
                let answer = String(decoding: completed.data, as: UTF8.self)
                if answer.contains("<Error>") { throw BackupError.target("CompleteMultipartUpload for \(key): \(S3XML.value("Message", in: answer) ?? answer)") }
            } catch S3Failure.status(404, let message) where message.contains("NoSuchUpload") {
                // A completion whose answer was lost, retried: the upload is gone because it
                // completed (or was aborted). The HEAD that follows every upload tells which.
            }
            return Data(SHA256.hash(data: parts.reduce(Data()) { $0 + $1.checksum })).base64EncodedString() + "-\(parts.count)"
        } catch {
            _ = try? await send("DELETE", key: key, query: [("uploadId", uploadID)])
            throw error
        }
    }

    // MARK: - Requests

    struct Response {
        var status: Int
        var headers: HTTPHeaders
        var data: Data
        var body: HTTPClientResponse.Body?
    }

    enum S3Failure: Error {
        case status(Int, String)
    }

    /// The host and encoded path of `key` (nil: the bucket itself) for the configured addressing.
    func location(_ key: String?) -> (host: String, path: String) {
        let host = endpoint.host ?? ""
        let port = endpoint.port.map { ":\($0)" } ?? ""
        let base = endpoint.path.hasSuffix("/") ? String(endpoint.path.dropLast()) : endpoint.path
        let objectPath = key.map { "/" + SigV4Signer.encode(prefix + $0, keepSlash: true) } ?? "/"
        if pathStyle {
            return (host + port, base + "/" + bucket + (key == nil ? "/" : objectPath))
        }
        return (bucket + "." + host + port, base + objectPath)
    }

    private func currentCredentials() async throws -> AWSCredentials {
        if let cached = lock.withLock({ credentials }) { return cached }
        let resolved = try await AWSCredentials.resolve(environment: environment, client: client)
        lock.withLock { credentials = resolved }
        return resolved
    }

    /// Sends one request, signed afresh per attempt, retrying 5xx, 429, SlowDown and transport
    /// failures with exponential backoff. Non-retryable statuses throw at once.
    func send(_ method: String, key: String?, query: [(String, String?)] = [], headers: [(String, String)] = [],
              body: Data? = nil, stream: Bool = false) async throws -> Response {
        let signer = SigV4Signer(credentials: try await currentCredentials(), region: region)
        let (host, path) = location(key)
        let payloadHash = SHA256.hash(data: body ?? Data()).hexString
        let what = "\(method) \(key.map { prefix + $0 } ?? bucket)"
        var lastProblem = ""
        for attempt in 1...maxAttempts {
            if attempt > 1 { try await backoff(attempt) }
            let signing = SigV4Signer.Request(method: method, host: host, encodedPath: path, query: query, headers: headers, payloadHash: payloadHash)
            let query = signing.canonicalQuery
            var request = HTTPClientRequest(url: "\(endpoint.scheme ?? "https")://\(host)\(path)\(query.isEmpty ? "" : "?" + query)")
            request.method = HTTPMethod(rawValue: method)
            for (name, value) in signer.sign(signing, date: Date()) where name != "host" { request.headers.add(name: name, value: value) }
            if let body {
                request.body = .bytes(ByteBuffer(bytes: body))
                request.headers.replaceOrAdd(name: "content-length", value: String(body.count))
            }
            do {
                let response = try await client.execute(request, timeout: .seconds(300))
                let status = Int(response.status.code)
                if (200..<300).contains(status) {
                    if stream { return Response(status: status, headers: response.headers, data: Data(), body: response.body) }
                    let data = method == "HEAD" ? Data() : Data(try await response.body.collect(upTo: 64 << 20).readableBytesView)
                    return Response(status: status, headers: response.headers, data: data, body: nil)
                }
                let text = method == "HEAD" ? "" : String(buffer: try await response.body.collect(upTo: 1 << 20))
                let code = S3XML.value("Code", in: text) ?? ""
                lastProblem = "HTTP \(status)\(code.isEmpty ? "" : " \(code)")"
                if status >= 500 || status == 429 || code == "SlowDown" || code == "RequestTimeout" { continue }
                throw S3Failure.status(status, "\(what): \(lastProblem)\(S3XML.value("Message", in: text).map { ": \($0)" } ?? "")")
            } catch let failure as S3Failure {
                throw failure
            } catch {
                // Connection refused, reset or dropped mid-body, a timeout: all worth another try.
                lastProblem = "\(error)"
            }
        }
        throw BackupError.target("\(what) failed after \(maxAttempts) attempts: \(lastProblem)")
    }
}

extension S3Target.S3Failure: CustomStringConvertible {
    var description: String {
        switch self { case .status(_, let message): message }
    }
}

/// Just enough XML for S3's answers: element text by name, entities decoded.
enum S3XML {
    static func elements(_ name: String, in xml: String) -> [String] {
        var out: [String] = []
        var rest = xml[...]
        while let open = rest.range(of: "<\(name)>"), let close = rest.range(of: "</\(name)>", range: open.upperBound..<rest.endIndex) {
            out.append(String(rest[open.upperBound..<close.lowerBound]))
            rest = rest[close.upperBound...]
        }
        return out
    }

    static func value(_ name: String, in xml: String) -> String? {
        elements(name, in: xml).first.map(unescape)
    }

    static func unescape(_ text: String) -> String {
        text.replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&apos;", with: "'")
            .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&#34;", with: "\"").replacingOccurrences(of: "&amp;", with: "&")
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
