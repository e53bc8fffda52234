import Hummingbird
import NIOCore

/// Per-request context: the peer address, for rate limits and logs.
public struct AppRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let peer: String
    /// The connection, to answer `Expect: 100-continue` ahead of the response.
    let channel: any Channel
    /// Set by the web guard: a browser form with a signed-in session and a valid CSRF token.
    public var webAuthenticated = false

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        peer = source.channel.remoteAddress?.ipAddress ?? "unknown"
        channel = source.channel
    }
}
