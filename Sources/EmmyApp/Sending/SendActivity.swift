import NIOConcurrencyHelpers

/// Which claimed messages this process holds in the throttle and which are at the provider
/// right now. The database says only `sending` for both; the batch page tells them apart, so a
/// throttled batch is not shown as sending what it is only waiting to send. (Another replica's
/// messages are claimed there, not here: this process sees them as claimed elsewhere.)
public final class SendActivity: Sendable {
    public enum Phase: Sendable, Equatable {
        case throttled, atProvider
    }

    private let phases = NIOLockedValueBox<[Int64: Phase]>([:])

    public init() {}

    func enter(_ id: Int64, _ phase: Phase) { phases.withLockedValue { $0[id] = phase } }
    func leave(_ id: Int64) { phases.withLockedValue { _ = $0.removeValue(forKey: id) } }

    /// How many of `ids` are in each phase here.
    public func count(among ids: [Int64]) -> (throttled: Int, atProvider: Int) {
        phases.withLockedValue { phases in
            ids.reduce(into: (throttled: 0, atProvider: 0)) { counts, id in
                switch phases[id] {
                case .throttled: counts.throttled += 1
                case .atProvider: counts.atProvider += 1
                case nil: break
                }
            }
        }
    }
}
