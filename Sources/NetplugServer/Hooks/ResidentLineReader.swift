import NIOCore
import NIOPosix
import Synchronization

/// How waiting for a resident instance's next line ended.
enum LineRead {
    case line([UInt8])
    case exited(String)
    case timedOut
    case tooLong
    case closed
}

/// Reads a resident instance's stdout as events on an event loop: no thread waits in `poll` for
/// it. Complete lines go to the call waiting for one (`next`, which any thread may call: the
/// state is under a lock, so that a call begun on a worker needs no hop to register); end of
/// file, a line over the limit, the process's exit and the call's deadline end that wait.
/// A delivery runs on the thread that completes it, never under the lock.
final class ResidentLineReader: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer

    let loop: EventLoop
    private let limit: Int
    private let state: Mutex<State>
    /// Says, off the event loop (it may wait up to a second), how the instance ended once its
    /// stdout closed: `.exited(...)` or `.closed`.
    private let explainEnd: @Sendable (_ deliver: @escaping @Sendable (LineRead) -> Void) -> Void

    private struct State: @unchecked Sendable {
        // @unchecked: the scheduled task is only cancelled, under the lock.
        /// Bytes after the last complete line.
        var partial: [UInt8]
        /// Lines that came while no call waited (a protocol break the next call will see).
        var lines: [[UInt8]] = []
        var waiting: (@Sendable (LineRead) -> Void)?
        var deadline: Scheduled<Void>?
        /// Why no line can come any more, once known.
        var ended: LineRead?
        var endOfFile = false
        var explaining = false
    }

    init(loop: EventLoop, limit: Int, leftover: [UInt8], explainEnd: @escaping @Sendable (_ deliver: @escaping @Sendable (LineRead) -> Void) -> Void) {
        self.loop = loop
        self.limit = limit
        self.state = Mutex(State(partial: leftover))
        self.explainEnd = explainEnd
    }

    /// Delivers the next line, or why there is none before `deadline`, exactly once.
    func next(deadline when: Double, _ deliver: @escaping @Sendable (LineRead) -> Void) {
        enum Now { case deliver(LineRead), wait(explain: Bool) }
        let now: Now = state.withLock { state in
            if !state.lines.isEmpty { return .deliver(.line(state.lines.removeFirst())) }
            if let ended = state.ended { return .deliver(ended) }
            state.waiting = deliver
            let left = max(0, when - HookRunner.now())
            state.deadline = loop.scheduleTask(in: .nanoseconds(Int64(min(left, 86400) * 1e9))) { [self] in
                self.end(.timedOut, final: false)
            }
            let explain = state.endOfFile && !state.explaining
            if explain { state.explaining = true }
            return .wait(explain: explain)
        }
        switch now {
        case .deliver(let read): deliver(read)
        case .wait(let explain): if explain { askHowItEnded() }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        var deliveries: [(@Sendable (LineRead) -> Void, LineRead)] = []
        let tooLong = state.withLock { state -> Bool in
            state.partial.append(contentsOf: buffer.readableBytesView)
            while let newline = state.partial.firstIndex(of: 0x0A) {
                let line = Array(state.partial[..<newline])
                state.partial.removeSubrange(...newline)
                if let deliver = ResidentLineReader.take(&state) { deliveries.append((deliver, .line(line))) } else { state.lines.append(line) }
            }
            return state.partial.count > limit
        }
        for (deliver, read) in deliveries { deliver(read) }
        if tooLong { end(.tooLong, final: true) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        let explain = state.withLock { state -> Bool in
            state.endOfFile = true
            guard state.waiting != nil, !state.explaining else { return false }
            state.explaining = true
            return true
        }
        if explain { askHowItEnded() }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }

    /// The process exited (its pidfd said so) while its stdout may stay open, held by a child
    /// it left: a call waiting for a line gets the exit, after what is already in the pipe.
    func processExited(_ text: String) {
        // Whatever it wrote before exiting is read first: the loop reads a readable pipe
        // before it runs a task scheduled for later.
        _ = loop.scheduleTask(in: .milliseconds(20)) { [self] in
            if state.withLock({ $0.waiting != nil && $0.ended == nil }) { end(.exited(text), final: true) }
        }
    }

    private func askHowItEnded() {
        explainEnd { [self] read in self.end(read, final: true) }
    }

    private static func take(_ state: inout State) -> (@Sendable (LineRead) -> Void)? {
        guard let deliver = state.waiting else { return nil }
        state.waiting = nil
        state.deadline?.cancel()
        state.deadline = nil
        return deliver
    }

    private func end(_ read: LineRead, final: Bool) {
        let deliver = state.withLock { state -> (@Sendable (LineRead) -> Void)? in
            if final, state.ended == nil { state.ended = read }
            return ResidentLineReader.take(&state)
        }
        deliver?(read)
    }
}
