import Synchronization

/// Counts work in flight (calls being answered, record files being written) and lets a
/// shutdown wait until none is left, up to a bound: woken by the last one to leave, never by
/// polling.
package final class InFlight: Sendable {
    private struct State {
        var count = 0
        var waiters: [Int: CheckedContinuation<Bool, Never>] = [:]
        /// Waiters whose deadline passed before they were registered.
        var expired: Set<Int> = []
        var nextWaiter = 0
    }

    private let state = Mutex(State())

    package init() {}

    package var count: Int { state.withLock { $0.count } }

    package func enter() { state.withLock { $0.count += 1 } }

    package func leave() {
        let woken = state.withLock { state -> [CheckedContinuation<Bool, Never>] in
            state.count -= 1
            guard state.count == 0 else { return [] }
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in woken { waiter.resume(returning: true) }
    }

    /// True once nothing is in flight; false when `seconds` pass first.
    package func waitUntilIdle(upTo seconds: Double) async -> Bool {
        let id = state.withLock { state -> Int? in
            guard state.count > 0 else { return nil }
            state.nextWaiter += 1
            return state.nextWaiter
        }
        guard let id else { return true }
        let deadline = Task {
            try? await Task.sleep(nanoseconds: UInt64(max(0, seconds) * 1e9))
            let expired = self.state.withLock { state -> CheckedContinuation<Bool, Never>? in
                guard let waiter = state.waiters.removeValue(forKey: id) else {
                    state.expired.insert(id)
                    return nil
                }
                return waiter
            }
            expired?.resume(returning: false)
        }
        defer { deadline.cancel() }
        return await withCheckedContinuation { continuation in
            let now = state.withLock { state -> Bool? in
                guard state.count > 0 else { return true }
                if state.expired.remove(id) != nil { return false }
                state.waiters[id] = continuation
                return nil
            }
            if let now { continuation.resume(returning: now) }
        }
    }
}
