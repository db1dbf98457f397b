import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A pthread mutex at a stable address: a `pthread_mutex_t` kept in a Swift `var` may be
/// moved, which POSIX forbids once it is in use.
final class ParkingMutex: @unchecked Sendable {
    // @unchecked: the pointer never changes, and the mutex is what makes its users safe.
    let pointer = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    init() { pthread_mutex_init(pointer, nil) }

    func lock() { pthread_mutex_lock(pointer) }
    func unlock() { pthread_mutex_unlock(pointer) }

    deinit {
        pthread_mutex_destroy(pointer)
        pointer.deallocate()
    }
}

/// A condition variable at a stable address, whose timed waits run on the monotonic clock: a
/// step of the wall clock (NTP, a user) neither cuts a wait short nor stretches it.
final class ParkingCondition: @unchecked Sendable {
    // @unchecked: as ParkingMutex.
    let pointer = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    init() {
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(pointer, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    func signal() { pthread_cond_signal(pointer) }
    func broadcast() { pthread_cond_broadcast(pointer) }
    func wait(_ mutex: ParkingMutex) { pthread_cond_wait(pointer, mutex.pointer) }

    /// Waits at most `seconds` (at most a day); false when the time ran out.
    @discardableResult
    func wait(_ mutex: ParkingMutex, upTo seconds: Double) -> Bool {
        var until = ParkingCondition.monotonic(in: seconds)
        return pthread_cond_timedwait(pointer, mutex.pointer, &until) != ETIMEDOUT
    }

    /// The monotonic moment `seconds` from now, as pthread_cond_timedwait wants it.
    static func monotonic(in seconds: Double) -> timespec {
        let seconds = min(max(0, seconds), 86400)
        var until = timespec()
        clock_gettime(CLOCK_MONOTONIC, &until)
        let whole = seconds.rounded(.down)
        until.tv_sec += Int(whole)
        until.tv_nsec += Int((seconds - whole) * 1e9)
        if until.tv_nsec >= 1_000_000_000 { until.tv_sec += 1; until.tv_nsec -= 1_000_000_000 }
        return until
    }

    deinit {
        pthread_cond_destroy(pointer)
        pointer.deallocate()
    }
}

/// Blocks the calling thread (a worker, never an event loop) until `start` delivers a value
/// through the callback it is given, from whichever thread, at once or later.
func waitForCallback<T: Sendable>(_ start: (@escaping @Sendable (T) -> Void) -> Void) -> T {
    let done = Mutex<T?>(nil)
    let mutex = ParkingMutex(), delivered = ParkingCondition()
    start { value in
        mutex.lock()
        done.withLock { $0 = value }
        delivered.signal()
        mutex.unlock()
    }
    mutex.lock()
    while done.withLock({ $0 }) == nil { delivered.wait(mutex) }
    mutex.unlock()
    return done.withLock { $0 }!
}
