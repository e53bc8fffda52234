import Crypto
import Foundation

/// AWS Signature Version 4 for S3 requests, header-based. Checked byte for byte against
/// botocore's `SigV4Auth` on the same requests (BackupS3Tests), since moto never checks it.
public struct SigV4Signer: Sendable {
    public var credentials: AWSCredentials
    public var region: String
    public var service: String = "s3"

    public init(credentials: AWSCredentials, region: String, service: String = "s3") {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// A request to sign: the path is already percent-encoded, the query items are raw.
    public struct Request: Sendable {
        public var method: String
        /// `host` or `host:port` (a default port is left out, as the Host header does).
        public var host: String
        public var encodedPath: String
        public var query: [(String, String?)]
        /// Headers to sign besides host, x-amz-date, x-amz-content-sha256 and the session token.
        public var headers: [(String, String)]
        /// Hex SHA-256 of the body, or UNSIGNED-PAYLOAD.
        public var payloadHash: String

        public init(method: String, host: String, encodedPath: String, query: [(String, String?)] = [], headers: [(String, String)] = [], payloadHash: String) {
            self.method = method
            self.host = host
            self.encodedPath = encodedPath
            self.query = query
            self.headers = headers
            self.payloadHash = payloadHash
        }

        /// `a=1&b=` with RFC 3986 encoding, sorted: also the query string to send.
        public var canonicalQuery: String {
            let pairs: [(name: String, value: String)] = query.map { item in (SigV4Signer.encode(item.0), SigV4Signer.encode(item.1 ?? "")) }
            let sorted = pairs.sorted { a, b in a.name == b.name ? a.value < b.value : a.name < b.name }
            return sorted.map { pair in pair.name + "=" + pair.value }.joined(separator: "&")
        }
    }

    /// Every header to send for `request` at `date`, Authorization included.
    public func sign(_ request: Request, date: Date) -> [(String, String)] {
        let amzDate = Self.timestamp(date)
        let day = String(amzDate.prefix(8))
        var headers = request.headers.map { ($0.0.lowercased(), $0.1) }
        headers.append(("host", request.host))
        headers.append(("x-amz-date", amzDate))
        headers.append(("x-amz-content-sha256", request.payloadHash))
        if let token = credentials.sessionToken { headers.append(("x-amz-security-token", token)) }
        // Whitespace runs collapse to one space; repeated names join with commas.
        var byName: [String: [String]] = [:]
        for (name, value) in headers { byName[name, default: []].append(value.split(whereSeparator: \.isWhitespace).joined(separator: " ")) }
        let names = byName.keys.sorted()
        let signedHeaders = names.joined(separator: ";")
        let canonicalRequest = [
            request.method, request.encodedPath, request.canonicalQuery,
            names.map { "\($0):\(byName[$0]!.joined(separator: ","))\n" }.joined(),
            signedHeaders, request.payloadHash,
        ].joined(separator: "\n")
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = "AWS4-HMAC-SHA256\n\(amzDate)\n\(scope)\n\(SHA256.hash(data: Data(canonicalRequest.utf8)).hexString)"
        var key = SymmetricKey(data: Data("AWS4\(credentials.secretAccessKey)".utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key)))
        }
        let signature = Data(HMAC<SHA256>.authenticationCode(for: Data(stringToSign.utf8), using: key)).hexString
        return headers + [("authorization", "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)")]
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter.string(from: date)
    }

    /// RFC 3986 percent-encoding: only A-Z a-z 0-9 - _ . ~ stay as they are.
    public static func encode(_ text: String, keepSlash: Bool = false) -> String {
        var out = ""
        for byte in text.utf8 {
            let c = Character(UnicodeScalar(byte))
            if c.isASCII && (c.isLetter || c.isNumber || "-_.~".contains(c)) || (keepSlash && c == "/") {
                out.append(c)
            } else {
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }

    public static let unsignedPayload = "UNSIGNED-PAYLOAD"
}
