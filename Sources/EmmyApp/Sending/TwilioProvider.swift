import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Twilio's Messages API (or anything that speaks it): form-encoded POST with HTTP Basic auth.
public struct TwilioProvider: SMSProvider {
    public let name = "twilio"
    let accountSID: String
    let from: String
    let baseURL: String
    /// Where Twilio posts status changes; nil when the server has no public URL.
    let statusCallback: String?
    let authorization: String
    let http: ProviderHTTP

    public init(accountSID: String, authToken: String, from: String, baseURL: String, statusCallback: String?,
                connections: Int, timeoutSeconds: Double) {
        self.accountSID = accountSID
        self.from = from
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.statusCallback = statusCallback
        authorization = "Basic " + Data("\(accountSID):\(authToken)".utf8).base64EncodedString()
        http = ProviderHTTP(connections: connections, timeoutSeconds: timeoutSeconds)
    }

    var messagesURL: String { "\(baseURL)/2010-04-01/Accounts/\(FormEncoding.escape(accountSID))/Messages.json" }

    public func send(_ message: OutgoingMessage) async -> SendResult {
        var form = [("To", message.to), (from.hasPrefix("MG") ? "MessagingServiceSid" : "From", from), ("Body", message.body)]
        if let statusCallback { form.append(("StatusCallback", statusCallback)) }
        var request = HTTPClientRequest(url: messagesURL)
        request.method = .POST
        request.headers.add(name: "Authorization", value: authorization)
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Accept", value: "application/json")
        request.body = .bytes(ByteBuffer(string: FormEncoding.encode(form)))
        let answer: ProviderHTTP.Answer
        do {
            answer = try await http.execute(request)
        } catch {
            return error.result
        }
        if (200..<300).contains(answer.status) {
            guard let created = try? JSONDecoder().decode(Created.self, from: answer.body), !created.sid.isEmpty else {
                // It was accepted, but we cannot tell its id: looking it up beats sending twice.
                return .retryable(code: "bad_response", reason: "HTTP \(answer.status) without a message sid", retryAfter: nil, ambiguous: true)
            }
            return .accepted(providerID: created.sid, status: Self.accepted(created.status))
        }
        let error = try? JSONDecoder().decode(APIErrorBody.self, from: answer.body)
        let code = error?.code.map(String.init) ?? "http_\(answer.status)"
        let reason = error?.message ?? "HTTP \(answer.status)"
        if answer.status == 429 || answer.status >= 500 {
            return .retryable(code: code, reason: reason, retryAfter: ProviderHTTP.retryAfter(answer.headers), ambiguous: false)
        }
        if error?.code == 20429 {  // "too many requests", whatever the HTTP status
            return .retryable(code: code, reason: reason, retryAfter: ProviderHTTP.retryAfter(answer.headers), ambiguous: false)
        }
        return .permanent(code: code, reason: reason)
    }

    /// Lists the newest messages to the same number and takes one with the same sender and
    /// text created after it was queued. No `DateSent>` filter: Twilio sets `date_sent` only
    /// once it has sent a message, so one still queued there (exactly the in-doubt case after
    /// a timeout) was filtered out and sent twice. The list is newest first, and
    /// `date_created` bounds the match instead.
    public func lookup(_ message: OutgoingMessage) async throws -> ProviderMessage? {
        let query = FormEncoding.encode([("To", message.to), ("PageSize", "100")])
        var request = HTTPClientRequest(url: messagesURL + "?" + query)
        request.headers.add(name: "Authorization", value: authorization)
        request.headers.add(name: "Accept", value: "application/json")
        let answer: ProviderHTTP.Answer
        do {
            answer = try await http.execute(request)
        } catch {
            throw SendingConfigError(description: "cannot list messages: \(error)")
        }
        guard answer.status == 200 else { throw SendingConfigError(description: "listing messages answered HTTP \(answer.status)") }
        let page = try JSONDecoder().decode(Page.self, from: answer.body)
        let earliest = message.queuedAt.addingTimeInterval(-2)
        let match = page.messages.first { item in
            item.body == message.body && (item.from == nil || item.from == from || from.hasPrefix("MG"))
                && (item.date_created.flatMap(DateFormatter.twilioDate.date(from:)).map { $0 >= earliest } ?? true)
        }
        return match.map { ProviderMessage(providerID: $0.sid, status: Self.accepted($0.status)) }
    }

    public func shutdown() async {
        await http.shutdown()
    }

    /// Anything short of a final answer means the provider has it: we call that `sent`.
    static func accepted(_ word: String?) -> MessageStatus {
        guard let status = word.flatMap(MessageStatus.init(twilio:)), status.rank > MessageStatus.sent.rank else { return .sent }
        return status
    }

    struct Created: Decodable {
        var sid: String
        var status: String?
    }

    struct APIErrorBody: Decodable {
        var code: Int?
        var message: String?
    }

    struct Page: Decodable {
        var messages: [Item]
        struct Item: Decodable {
            var sid: String
            var body: String?
            var from: String?
            var status: String?
            var date_created: String?
        }
    }
}

extension DateFormatter {
    /// Twilio's `date_created`: RFC 2822, e.g. `Mon, 23 Nov 2026 07:00:00 +0000`.
    public static var twilioDate: DateFormatter {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        return formatter
    }
}
