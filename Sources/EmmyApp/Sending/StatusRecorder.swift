import Logging

/// Collects send outcomes and writes them in batches (every few milliseconds or every few
/// hundred outcomes), so workers never wait on SQLite one message at a time.
actor StatusRecorder {
    private let queue: SendQueue
    private let metrics: AppMetrics
    private let logger: Logger
    private let batchSize: Int
    private var pending: [SendQueue.Outcome] = []

    init(queue: SendQueue, metrics: AppMetrics, logger: Logger, batchSize: Int = 500) {
        self.queue = queue
        self.metrics = metrics
        self.logger = logger
        self.batchSize = batchSize
    }

    func add(_ outcome: SendQueue.Outcome) async {
        pending.append(outcome)
        if pending.count >= batchSize { await flush() }
    }

    /// Writes what is pending; on a database error keeps it for the next flush.
    func flush() async {
        guard !pending.isEmpty else { return }
        let batch = pending
        pending = []
        do {
            metrics.messagesEntered(try await queue.record(batch))
        } catch {
            logger.error("cannot record send outcomes; will retry", metadata: ["count": "\(batch.count)", "error": "\(error)"])
            pending = batch + pending
        }
    }
}
