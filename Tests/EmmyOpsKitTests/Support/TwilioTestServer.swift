import AsyncHTTPClient
import EmmyApp
import Foundation
import Hummingbird

/// A stand-in for Twilio's Messages API on 127.0.0.1, enforcing the contract EmmyApp relies on:
/// HTTP Basic auth, form fields `To` (E.164), `From`/`MessagingServiceSid` and `Body` (≤ 1600
/// characters), 201 with `sid` (SM + 32 hex) and `status`, Twilio's error body
/// `{code, message, more_info, status}`, and list-by-To. Faults are injected per test: 500s,
/// 429s with Retry-After, slow answers. Every accepted message is counted, so duplicates show.
/// When a StatusCallback is given it posts signed `delivered` callbacks, as Twilio does.
final class TwilioTestServer: @unchecked Sendable {
    let accountSID = "AC" + String(repeating: "0123456789abcdef", count: 2)
    let authToken = "test-auth-token-\(UUID().uuidString.prefix(8))"

    enum Fault: Sendable, Equatable {
        case none
        case serverError
        /// 401 with Twilio's 20003, as when the account's auth token was rotated.
        case unauthorized
        case rateLimited(retryAfter: Int)
        /// Answer normally, but only after this long.
        case slow(Duration)
    }

    struct Stored: Sendable {
        var sid: String
        var to: String
        var from: String
        var body: String
        var status: String
        var created: Date
        /// Set, as Twilio sets `date_sent`, only once the message has left: nil while queued.
        var sent: Date?
    }

    private let lock = NSLock()
    private var messages: [Stored] = []
    /// Where each sid is in `messages`: a callback finds its message without scanning them all,
    /// which under the lock stalled every request once 100,000 messages were stored.
    private var positions: [String: Int] = [:]
    private var acceptCounts: [String: Int] = [:]
    private var _fault: Fault = .none
    private var _requests = 0
    private var _refused = 0
    /// Numbers that answer 21211 (invalid) and 21610 (unsubscribed).
    var invalidNumbers: Set<String> = []
    var unsubscribedNumbers: Set<String> = []

    private var task: Task<Void, any Error>?
    private(set) var port = 0
    private let callbacks = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup)
    /// Status callbacks wait here and go out a few at a time, each retried until EmmyApp answers.
    private let pendingCallbacks = AsyncStream<Callback>.makeStream()
    private var callbackTask: Task<Void, Never>?

    struct Callback: Sendable {
        var sid: String
        var to: String
        var from: String
        var url: String
    }

    var baseURL: String { "http://127.0.0.1:\(port)" }

    private func locked<T>(_ body: () -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body()
    }

    var fault: Fault {
        get { locked { _fault } }
        set { locked { _fault = newValue } }
    }

    /// Messages accepted (201), counting repeats of the same To + Body.
    var acceptedCount: Int { locked { messages.count } }
    /// POSTs answered with an injected 429 or 500.
    var refusedCount: Int { locked { _refused } }
    var requestCount: Int { locked { _requests } }
    /// (To, Body) pairs accepted more than once.
    var duplicates: [String: Int] { locked { acceptCounts.filter { $0.value > 1 } } }
    var distinctAccepted: Int { locked { acceptCounts.count } }

    func start() async throws {
        let router = Router()
        let path = "/2010-04-01/Accounts/:account/Messages.json"
        router.post(RouterPath(path)) { request, context in try await self.create(request, context: context) }
        router.get(RouterPath(path)) { request, context in try self.list(request, context: context) }
        let ready = AsyncStream<Int>.makeStream()
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in ready.continuation.yield(channel.localAddress?.port ?? 0) })
        task = Task { try await app.runService(gracefulShutdownSignals: []) }
        let stream = pendingCallbacks.stream
        callbackTask = Task {
            await withTaskGroup(of: Void.self) { group in
                var running = 0
                for await callback in stream {
                    if running >= 16 {
                        await group.next()
                        running -= 1
                    }
                    group.addTask { await self.deliver(callback) }
                    running += 1
                }
            }
        }
        for await port in ready.stream {
            self.port = port
            break
        }
    }

    func stop() async {
        pendingCallbacks.continuation.finish()
        callbackTask?.cancel()
        await callbackTask?.value
        task?.cancel()
        _ = try? await task?.value
        try? await callbacks.shutdown()
    }

    // MARK: - The API

    private func error(_ status: HTTPResponse.Status, code: Int, _ message: String, headers: HTTPFields = [:]) -> Response {
        let body: [String: Any] = ["code": code, "message": message, "more_info": "https://www.twilio.com/docs/errors/\(code)",
                                   "status": Int(status.code)]
        var headers = headers
        headers[.contentType] = "application/json"
        let data = try! JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    private func json(_ value: [String: Any], status: HTTPResponse.Status) -> Response {
        let data = try! JSONSerialization.data(withJSONObject: value, options: [.sortedKeys])
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    private func authorized(_ request: Request, context: some RequestContext) -> Bool {
        let expected = "Basic " + Data("\(accountSID):\(authToken)".utf8).base64EncodedString()
        return request.headers[.authorization] == expected && context.parameters.get("account") == accountSID
    }

    static func isE164(_ text: String) -> Bool {
        text.range(of: #"^\+[1-9][0-9]{6,14}$"#, options: .regularExpression) != nil
    }

    private func create(_ request: Request, context: some RequestContext) async throws -> Response {
        locked { _requests += 1 }
        guard authorized(request, context: context), fault != .unauthorized else {
            if fault == .unauthorized { locked { _refused += 1 } }
            return error(.unauthorized, code: 20003, "Authentication Error - invalid username")
        }
        switch fault {
        case .serverError:
            locked { _refused += 1 }
            return error(.internalServerError, code: 20500, "Internal Server Error")
        case .rateLimited(let seconds):
            locked { _refused += 1 }
            var headers = HTTPFields()
            headers[.retryAfter] = "\(seconds)"
            return error(.tooManyRequests, code: 20429, "Too Many Requests", headers: headers)
        case .unauthorized:
            break
        case .slow(let delay):
            try await Task.sleep(for: delay)
        case .none:
            break
        }
        let body = try await request.body.collect(upTo: 1 << 20)
        let form = Dictionary(FormEncoding.decode(String(buffer: body)), uniquingKeysWith: { first, _ in first })
        guard let to = form["To"], !to.isEmpty else { return error(.badRequest, code: 21604, "A 'To' phone number is required.") }
        guard let from = form["From"] ?? form["MessagingServiceSid"], !from.isEmpty else {
            return error(.badRequest, code: 21603, "A 'From' phone number is required.")
        }
        guard let text = form["Body"], !text.isEmpty else { return error(.badRequest, code: 21602, "Message body is required.") }
        guard Self.isE164(to), !invalidNumbers.contains(to) else {
            return error(.badRequest, code: 21211, "The 'To' number \(to) is not a valid phone number.")
        }
        guard !unsubscribedNumbers.contains(to) else {
            return error(.badRequest, code: 21610, "Attempt to send to unsubscribed recipient")
        }
        guard text.count <= 1600 else { return error(.badRequest, code: 21617, "The concatenated message body exceeds the 1600 character limit.") }
        let sid = "SM" + (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        let stored = Stored(sid: sid, to: to, from: from, body: text, status: "queued", created: Date())
        locked {
            positions[sid] = messages.count
            messages.append(stored)
            acceptCounts[to + "\n" + text, default: 0] += 1
        }
        if let callback = form["StatusCallback"] {
            pendingCallbacks.continuation.yield(Callback(sid: sid, to: to, from: from, url: callback))
        }
        return json(describe(stored), status: .created)
    }

    private func describe(_ message: Stored) -> [String: Any] {
        ["sid": message.sid, "account_sid": accountSID, "to": message.to, "from": message.from, "body": message.body,
         "status": message.status, "num_segments": "1", "error_code": NSNull(), "error_message": NSNull(),
         "date_created": DateFormatter.twilioDate.string(from: message.created),
         "date_sent": message.sent.map { DateFormatter.twilioDate.string(from: $0) } ?? NSNull()]
    }

    /// `GET …/Messages.json?To=…&DateSent>=YYYY-MM-DD`: newest first, as Twilio lists. The date
    /// filter is on `date_sent`, so it leaves out messages not sent yet, as Twilio does.
    private func list(_ request: Request, context: some RequestContext) throws -> Response {
        guard authorized(request, context: context) else {
            return error(.unauthorized, code: 20003, "Authentication Error - invalid username")
        }
        let query = request.uri.queryParameters
        let to = query["To"].map(String.init)
        // Hummingbird decodes values, not keys: a client sends `DateSent>` as `DateSent%3E`.
        let day = (query["DateSent>"] ?? query["DateSent%3E"]).map(String.init)
        let days = DateFormatter()
        days.locale = Locale(identifier: "en_US_POSIX")
        days.timeZone = TimeZone(identifier: "UTC")
        days.dateFormat = "yyyy-MM-dd"
        let found = locked {
            messages.filter { message in
                (to == nil || message.to == to) && (day == nil || message.sent.map { days.string(from: $0) >= day! } ?? false)
            }
        }
        return json(["messages": found.reversed().map(describe), "page": 0, "page_size": found.count], status: .ok)
    }

    /// Posts a signed `delivered` callback, retrying while EmmyApp is down (a crash test kills it).
    private func deliver(_ callback: Callback) async {
        let parameters = [("MessageSid", callback.sid), ("MessageStatus", "delivered"), ("To", callback.to), ("From", callback.from),
                          ("AccountSid", accountSID)]
        locked {
            if let index = positions[callback.sid] {
                messages[index].status = "delivered"
                messages[index].sent = messages[index].sent ?? Date()
            }
        }
        var request = HTTPClientRequest(url: callback.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "X-Twilio-Signature",
                            value: TwilioSignature.compute(url: callback.url, parameters: parameters, authToken: authToken))
        let body = FormEncoding.encode(parameters)
        while !Task.isCancelled {
            request.body = .bytes(ByteBuffer(string: body))
            if let response = try? await callbacks.execute(request, timeout: .seconds(10)), response.status.code < 500 {
                _ = try? await response.body.collect(upTo: 1 << 16)
                return
            }
            try? await Task.sleep(for: .milliseconds(200))
        }
    }
}
