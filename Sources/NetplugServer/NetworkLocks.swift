/// Calls that name the same network run one at a time, in the order they arrived;
/// calls on different networks do not wait for each other.
actor NetworkLocks {
    private var queues: [String: [CheckedContinuation<Void, Never>]] = [:]

    func acquire(_ network: String) async {
        if queues[network] == nil {
            queues[network] = []
            return
        }
        await withCheckedContinuation { queues[network]!.append($0) }
    }

    func release(_ network: String) {
        guard var waiting = queues[network] else { return }
        if waiting.isEmpty {
            queues[network] = nil
        } else {
            let next = waiting.removeFirst()
            queues[network] = waiting
            next.resume()
        }
    }

    func withLock<T: Sendable>(_ network: String?, _ body: @Sendable () async -> T) async -> T {
        guard let network else { return await body() }
        await acquire(network)
        let result = await body()
        release(network)
        return result
    }
}
