#if canImport(Glibc)
import Glibc
#endif

/// Threads that may block (waiting on a hook) so that neither an event loop nor Swift's
/// cooperative pool ever does. It grows to whatever is running at once, as Go's
/// scheduler does for blocking syscalls, and idle threads leave after a while.
final class WorkerPool: @unchecked Sendable {
    // @unchecked: every field is guarded by `mutex`.
    static let shared = WorkerPool()

    private let mutex = ParkingMutex()
    private let wakeup = ParkingCondition()
    /// A job is in two parts: what may block, then (returned by it) what answers. The worker
    /// counts itself free before the second part: the answer lets a client send its next call
    /// at once, and that call must find this worker free rather than start another thread.
    typealias Job = () -> (() -> Void)
    private var jobs: [Job] = []
    private var idle = 0
    private let idleSeconds = 30

    private init() {
    }

    /// Answers that the job running on this worker thread left for after it (afterThisJob).
    private final class Deferred {
        var actions: [() -> Void] = []
    }

    private static let deferredKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    /// On a worker, runs `action` once the current job is over and the worker counts as free
    /// (an answer lets the client send its next call at once, and that call must find this
    /// worker free rather than start another thread); anywhere else, at once.
    static func afterThisJob(_ action: @escaping () -> Void) {
        guard let raw = pthread_getspecific(deferredKey) else { return action() }
        Unmanaged<Deferred>.fromOpaque(raw).takeUnretainedValue().actions.append(action)
    }

    func submit(_ job: @escaping () -> Void) {
        submitAnswering { job(); return {} }
    }

    /// `job` runs on a worker and returns the answering part, run once the worker counts as free.
    func submitAnswering(_ job: @escaping Job) {
        mutex.lock()
        jobs.append(job)
        let needThread = idle < jobs.count
        if needThread { idle += 1 }  // counted at once, so a burst starts one thread per job
        mutex.unlock()
        // Signalled after unlocking: a waiter woken with the mutex still held would only go
        // back to sleep on it, two more context switches per call.
        wakeup.signal()
        if needThread { startThread() }
    }

    private func startThread() {
        let box = Unmanaged.passRetained(self)
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        pthread_attr_setstacksize(&attributes, 512 * 1024)
        var thread = pthread_t()
        let rc = pthread_create(&thread, &attributes, { argument in
            let pool = Unmanaged<WorkerPool>.fromOpaque(argument!).takeRetainedValue()
            pool.work()
            return nil
        }, box.toOpaque())
        pthread_attr_destroy(&attributes)
        if rc != 0 {
            box.release()
            fatalError("cannot start a worker thread: \(String(cString: strerror(rc)))")
        }
    }

    private func work() {
        Scheduling.batchThisThread()
        let deferred = Deferred()
        pthread_setspecific(WorkerPool.deferredKey, Unmanaged.passUnretained(deferred).toOpaque())
        defer { pthread_setspecific(WorkerPool.deferredKey, nil) }
        mutex.lock()
        while true {
            if !jobs.isEmpty {
                let job = jobs.removeFirst()
                idle -= 1
                mutex.unlock()
                let answer = job()
                let later = deferred.actions
                deferred.actions = []
                mutex.lock()
                idle += 1
                mutex.unlock()
                answer()
                for action in later { action() }
                mutex.lock()
                continue
            }
            if !wakeup.wait(mutex, upTo: Double(idleSeconds)) && jobs.isEmpty {
                idle -= 1
                mutex.unlock()
                return
            }
        }
    }
}
