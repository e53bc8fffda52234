import Hummingbird
import NIOCore

/// Per-request context: the peer address, for rate limits and logs.
public struct AppRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let peer: String

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        peer = source.channel.remoteAddress?.ipAddress ?? "unknown"
    }
}
