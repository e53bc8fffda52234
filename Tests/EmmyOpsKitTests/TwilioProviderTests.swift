import EmmyApp
import Foundation
import Testing

/// EmmyApp's Twilio client against the Twilio-compatible test server: what is accepted, what is
/// permanent, what is retried, and a timeout that is looked up instead of resent.
@Suite(.serialized) struct TwilioProviderTests {
    /// A generous default timeout: the full suite shares two cores, and only the timeout test
    /// (which passes its own) is about timing.
    static func provider(_ twilio: TwilioTestServer, token: String? = nil, timeout: Double = 60) -> TwilioProvider {
        TwilioProvider(accountSID: twilio.accountSID, authToken: token ?? twilio.authToken, from: "+15005550006",
                       baseURL: twilio.baseURL, statusCallback: nil, connections: 4, timeoutSeconds: timeout)
    }

    static func message(_ id: Int64, to: String = "+254712345678", body: String = "Hello") -> OutgoingMessage {
        OutgoingMessage(id: id, to: to, body: body, segments: 1, queuedAt: Date())
    }

    @Test func contractOutcomes() async throws {
        try await SendingCrashTests.withTwilio { twilio in
            twilio.invalidNumbers = ["+254712345670"]
            twilio.unsubscribedNumbers = ["+254712345671"]
            let provider = Self.provider(twilio)

            guard case .accepted(let sid, let status) = await provider.send(Self.message(1)) else {
                Issue.record("a valid message was not accepted")
                await provider.shutdown()
                return
            }
            #expect(sid.range(of: "^SM[0-9a-f]{32}$", options: .regularExpression) != nil)
            #expect(status == .sent)
            #expect(await provider.send(Self.message(2, to: "+254712345670")) == .permanent(code: "21211", reason: "The 'To' number +254712345670 is not a valid phone number."))
            #expect(await provider.send(Self.message(3, to: "+254712345671")) == .permanent(code: "21610", reason: "Attempt to send to unsubscribed recipient"))
            if case .permanent(let code, _) = await provider.send(Self.message(4, to: "0712345678")) { #expect(code == "21211") } else { Issue.record("non-E.164 To was accepted") }
            if case .permanent(let code, _) = await provider.send(Self.message(5, body: String(repeating: "x", count: 1601))) {
                #expect(code == "21617")
            } else { Issue.record("an overlong body was accepted") }
            let wrongToken = Self.provider(twilio, token: "wrong")
            if case .permanent(let code, _) = await wrongToken.send(Self.message(6)) { #expect(code == "20003") } else {
                Issue.record("bad credentials were accepted")
            }
            await wrongToken.shutdown()

            twilio.fault = .rateLimited(retryAfter: 7)
            #expect(await provider.send(Self.message(7)) == .retryable(code: "20429", reason: "Too Many Requests", retryAfter: 7, ambiguous: false))
            twilio.fault = .serverError
            #expect(await provider.send(Self.message(8)) == .retryable(code: "20500", reason: "Internal Server Error", retryAfter: nil, ambiguous: false))
            twilio.fault = .none
            #expect(twilio.acceptedCount == 1)
            await provider.shutdown()
        }
    }

    @Test func aTimedOutSendIsFoundByLookupNotSentTwice() async throws {
        try await SendingCrashTests.withTwilio { twilio in
            let provider = Self.provider(twilio, timeout: 0.3)
            let message = Self.message(42, to: "+254712345679", body: "Your code is 1234")
            #expect(try await provider.lookup(message) == nil, "nothing sent yet")

            twilio.fault = .slow(.seconds(1))
            guard case .retryable(_, _, _, let ambiguous) = await provider.send(message) else {
                Issue.record("a timeout must be retryable")
                await provider.shutdown()
                return
            }
            #expect(ambiguous, "the request may have reached Twilio")
            twilio.fault = .none
            let found = try await poll("the slow send to land", timeout: .seconds(5)) { twilio.acceptedCount == 1 ? true : nil }
            #expect(found)
            let match = try await provider.lookup(message)
            #expect(match?.providerID.hasPrefix("SM") == true)
            // Same number, different text: not ours.
            #expect(try await provider.lookup(Self.message(43, to: "+254712345679", body: "Another text")) == nil)
            #expect(twilio.acceptedCount == 1)
            await provider.shutdown()
        }
    }

    /// Issue 18: Twilio sets `date_sent` only once a message has left, so the old `DateSent>`
    /// filter missed one still queued there, and recovery sent it a second time.
    @Test func aSendStillQueuedAtTwilioIsFoundByLookup() async throws {
        try await SendingCrashTests.withTwilio { twilio in
            let provider = Self.provider(twilio)
            let message = Self.message(44, to: "+254712345678", body: "Still queued at Twilio")
            guard case .accepted(let sid, _) = await provider.send(message) else {
                Issue.record("a valid message was not accepted")
                await provider.shutdown()
                return
            }
            let match = try await provider.lookup(message)
            #expect(match?.providerID == sid, "a message Twilio has queued but not sent is ours already")
            #expect(twilio.acceptedCount == 1)
            await provider.shutdown()
        }
    }
}
