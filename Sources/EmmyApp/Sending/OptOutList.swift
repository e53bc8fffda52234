import Foundation

/// Numbers that must not be messaged: they replied STOP, or an operator added them.
/// Ingest refuses them (`opted_out`), and adding one cancels what is still waiting for it.
public struct OptOutList: Sendable {
    let store: any AppStore

    public init(database: any AppStore) { self.store = database }

    /// Twilio's default opt-out and opt-in keywords (case-insensitive, whole message).
    public static let stopWords: Set<String> = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"]
    public static let startWords: Set<String> = ["START", "UNSTOP", "YES"]

    public typealias Added = OptOutAdded

    /// Adds E.164 numbers; already-listed ones are kept as they were.
    public func add(_ phones: [String], source: String, now: Date = Date()) async throws -> Added {
        try await store.addOptOuts(phones, source: source, now: now)
    }

    /// Removes a number (it replied START); returns whether it was listed.
    public func remove(_ phone: String) async throws -> Bool {
        try await store.removeOptOut(phone)
    }

    /// Applies an inbound reply once per provider message id (`MessageSid`): the store records
    /// the id in the same transaction as the change, so a replay of an old START cannot undo a
    /// later STOP.
    public func applyReply(messageID: String, from phone: String?, body: String, now: Date = Date()) async throws -> ReplyEffect {
        try await store.applyInbound(messageID: messageID, action: Self.action(from: phone, body: body), now: now)
    }

    /// What a reply's words ask for; nothing without a usable (E.164) sender.
    static func action(from phone: String?, body: String) -> InboundAction {
        guard let phone, phone.hasPrefix("+") else { return .none }
        let word = body.trimmingCharacters(in: .whitespacesAndNewlines).uppercased()
        if stopWords.contains(word) { return .optOut(phone: phone) }
        if startWords.contains(word) { return .optIn(phone: phone) }
        return .none
    }

    public func contains(_ phone: String) async throws -> Bool {
        try await !store.optedOut([phone]).isEmpty
    }
}
