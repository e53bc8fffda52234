import Foundation
import Logging
import ServiceLifecycle

/// The workers that send queued messages, run as a service in the app's service group:
/// SIGTERM stops claiming, lets in-flight sends finish, records them and hands back the rest.
public final class SendWorkerPool: Service, Sendable {
    let queue: SendQueue
    let provider: any SMSProvider
    let config: SendingConfig
    let metrics: AppMetrics
    let logger: Logger
    let policy: RetryPolicy
    let throttle: SendThrottle
    /// How long an idle worker waits before asking the queue again.
    let idleWait: Duration
    /// The operator's switch; nil in tests that never pause.
    let pause: SendingPause?

    public init(database: any AppStore, provider: any SMSProvider, config: SendingConfig, metrics: AppMetrics, logger: Logger,
                idleWait: Duration = .milliseconds(100), pause: SendingPause? = nil) {
        self.pause = pause
        queue = SendQueue(database: database)
        self.provider = provider
        self.config = config
        self.metrics = metrics
        self.logger = logger
        policy = RetryPolicy(config)
        throttle = SendThrottle(segmentsPerSecond: config.segmentsPerSecond)
        self.idleWait = idleWait
        metrics.prepareSending(provider: provider.name, sender: config.sender)
    }

    public func run() async throws {
        // Alive before the first claim: a shared engine's other replicas would take a claim of
        // a run with no heartbeat for a dead one's.
        try await queue.heartbeat()
        try await recover()
        let workers = max(1, config.workers)
        // Claim no more than about two seconds' worth when throttled, so what the API shows as
        // `sending` is close to what is really on its way.
        var claimSize = min(500, max(32, workers * 8))
        if config.segmentsPerSecond > 0 { claimSize = max(workers, min(claimSize, Int(config.segmentsPerSecond * 2))) }
        let source = JobSource(queue: queue, metrics: metrics, logger: logger, batchSize: claimSize, idleWait: idleWait,
                               paused: { [pause] in pause?.isPaused ?? false })
        let recorder = StatusRecorder(queue: queue, metrics: metrics, logger: logger)
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<workers {
                    group.addTask { await self.work(source: source, recorder: recorder) }
                }
                group.addTask {
                    while await !source.stopping, !Task.isCancelled {
                        try? await Task.sleep(for: .milliseconds(20))
                        await recorder.flush()
                    }
                }
                if let interval = queue.recoveryInterval {
                    group.addTask { await self.keepRecovering(every: interval, until: source) }
                }
            }
        } onGracefulShutdown: {
            Task { await source.stop() }
        }
        let unstarted = await source.drain()
        await recorder.flush()
        do {
            try await queue.release(unstarted)
        } catch {
            logger.error("cannot release unsent claims; they will be looked up at the next start", metadata: ["error": "\(error)"])
        }
        await provider.shutdown()
        logger.info("sending stopped", metadata: ["released": "\(unstarted.count)"])
    }

    /// Hands messages claimed by dead runs back, in doubt, and says how many.
    private func recover() async throws {
        let recovered = try await queue.recoverInDoubt()
        if recovered > 0 {
            logger.warning("messages left sending by an earlier or dead run are in doubt; looking them up before resending",
                           metadata: ["count": "\(recovered)", "provider": "\(provider.name)"])
        }
    }

    /// On a shared engine: heartbeats, so other replicas do not take this run for dead, and
    /// recovers the claims of replicas that died, so none waits for a restart.
    private func keepRecovering(every interval: Duration, until source: JobSource) async {
        var next = ContinuousClock.now + interval
        while await !source.stopping, !Task.isCancelled {
            // Short naps, so a shutdown is not held up by a whole interval.
            try? await Task.sleep(for: .milliseconds(200))
            guard ContinuousClock.now >= next else { continue }
            next = ContinuousClock.now + interval
            do {
                try await queue.heartbeat()
                try await recover()
            } catch {
                logger.error("cannot heartbeat or recover dead runs' claims; will retry", metadata: ["error": "\(error)"])
            }
        }
    }

    private func work(source: JobSource, recorder: StatusRecorder) async {
        while await !source.stopping, !Task.isCancelled {
            guard let job = await source.next() else {
                try? await Task.sleep(for: idleWait)
                continue
            }
            await recorder.add(await send(job))
        }
    }

    /// One attempt at one message, or a lookup when an earlier attempt may have got through.
    func send(_ job: SendQueue.Job) async -> SendQueue.Outcome {
        let message = job.message
        if job.inDoubt {
            do {
                if let found = try await provider.lookup(message) {
                    logger.info("found an in-doubt message at the provider; not resending",
                                metadata: ["message_id": "\(message.id)", "provider_id": "\(found.providerID)"])
                    return .accepted(id: message.id, providerID: found.providerID, status: found.status, attempted: false)
                }
            } catch {
                // Asking failed: wait and ask again rather than risk a second copy.
                let wait = policy.delay(afterAttempts: max(1, job.attempts), ageSeconds: age(message), retryAfter: nil) ?? policy.baseSeconds
                return .retry(id: message.id, at: Date().addingTimeInterval(wait), code: "lookup", reason: "\(error)", inDoubt: true, attempted: false)
            }
        }
        let wait = await throttle.reserve(sender: config.sender, segments: message.segments)
        defer { metrics.sendActivity.leave(message.id) }
        if wait > .zero {
            metrics.throttled(sender: config.sender, seconds: wait.seconds)
            metrics.sendActivity.enter(message.id, .throttled)
            try? await Task.sleep(for: wait)
        }
        metrics.sendActivity.enter(message.id, .atProvider)
        let started = ContinuousClock.now
        let result = await provider.send(message)
        let seconds = (ContinuousClock.now - started).seconds
        let attempts = job.attempts + 1
        switch result {
        case let .accepted(providerID, status):
            metrics.sendAttempted(provider: provider.name, outcome: "success", retry: job.attempts > 0, seconds: seconds)
            return .accepted(id: message.id, providerID: providerID, status: status, attempted: true)
        case let .permanent(code, reason):
            metrics.sendAttempted(provider: provider.name, outcome: "permanent", retry: job.attempts > 0, seconds: seconds)
            return .failed(id: message.id, code: code, reason: reason)
        case let .retryable(code, reason, retryAfter, ambiguous):
            metrics.sendAttempted(provider: provider.name, outcome: "retryable", retry: job.attempts > 0, seconds: seconds)
            guard let delay = policy.delay(afterAttempts: attempts, ageSeconds: age(message), retryAfter: retryAfter) else {
                return .failed(id: message.id, code: code, reason: "\(reason) (gave up after \(attempts) attempt\(attempts == 1 ? "" : "s"))")
            }
            return .retry(id: message.id, at: Date().addingTimeInterval(delay), code: code, reason: reason, inDoubt: ambiguous, attempted: true)
        }
    }

    private func age(_ message: OutgoingMessage) -> Double {
        Date().timeIntervalSince(message.queuedAt)
    }
}
