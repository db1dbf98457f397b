import Logging
import NetplugCore
import NIOCore
import NIOPosix
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// How the instances of resident hooks are started.
struct ResidentLaunch: Sendable {
    var workingDirectory: String
    var environment: HookEnvironment
    var timeout: Double
    var instances: Int
    var logger: Logger
    /// Told each time an instance of a family is started (the metrics count starts).
    var started: @Sendable (Family) -> Void = { _ in }
}

/// The instances of one family's resident hook, in `instances` slots. An instance serves one
/// call at a time; a slot starts its instance when a call needs it, at most once a second,
/// and again after a failure. Calls that find every instance busy wait in arrival order, and
/// a released instance goes straight to the first of them. When the file changes (inode,
/// size, mtime), every slot starts afresh and the old instances are stopped once their call
/// is answered.
final class ResidentPool: @unchecked Sendable {
    // @unchecked: everything below `launch` is guarded by `mutex`; each waiting call has a
    // condition of its own (waits have deadlines, and a hand-over wakes exactly one call),
    // which Mutex cannot do.
    let launch: ResidentLaunch
    let family: Family
    private let mutex = ParkingMutex()
    private var file: HookFile
    private var identity: FileIdentity?
    private var generation = 0
    private var slots: [Slot]
    private var waiters: [Waiter] = []
    /// Each start that failed, numbered, so that a call fails only with a start it waited for.
    private var starts = 0
    private var lastFailure: (start: Int, reason: String)?
    private var stopped = false

    private enum Slot {
        case empty(lastStart: Double)
        case starting
        case idle(ResidentInstance, lastStart: Double)
        case busy(ResidentInstance, lastStart: Double)
    }

    /// An instance held by one call, whose line `begin` has started to send.
    struct Lease {
        let instance: ResidentInstance
        let slot: Int
        let generation: Int
    }

    enum Acquired {
        case lease(Lease)
        case failed(String)
        case timedOut
    }

    /// Starts the call on the instance it gets (`ResidentInstance.begin`).
    typealias Begin = (ResidentInstance) -> Void

    /// How a call that waits without a thread learns its turn: an instance with its call
    /// begun, its deadline, or that it must go the waiting way after all (the pool must start
    /// an instance, the file changed, the host stops), which only a thread can see through.
    enum Turn {
        case lease(Lease)
        case timedOut
        case waitOnAThread
    }

    /// A call waiting for an instance: a thread parked on `wakeup`, or (with `told`) a call
    /// that waits without one.
    private final class Waiter {
        let begin: Begin
        let wakeup = ParkingCondition()
        /// Taken off the line by a release that is starting its call on an instance.
        var claimed = false
        var lease: Lease?
        let told: ((Turn) -> Void)?
        var timer: Scheduled<Void>?

        init(begin: @escaping Begin, told: ((Turn) -> Void)? = nil) {
            self.begin = begin
            self.told = told
        }
    }

    init(family: Family, file: HookFile, launch: ResidentLaunch) {
        self.family = family
        self.file = file
        self.launch = launch
        self.identity = FileIdentity(file.path)
        self.slots = Array(repeating: .empty(lastStart: -.infinity), count: launch.instances)
    }

    /// An instance for one call, started if need be, with the call begun on it; or why there
    /// is none before `deadline`.
    func acquire(_ current: HookFile, deadline: Double, begin: @escaping Begin) -> Acquired {
        let currentIdentity = FileIdentity(current.path)
        mutex.lock()
        if current != file || currentIdentity != identity {
            retireAll()
            let threadless = takeThreadlessWaiters()
            if !threadless.isEmpty {
                WorkerPool.shared.submit { for waiter in threadless { waiter.told?(.waitOnAThread) } }
            }
            file = current
            identity = currentIdentity
            launch.logger.info("resident hook \(current.name) changed: the next calls go to new instances")
        }
        let waitedFrom = starts
        var waiter: Waiter?
        while true {
            if let lease = waiter?.lease {
                mutex.unlock()
                return .lease(lease)
            }
            if let waiter, waiter.claimed {
                waiter.wakeup.wait(mutex)
                continue
            }
            if stopped {
                dequeue(waiter)
                mutex.unlock()
                return .failed("netplug-host is stopping; resident hook \(file.name) takes no more calls")
            }
            let now = HookRunner.now()
            var nextStart = Double.infinity
            var startable: Int?
            var idle: Int?
            for index in slots.indices {
                switch slots[index] {
                case .idle(let instance, let lastStart):
                    guard instance.isAlive else {
                        // It died while idle: said in the log, and replaced like any failure.
                        launch.logger.warning("resident hook \(file.name) ended while idle; a new instance serves the next call")
                        instance.stopInBackground(.kill)
                        slots[index] = .empty(lastStart: lastStart)
                        if lastStart + 1 <= now { startable = startable ?? index } else { nextStart = min(nextStart, lastStart + 1) }
                        continue
                    }
                    idle = idle ?? index
                case .empty(let lastStart):
                    if lastStart + 1 <= now { startable = startable ?? index } else { nextStart = min(nextStart, lastStart + 1) }
                case .starting, .busy:
                    break
                }
            }
            // Calls that waited longer go first.
            let first = waiter == nil ? waiters.isEmpty : waiters.first === waiter
            if let index = idle, first, case .idle(let instance, let lastStart) = slots[index] {
                slots[index] = .busy(instance, lastStart: lastStart)
                dequeue(waiter)
                mutex.unlock()
                begin(instance)
                return .lease(Lease(instance: instance, slot: index, generation: generation))
            }
            if let failure = lastFailure, failure.start > waitedFrom {
                dequeue(waiter)
                mutex.unlock()
                return .failed(failure.reason)
            }
            if let index = startable, first {
                dequeue(waiter)
                return start(slot: index, deadline: deadline, begin: begin)
            }
            if now >= deadline {
                dequeue(waiter)
                mutex.unlock()
                return .timedOut
            }
            if waiter == nil {
                let made = Waiter(begin: begin)
                waiters.append(made)
                waiter = made
            }
            wait(waiter!, until: min(deadline, nextStart))
        }
    }

    /// With the mutex held: the call leaves the line, if it was in it. The next one is now
    /// first, and may take an idle instance or a free slot.
    private func dequeue(_ waiter: Waiter?) {
        guard let waiter else { return }
        waiters.removeAll { $0 === waiter }
        if let next = waiters.first { next.wakeup.signal() }
    }

    /// An idle instance for one call, with the call begun on it, when one is ready at once and
    /// no call waits before this one; nil otherwise (the call then goes the waiting way,
    /// `acquire`). Never waits: the event loop asks.
    func tryAcquireIdle(_ current: HookFile, begin: Begin) -> Lease? {
        // Cheap refusals first: a busy pool (the usual case under load) costs no stat.
        mutex.lock()
        let anyIdle = slots.contains { if case .idle = $0 { return true } else { return false } }
        guard !stopped, waiters.isEmpty, anyIdle, current == file else {
            mutex.unlock()
            return nil
        }
        mutex.unlock()
        let currentIdentity = FileIdentity(current.path)
        mutex.lock()
        guard !stopped, waiters.isEmpty, current == file, currentIdentity == identity else {
            mutex.unlock()
            return nil
        }
        for index in slots.indices {
            guard case .idle(let instance, let lastStart) = slots[index], instance.isAlive else { continue }
            slots[index] = .busy(instance, lastStart: lastStart)
            let lease = Lease(instance: instance, slot: index, generation: generation)
            mutex.unlock()
            begin(instance)
            return lease
        }
        mutex.unlock()
        return nil
    }

    /// Puts a call in line without a thread, when every instance is busy (so that a release
    /// will come) and nothing else needs a thread; false otherwise. `told` is called once,
    /// from the thread that releases an instance, from the deadline's timer, or at once with
    /// `.waitOnAThread` when the pool changes under it.
    func waitWithoutThread(_ current: HookFile, deadline: Double, begin: @escaping Begin, told: @escaping (Turn) -> Void) -> Bool {
        let currentIdentity = FileIdentity(current.path)
        mutex.lock()
        let allBusy = slots.allSatisfy { if case .busy = $0 { return true } else { return false } }
        guard !stopped, allBusy, current == file, currentIdentity == identity else {
            mutex.unlock()
            return false
        }
        let waiter = Waiter(begin: begin, told: told)
        waiters.append(waiter)
        let left = max(0, deadline - HookRunner.now())
        waiter.timer = MultiThreadedEventLoopGroup.singleton.any().scheduleTask(in: .nanoseconds(Int64(min(left, 86400) * 1e9))) { [self] in
            mutex.lock()
            guard !waiter.claimed, waiters.contains(where: { $0 === waiter }) else { return mutex.unlock() }
            dequeue(waiter)
            mutex.unlock()
            told(.timedOut)
        }
        mutex.unlock()
        return true
    }

    /// With the mutex held: the calls waiting without a thread leave the line; the caller
    /// tells each to wait on a thread, once the mutex is released.
    private func takeThreadlessWaiters() -> [Waiter] {
        let threadless = waiters.filter { $0.told != nil }
        waiters.removeAll { $0.told != nil }
        for waiter in threadless { waiter.timer?.cancel() }
        return threadless
    }

    /// Called with the mutex held; starts the slot's instance without it.
    private func start(slot index: Int, deadline: Double, begin: Begin) -> Acquired {
        slots[index] = .starting
        let startedAt = HookRunner.now()
        let startFile = file, startGeneration = generation
        mutex.unlock()
        let result = launchInstance(startFile, deadline: deadline)
        mutex.lock()
        let current = startGeneration == generation
        switch result {
        case .success(let instance):
            if current { slots[index] = .busy(instance, lastStart: startedAt) }
            // Started from a file that changed meanwhile: it serves the call that started it,
            // and is stopped when released.
            mutex.unlock()
            begin(instance)
            return .lease(Lease(instance: instance, slot: index, generation: startGeneration))
        case .failure(let failure):
            if current { slots[index] = .empty(lastStart: startedAt) }
            starts += 1
            lastFailure = (starts, failure.reason)
            // Every call waiting for this start fails with it.
            for waiter in waiters { waiter.wakeup.signal() }
            let threadless = takeThreadlessWaiters()
            mutex.unlock()
            for waiter in threadless { waiter.told?(.waitOnAThread) }
            launch.logger.error("\(failure.reason)")
            return .failed(failure.reason)
        }
    }

    /// Gives the instance back after its call; `healthy` false when the call stopped it. A
    /// healthy instance goes to the first waiting call, whose line this thread starts to send.
    func release(_ lease: Lease, healthy: Bool) {
        mutex.lock()
        guard lease.generation == generation, !stopped,
              case .busy(let instance, let lastStart) = slots[lease.slot], instance === lease.instance else {
            mutex.unlock()
            // Retired meanwhile (the file changed, the host stops): stopped now that its call is over.
            if healthy { lease.instance.stopInBackground(.endOfInput) }
            return
        }
        guard healthy, let next = waiters.first else {
            slots[lease.slot] = healthy ? .idle(instance, lastStart: lastStart) : .empty(lastStart: lastStart)
            // A slot to start again: only a waiting thread can.
            let threadless = healthy ? [] : takeThreadlessWaiters()
            if let next = waiters.first { next.wakeup.signal() }
            mutex.unlock()
            for waiter in threadless { waiter.told?(.waitOnAThread) }
            return
        }
        waiters.removeFirst()
        next.claimed = true
        mutex.unlock()
        // The instance starts on the next call now, while that call's thread wakes up.
        next.begin(instance)
        let handedOver = Lease(instance: instance, slot: lease.slot, generation: lease.generation)
        if let told = next.told {
            next.timer?.cancel()
            return told(.lease(handedOver))
        }
        mutex.lock()
        next.lease = handedOver
        next.wakeup.signal()
        mutex.unlock()
    }

    /// The instances running now (idle or in a call): their pids and calls so far.
    func running() -> [(pid: Int32, calls: Int)] {
        mutex.lock()
        defer { mutex.unlock() }
        return slots.compactMap { slot in
            switch slot {
            case .idle(let instance, _), .busy(let instance, _): return (instance.pid, instance.callsEnded)
            default: return nil
            }
        }
    }

    /// Starts the first instance and waits until it is ready: `serve` does so before it listens.
    func startFirst() -> ResidentStartFailure? {
        let result = launchInstance(file, deadline: HookRunner.now() + launch.timeout)
        switch result {
        case .success(let instance):
            mutex.lock()
            slots[0] = .idle(instance, lastStart: HookRunner.now())
            mutex.unlock()
            return nil
        case .failure(let failure):
            return failure
        }
    }

    /// No more calls: idle instances are stopped now, busy ones when their call is answered.
    func stop() {
        mutex.lock()
        stopped = true
        retireAll()
        for waiter in waiters { waiter.wakeup.signal() }
        let threadless = takeThreadlessWaiters()
        mutex.unlock()
        for waiter in threadless { waiter.told?(.waitOnAThread) }
    }

    /// With the mutex held: every slot starts afresh; idle instances are stopped at once.
    private func retireAll() {
        generation += 1
        for slot in slots {
            if case .idle(let instance, _) = slot { instance.stopInBackground(.endOfInput) }
        }
        slots = Array(repeating: .empty(lastStart: -.infinity), count: launch.instances)
        lastFailure = nil
        if let next = waiters.first { next.wakeup.signal() }
    }

    private func wait(_ waiter: Waiter, until deadline: Double) {
        waiter.wakeup.wait(mutex, upTo: deadline - HookRunner.now())
    }

    private func launchInstance(_ file: HookFile, deadline: Double) -> Result<ResidentInstance, ResidentStartFailure> {
        launch.started(family)
        return ResidentInstance.start(file, workingDirectory: launch.workingDirectory, environment: launch.environment,
                               deadline: deadline, timeout: launch.timeout, logger: launch.logger)
    }
}

/// A file as `stat` identifies a version of it: replaced (new inode) or rewritten (size, mtime).
struct FileIdentity: Equatable {
    var device: UInt
    var inode: UInt
    var size: Int
    var modified: timespec

    init?(_ path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        device = UInt(info.st_dev)
        inode = UInt(info.st_ino)
        size = Int(info.st_size)
        modified = info.st_mtim
    }

    static func == (a: FileIdentity, b: FileIdentity) -> Bool {
        a.device == b.device && a.inode == b.inode && a.size == b.size
            && a.modified.tv_sec == b.modified.tv_sec && a.modified.tv_nsec == b.modified.tv_nsec
    }
}

/// The resident hooks of a folder: one pool per family that has a resident file.
final class ResidentHooks: Sendable {
    let launch: ResidentLaunch
    private let pools = Mutex<[Family: ResidentPool]>([:])

    init(launch: ResidentLaunch) {
        self.launch = launch
    }

    /// The family's pool, made on its first call.
    func pool(_ family: Family, file: HookFile) -> ResidentPool {
        pools.withLock { pools in
            if let pool = pools[family] { return pool }
            let pool = ResidentPool(family: family, file: file, launch: launch)
            pools[family] = pool
            return pool
        }
    }

    /// The family's resident file is gone: its methods fall back to hook files and defaults,
    /// and its instances are stopped.
    func fileGone(_ family: Family) {
        let pool = pools.withLock { $0.removeValue(forKey: family) }
        if let pool {
            launch.logger.info("the \(family.rawValue) resident hook was removed: its methods go to hook files and defaults, and its instances are stopped")
            pool.stop()
        }
    }

    /// Every running instance, by family.
    func running() -> [ResidentReport] {
        let all = pools.withLock { $0.sorted { $0.key.rawValue < $1.key.rawValue } }
        return all.flatMap { family, pool in pool.running().map { ResidentReport(family: family, pid: $0.pid, calls: $0.calls) } }
    }

    /// Stops every instance and waits until none is left (up to `seconds`).
    func stopAll(upTo seconds: Double) -> Bool {
        // The pools stay, stopped: a call that comes after this is refused, not served.
        let all = pools.withLock { Array($0.values) }
        for pool in all { pool.stop() }
        return ResidentInstances.live.waitUntilNone(upTo: seconds)
    }
}
