import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What may name a host (`hosts[].name`) and what may address one (`hosts[].address`).
///
/// A host's name travels into file names, log lines and `--host` arguments; its address is
/// ssh's destination (where a `user@` would silently override `user:`) and goes unquoted into
/// Prometheus targets and Alertmanager lists. Both are therefore held to the narrowest form
/// that does the job: a name is one DNS label, an address an IP literal or a DNS name.
/// Anything else (`../`, `$(…)`, backticks, spaces, a `user@` prefix, a leading `-` that ssh
/// would read as an option) is a spec error.
public enum HostName {
    /// A problem with a name or an address: what is wrong, and how to write it instead.
    public struct Problem: Sendable, Hashable {
        public var message: String
        public var hint: String
    }

    /// Why `name` is not a DNS label (1 to 63 ASCII letters, digits and `-`, not starting or
    /// ending with `-`), or nil when it is one.
    public static func labelProblem(_ name: String) -> Problem? {
        guard isLabel(name) else {
            return Problem(message: "host name `\(name)` is not a DNS label",
                           hint: "use 1 to 63 letters, digits and `-`, not starting or ending with `-`, e.g. web-1")
        }
        return nil
    }

    /// Why `address` is neither an IP literal nor a DNS name, or nil when it is one of them.
    public static func addressProblem(_ address: String) -> Problem? {
        if let at = address.firstIndex(of: "@"), at != address.startIndex,
           case let host = String(address[address.index(after: at)...]), isIPLiteral(host) || isDNSName(host) {
            return Problem(message: "host address `\(address)` holds a login name",
                           hint: "put the login in `user: \(address[..<at])` and only the host in `address`")
        }
        if isIPLiteral(address) || isDNSName(address) { return nil }
        return Problem(message: "host address `\(address)` is not an IP address or DNS name",
                       hint: "e.g. 10.0.0.5, 2001:db8::5 or web-1.example.com")
    }

    /// `name` as a single path component, whatever it holds: a DNS label stays as it is; any
    /// other character (`/`, `.`, `%`, spaces, control characters) becomes `%XX` of its UTF-8
    /// bytes, so the result can neither climb out of a folder nor name a hidden file.
    public static func pathComponent(_ name: String) -> String {
        if isLabel(name) { return name }
        var out = ""
        for byte in name.utf8 {
            if byte.isASCIILetterOrDigit || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                out += String(format: "%%%02X", byte)
            }
        }
        return out.isEmpty ? "%00" : out
    }

    static func isLabel(_ text: some StringProtocol) -> Bool {
        let bytes = Array(text.utf8)
        guard (1...63).contains(bytes.count), bytes.first != UInt8(ascii: "-"), bytes.last != UInt8(ascii: "-") else { return false }
        return bytes.allSatisfy { $0.isASCIILetterOrDigit || $0 == UInt8(ascii: "-") }
    }

    /// Labels joined by dots (one trailing dot allowed), at most 253 characters; the last label
    /// is not all digits, so `10.0.0.999` is a bad IPv4 address, not a name.
    static func isDNSName(_ text: String) -> Bool {
        let name = text.hasSuffix(".") ? String(text.dropLast()) : text
        guard !name.isEmpty, name.utf8.count <= 253 else { return false }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.allSatisfy(isLabel), let last = labels.last else { return false }
        return !last.utf8.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }

    /// An IPv4 dotted quad or an IPv6 address, as the C library parses them (no zone, no port).
    static func isIPLiteral(_ text: String) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 16)
        return inet_pton(AF_INET, text, &buffer) == 1 || inet_pton(AF_INET6, text, &buffer) == 1
    }
}

private extension UInt8 {
    var isASCIILetterOrDigit: Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(self) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(self)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self)
    }
}
