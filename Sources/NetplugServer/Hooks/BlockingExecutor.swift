/// The one executor for work that blocks a thread: starting a hook and waiting for it, writing
/// a record with fsync. Its jobs run on the worker pool, never on an event loop or Swift's
/// cooperative pool. Every call that is not answered on the event loop runs as a task that
/// prefers this executor, so a backend's `serve` may block where it must.
package final class BlockingExecutor: TaskExecutor {
    package static let shared = BlockingExecutor()

    package func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        WorkerPool.shared.submit { job.runSynchronously(on: executor) }
    }
}
