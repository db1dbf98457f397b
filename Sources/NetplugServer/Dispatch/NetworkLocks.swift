import NIOConcurrencyHelpers

/// Calls that name the same network run one at a time, in the order they arrived; calls on
/// different networks do not wait for each other. A job runs on a worker thread (in the
/// pool's two parts) and must call `release` when it is done, which starts the next job for
/// that network.
final class NetworkLocks: Sendable {
    /// A network is busy while it has an entry; the entry lists the jobs waiting for it.
    typealias Job = @Sendable () -> (() -> Void)
    private let waiting = NIOLockedValueBox([String: [Job]]())

    /// Takes the network if nobody holds it (for answers given at once, on the event loop).
    func tryAcquire(_ network: String?) -> Bool {
        guard let network else { return true }
        return waiting.withLockedValue { queues in
            guard queues[network] == nil else { return false }
            queues[network] = []
            return true
        }
    }

    /// Runs `job` on a worker thread once the network is free.
    func enqueue(_ network: String?, _ job: @escaping Job) {
        guard let network else { return WorkerPool.shared.submitAnswering(job) }
        let runNow = waiting.withLockedValue { queues -> Bool in
            if queues[network] == nil {
                queues[network] = []
                return true
            }
            queues[network]!.append(job)
            return false
        }
        if runNow { WorkerPool.shared.submitAnswering(job) }
    }

    func release(_ network: String?) {
        guard let network else { return }
        let next = waiting.withLockedValue { queues -> Job? in
            guard var jobs = queues[network], !jobs.isEmpty else {
                queues[network] = nil
                return nil
            }
            let job = jobs.removeFirst()
            queues[network] = jobs
            return job
        }
        if let next { WorkerPool.shared.submitAnswering(next) }
    }
}
