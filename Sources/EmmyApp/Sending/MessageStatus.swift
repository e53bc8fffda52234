/// A message's life: `queued → sending → sent → delivered | undelivered | failed`, or
/// `canceled`. Statuses only move forward, whatever order provider callbacks arrive in.
public enum MessageStatus: String, Sendable, CaseIterable, Codable {
    case queued, sending, sent, delivered, undelivered, failed, canceled

    /// How far along the message is; a status may only be replaced by one further along.
    public var rank: Int {
        switch self {
        case .queued: 0
        case .sending: 1
        case .sent: 2
        case .delivered, .undelivered, .failed, .canceled: 3
        }
    }

    /// Whether a message in this status may move to `next` (never backwards, never out of a
    /// terminal status; an operator's retry is the one exception and goes through SendQueue).
    public func canMove(to next: MessageStatus) -> Bool {
        next.rank > rank
    }

    /// The statuses a message may be in for it to move to `self`, for SQL guards.
    public var predecessors: [MessageStatus] {
        MessageStatus.allCases.filter { $0.canMove(to: self) }
    }

    /// Twilio's status words mapped to ours; nil for words that say nothing new
    /// (`accepted`, `scheduled`, `receiving`, `received`, `read`).
    public init?(twilio word: String) {
        switch word {
        case "queued", "accepted", "scheduled": self = .queued
        case "sending": self = .sending
        case "sent": self = .sent
        case "delivered", "read": self = .delivered
        case "undelivered": self = .undelivered
        case "failed": self = .failed
        case "canceled": self = .canceled
        default: return nil
        }
    }

    /// Every status's word, in the order a message moves through them: the one list the API
    /// checks `status` against and the web pages show counts and filters in.
    public static let names = allCases.map(\.rawValue)

    /// Still waiting to be sent: the queue's depth.
    public static let waiting: [MessageStatus] = [.queued, .sending]
    /// The provider took it.
    public static let succeeded: [MessageStatus] = [.sent, .delivered]
    /// Finished without reaching the phone: what "Retry failed" requeues.
    public static let unsuccessful: [MessageStatus] = [.failed, .undelivered]
    /// What an operator may send again, one message at a time.
    public static let retryable: [MessageStatus] = [.failed, .undelivered, .canceled]

    /// Messages in any of `statuses`, from counts keyed by status word.
    public static func count(_ statuses: [MessageStatus], in counts: [String: Int]) -> Int {
        statuses.reduce(0) { $0 + (counts[$1.rawValue] ?? 0) }
    }
}
