import Foundation

/// Runs `body` for each item, at most `width` at a time, on plain threads: each waits on a
/// subprocess, so the cooperative pool (one thread per core) would serialise them. Returns
/// what `body` returned, in the order of `items`.
@discardableResult
func concurrently<T: Sendable, R: Sendable>(_ items: [T], width: Int, _ body: @escaping @Sendable (T) -> R) -> [R] {
    let results = Results<R>(count: items.count)
    let slots = DispatchSemaphore(value: max(1, width))
    let group = DispatchGroup()
    for (index, item) in items.enumerated() {
        slots.wait()
        group.enter()
        Thread.detachNewThread {
            results.set(index, body(item))
            slots.signal()
            group.leave()
        }
    }
    group.wait()
    return results.values
}

/// Where `concurrently`'s threads leave their results.
private final class Results<R: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [R?]
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ index: Int, _ value: R) { lock.withLock { slots[index] = value } }
    var values: [R] { lock.withLock { slots.map { $0! } } }
}
