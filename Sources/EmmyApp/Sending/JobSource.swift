import Foundation
import Logging

/// Feeds workers from the queue: one claim transaction fills a buffer many workers drain.
actor JobSource {
    private let queue: SendQueue
    private let metrics: AppMetrics
    private let logger: Logger
    private let batchSize: Int
    private var buffer: [SendQueue.Job] = []
    private var refilling: Task<[SendQueue.Job], any Error>?
    private(set) var stopping = false
    /// When the last claim found nothing: idle workers then wait instead of each asking SQLite.
    private var foundNothingAt: ContinuousClock.Instant?
    private let idleWait: Duration
    /// While it says paused, nothing is claimed or handed out (see `SendingPause`).
    private let paused: @Sendable () -> Bool

    init(queue: SendQueue, metrics: AppMetrics, logger: Logger, batchSize: Int, idleWait: Duration,
         paused: @escaping @Sendable () -> Bool = { false }) {
        self.paused = paused
        self.queue = queue
        self.metrics = metrics
        self.logger = logger
        self.batchSize = batchSize
        self.idleWait = idleWait
    }

    /// The next job, or nil when there is nothing due (or the pool is stopping).
    func next() async -> SendQueue.Job? {
        guard !stopping else { return nil }
        if paused() {
            // Claimed but unstarted jobs go back too, so a pause leaves nothing held by this run.
            if !buffer.isEmpty {
                let ids = buffer.map(\.message.id)
                buffer = []
                try? await queue.release(ids)
            }
            return nil
        }
        if buffer.isEmpty {
            if let foundNothingAt, ContinuousClock.now - foundNothingAt < idleWait { return nil }
            let task = refilling ?? Task { [queue, metrics, batchSize] in
                let claimed = try await queue.claim(limit: batchSize)
                metrics.messagesEntered([.sending: claimed.fresh])
                return claimed.jobs
            }
            refilling = task
            let result = await task.result
            // Only the first worker back takes the claimed jobs into the buffer.
            if refilling == task {
                refilling = nil
                switch result {
                case .success(let jobs):
                    buffer.append(contentsOf: jobs.reversed())
                    foundNothingAt = jobs.isEmpty ? ContinuousClock.now : nil
                case .failure(let error): logger.error("cannot claim messages", metadata: ["error": "\(error)"])
                }
            }
        }
        guard !stopping else { return nil }
        return buffer.popLast()
    }

    /// Stops handing out jobs.
    func stop() {
        stopping = true
    }

    /// After `stop`: the ids claimed but never started, including a claim still in flight.
    func drain() async -> [Int64] {
        stopping = true
        if let refilling, case .success(let jobs) = await refilling.result { buffer.append(contentsOf: jobs) }
        refilling = nil
        defer { buffer = [] }
        return buffer.map(\.message.id)
    }
}
