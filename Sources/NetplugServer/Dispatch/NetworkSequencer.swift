import Synchronization

/// Calls that name the same network run one at a time, in the order they arrived; calls on
/// different networks do not wait for each other. Arrival is taken on the event loop (`arrive`),
/// where requests are read in order; the wait for a turn is a suspended continuation, resumed
/// by `leave` of the call before.
package final class NetworkSequencer: Sendable {
    package enum Turn: Sendable {
        /// The network was free and is now this call's.
        case now
        /// Behind other calls: `wait` for this ticket.
        case later(Int)
    }

    private struct Line {
        var tickets: [Int] = []
        var waiting: [Int: CheckedContinuation<Void, Never>] = [:]
        /// Tickets whose turn came before they started waiting.
        var granted: Set<Int> = []
    }

    private struct State {
        var lines: [String: Line] = [:]
        var nextTicket = 0
    }

    private let state = Mutex(State())

    package init() {}

    /// Takes the network if it is free, else a place in its line. Calls without a network never wait.
    package func arrive(_ network: String?) -> Turn {
        guard let network else { return .now }
        return state.withLock { state in
            guard state.lines[network] != nil else {
                state.lines[network] = Line()
                return .now
            }
            state.nextTicket += 1
            state.lines[network]!.tickets.append(state.nextTicket)
            return .later(state.nextTicket)
        }
    }

    /// Returns when the ticket's turn has come.
    package func wait(_ ticket: Int, on network: String) async {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> Bool in
                if state.lines[network]?.granted.remove(ticket) != nil { return true }
                state.lines[network]?.waiting[ticket] = continuation
                return false
            }
            if ready { continuation.resume() }
        }
    }

    /// The call holding the network is done: the next in line goes, or the network is free.
    package func leave(_ network: String?) {
        guard let network else { return }
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard var line = state.lines[network], !line.tickets.isEmpty else {
                state.lines[network] = nil
                return nil
            }
            let ticket = line.tickets.removeFirst()
            let continuation = line.waiting.removeValue(forKey: ticket)
            if continuation == nil { line.granted.insert(ticket) }
            state.lines[network] = line
            return continuation
        }
        next?.resume()
    }
}
