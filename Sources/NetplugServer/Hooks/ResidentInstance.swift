import CSpawn
import Logging
import NetplugCore
import NIOCore
import NIOPosix
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// What a resident instance made of one call.
enum ResidentReply {
    /// `{"id": N, "answer": {...}}`: read as a hook's stdout object would be.
    case answer(JSON)
    /// `{"id": N, "error": "text"}`.
    case error(String)
    /// `{"id": N}` alone: the method's default.
    case useDefault
    /// The instance failed the call and is being stopped; the text is the 500's.
    case failed(String)
    case timedOut
}

/// One running process of a resident hook: its pipes, the JSON lines it writes, its stop.
/// The call that holds it (the pool hands it to one call at a time) writes its line without
/// waiting; the answer line is read as an event on an event loop (`ResidentLineReader`), so
/// no thread waits for it. stderr is read by a job of its own, which also sees the process
/// exit, so that what the instance says while idle is logged too, and its last lines are at
/// hand when it fails.
final class ResidentInstance: @unchecked Sendable {
    // @unchecked: the pid and descriptors never change; `pending` and `nextID` belong to the
    // one call holding the instance; `output` and `stopping` are Mutexes.
    let file: HookFile
    let pid: pid_t
    private let stdinFD: Int32, stdoutFD: Int32, pidFD: Int32
    /// Bytes of stdout after the last line read.
    private var pending: [UInt8] = []
    private var nextID = 1
    /// The call line being sent, and how much of it the pipe has taken.
    private var outgoing: [UInt8] = []
    private var outgoingSent = 0
    private var currentID = 0
    private let output: Mutex<StderrState>
    private let stopping = Mutex(false)
    /// Calls this instance has ended, answered or not (`status`).
    private let ended = Atomic<Int>(0)
    var callsEnded: Int { ended.load(ordering: .relaxed) }
    /// stdout as events, from the ready line on; it owns stdout's descriptor from then. Set
    /// once, before the instance serves a call; the stderr job asks for it under a lock.
    private var reader: ResidentLineReader? {
        get { attached.withLock { $0.reader } }
        set { attached.withLock { $0.reader = newValue } }
    }
    private var readerChannel: Channel? {
        get { attached.withLock { $0.channel } }
        set { attached.withLock { $0.channel = newValue } }
    }
    private struct Attached: @unchecked Sendable {
        // @unchecked: both are thread-safe objects, set once.
        var reader: ResidentLineReader?
        var channel: Channel?
    }
    private let attached = Mutex(Attached())

    private func readerWhenAttached() -> ResidentLineReader? { reader }
    private let logger: Logger
    static let lineLimit = Outcome.stdoutLimit
    /// Read buffers, made once: stdout's for the call holding the instance, stderr's used
    /// under `output`'s lock.
    private let stdoutScratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 65536, alignment: 8)
    private let stderrScratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 16384, alignment: 8)

    private struct StderrState {
        var fd: Int32
        var atEnd = false
        var partial: [UInt8] = []
        /// Lines written during the call in flight; logged under it (`Served.stderr`).
        var inCall = false
        var callLines: [UInt8] = []
        /// The last lines, for the messages that say why the instance failed.
        var recent: [String] = []
    }

    private init(file: HookFile, child: netplug_child, logger: Logger) {
        self.file = file
        self.pid = child.pid
        self.stdinFD = child.stdin_fd
        self.stdoutFD = child.stdout_fd
        self.pidFD = child.pid_fd
        self.output = Mutex(StderrState(fd: child.stderr_fd))
        self.logger = logger
    }

    deinit {
        stdoutScratch.deallocate()
        stderrScratch.deallocate()
    }

    /// Starts the file with argv `PATH resident`, in its own process group, as a hook is
    /// started, and waits for its ready line. Returns the instance, or why it cannot serve
    /// (it is stopped then).
    static func start(_ file: HookFile, workingDirectory: String, environment: HookEnvironment, deadline: Double,
                      timeout: Double, logger: Logger) -> Result<ResidentInstance, ResidentStartFailure> {
        var child = netplug_child()
        var rc: Int32 = 0
        OrphanReaper.spawning {
            rc = withCStringArray([file.path, "resident"]) { argv in
                environment.withPointers { envp in
                    netplug_spawn_resident(file.path, argv, envp, workingDirectory, &child)
                }
            }
            return rc == 0 ? child.pid : nil
        }
        if rc != 0 {
            return .failure(ResidentStartFailure(reason: "resident hook \(file.name) could not be started: \(errnoText(rc))"))
        }
        let instance = ResidentInstance(file: file, child: child, logger: logger)
        WorkerPool.shared.submit { instance.readStderr() }
        var problem = instance.awaitReady(deadline: deadline, timeout: timeout)
        if problem == nil { problem = instance.attachReader() }
        if let problem {
            let lines = instance.recentStderr()
            instance.stopInBackground(.terminate)
            var reason = problem
            if let last = lines.last { reason += ": \(last)" }
            return .failure(ResidentStartFailure(reason: reason, stderr: lines))
        }
        return .success(instance)
    }

    /// From the ready line on, stdout is read on an event loop. Called on a worker (it waits
    /// for the channel); nil, or why it could not be.
    private func attachReader() -> String? {
        let loop = MultiThreadedEventLoopGroup.singleton.any()
        let leftover = pending
        pending = []
        let reader = ResidentLineReader(loop: loop, limit: ResidentInstance.lineLimit, leftover: leftover) { [self] deliver in
            // End of file: it is on its way out, or it closed stdout and stays; either way it
            // can answer no more. Its status says more, when it comes within a second.
            WorkerPool.shared.submit {
                deliver(self.waitForExit(upTo: 1) ? .exited(self.exitText()) : .closed)
            }
        }
        do {
            readerChannel = try NIOPipeBootstrap(group: loop)
                .channelInitializer { channel in channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(reader) } }
                .takingOwnershipOfDescriptor(input: stdoutFD).wait()
        } catch {
            return "resident hook \(file.name) could not be read: \(error)"
        }
        self.reader = reader
        return nil
    }

    /// nil once the first line is `{"netplug": 1}`; else what went wrong.
    private func awaitReady(deadline: Double, timeout: Double) -> String? {
        switch readLine(deadline: deadline) {
        case .line(let bytes):
            if let value = try? JSON.parse(bytes), value.isObject, value["netplug"]?.integer == 1, value.members.count == 1 {
                return nil
            }
            return "resident hook \(file.name) is not ready: its first line must be {\"netplug\": 1}, but it wrote \(quoted(bytes))"
        case .exited(let status):
            return "resident hook \(file.name) \(status) before it was ready"
        case .timedOut:
            return "resident hook \(file.name) was not ready within \(Outcome.formatSeconds(timeout)) s (its first line must be {\"netplug\": 1})"
        case .tooLong:
            return "resident hook \(file.name) is not ready: its first line is over 1 MiB"
        case .closed:
            return "resident hook \(file.name) closed its stdout before it was ready"
        }
    }

    /// Starts one call: its line is written as far as the pipe takes it now, without waiting.
    /// The thread that hands the instance over may do this for the call that gets it, so
    /// that the instance works while that call's thread wakes up; `finish` does the rest.
    func begin(method: String, request: JSON, environment: [(name: String, value: String)]) {
        currentID = nextID
        nextID += 1
        let env = JSON.object()
        for (key, value) in environment { env.set(key, .string(value)) }
        let message = JSON.object(["id": .integer(currentID), "method": .string(method), "request": request, "env": env])
        outgoing = message.bytes + [0x0A]
        outgoingSent = 0
        output.withLock { state in
            state.inCall = true
            state.callLines = []
        }
        _ = send(waitingUntil: nil)  // a full pipe, or a failure: `finish` sees to it
    }

    /// Ends the call `begin` started: the rest of its line, then the answer line, read on the
    /// reader's event loop; `complete` is called exactly once, there (or at once, on this
    /// thread, when the answer is already in). A reply that breaks the
    /// protocol stops the instance (`.failed`); so does a timeout, after which the caller
    /// answers at once. Nothing here waits, unless the call line did not fit in the pipe:
    /// then the rest of it is written from a worker.
    func finish(deadline: Double, complete: @escaping @Sendable (ResidentReply) -> Void) {
        guard let reader else { return complete(fail("has no reader")) }
        let id = currentID
        let readAnswer: @Sendable () -> Void = { [self] in
            reader.next(deadline: deadline) { read in complete(self.reply(to: id, read)) }
        }
        if outgoingSent == outgoing.count { return readAnswer() }
        WorkerPool.shared.submit { [self] in
            if let problem = send(waitingUntil: deadline) { return complete(problem) }
            readAnswer()
        }
    }

    /// What a line (or its absence) says about call `id`.
    private func reply(to id: Int, _ read: LineRead) -> ResidentReply {
        let line: [UInt8]
        switch read {
        case .line(let bytes): line = bytes
        case .timedOut:
            stopInBackground(.terminate)
            return .timedOut
        case .exited(let status): return failedAfterExit(status)
        case .closed: return fail("closed its stdout")
        case .tooLong: return fail("wrote a line over 1 MiB")
        }
        guard let reply = try? JSON.parse(line), reply.isObject else {
            return fail("wrote \(quoted(line)), which is not a JSON object")
        }
        guard let replyID = reply["id"], replyID.integer == id else {
            return fail("answered call \(id) with id \(reply["id"]?.text ?? "missing"): \(quoted(line))")
        }
        if let error = reply["error"] {
            if let text = error.string, !text.isEmpty { return .error(text) }
            return .error("resident hook \(file.name) answered with error \(error.text)")
        }
        if let answer = reply["answer"] { return .answer(answer) }
        return .useDefault
    }

    /// What the instance wrote on stderr during the call; the instance counts as idle again.
    func endCall() -> [UInt8] {
        ended.add(1, ordering: .relaxed)
        return output.withLock { state in
            let idleLines = drain(&state)
            state.inCall = false
            let lines = state.callLines
            state.callLines = []
            log(idleLines)
            return lines
        }
    }

    /// Whether the process still runs (it may have died while idle).
    var isAlive: Bool { !hasExited() }

    /// Without a pidfd (kernels before 5.3), whether it exited is asked with waitpid.
    private func hasExited() -> Bool {
        guard pidFD >= 0 else { return reap() }
        var entry = pollfd(fd: pidFD, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, 0) > 0
    }

    private func fail(_ what: String) -> ResidentReply {
        stopInBackground(.kill)
        return .failed("resident hook \(file.name) \(what); it was stopped, and a new instance serves the next call")
    }

    private func failedAfterExit(_ status: String) -> ResidentReply {
        let last = recentStderr().last.map { ": \($0)" } ?? ""
        stopInBackground(.kill)
        return .failed("resident hook \(file.name) \(status) during the call\(last)")
    }

    // MARK: Lines

    /// Writes what is left of the call line. Without a deadline it stops where the pipe does
    /// (`begin`); with one it waits for room, and says why the call failed if it did.
    private func send(waitingUntil deadline: Double?) -> ResidentReply? {
        while outgoingSent < outgoing.count {
            let n = outgoing.withUnsafeBytes { Glibc.write(stdinFD, $0.baseAddress! + outgoingSent, $0.count - outgoingSent) }
            if n > 0 { outgoingSent += n; continue }
            if n < 0 && errno == EINTR { continue }
            guard let deadline else { return nil }
            if n < 0 && errno != EAGAIN {
                // EPIPE: it closed its stdin, most likely on its way out.
                if waitForExit(upTo: min(1, max(0, deadline - HookRunner.now()))) { return failedAfterExit(exitText()) }
                return fail("closed its stdin")
            }
            var fds = [pollfd(fd: stdinFD, events: Int16(POLLOUT), revents: 0), pollfd(fd: pidFD, events: Int16(POLLIN), revents: 0)]
            let wait = deadline - HookRunner.now()
            if wait <= 0 { stopInBackground(.terminate); return .timedOut }
            _ = poll(&fds, 2, Int32(min(wait * 1000, 1000).rounded(.up)))
            if fds[1].revents != 0 || (pidFD < 0 && reap()) { return failedAfterExit(exitText()) }
        }
        return nil
    }

    private func readLine(deadline: Double) -> LineRead {
        var searched = 0
        while true {
            if let newline = pending[searched...].firstIndex(of: 0x0A) {
                let line = Array(pending[..<newline])
                pending.removeSubrange(...newline)
                return .line(line)
            }
            searched = pending.count
            if pending.count > ResidentInstance.lineLimit { return .tooLong }
            let wait = deadline - HookRunner.now()
            if wait <= 0 { return .timedOut }
            var fds = [pollfd(fd: stdoutFD, events: Int16(POLLIN), revents: 0), pollfd(fd: pidFD, events: Int16(POLLIN), revents: 0)]
            let ready = poll(&fds, 2, Int32(min(wait * 1000, 1000).rounded(.up)))
            if ready < 0 && errno != EINTR { return .closed }
            if fds[0].revents != 0 {
                let n = readAvailable()
                if n > 0 { continue }
                if n == 0 {
                    // End of file: it is on its way out, or it closed stdout and stays; either
                    // way it can answer no more. Its status says more, when it comes soon.
                    if waitForExit(upTo: min(1, max(0, deadline - HookRunner.now()))) { return .exited(exitText()) }
                    return .closed
                }
                if errno != EAGAIN && errno != EINTR { return .closed }
            }
            if fds[0].revents == 0 && (fds[1].revents != 0 || (pidFD < 0 && reap())) {
                // It exited; a line it wrote first is still in the pipe, and counts.
                while readAvailable() > 0 {}
                if pending[searched...].contains(0x0A) { continue }
                return .exited(exitText())
            }
        }
    }

    /// One read of stdout into `pending`: what `read` returned.
    private func readAvailable() -> Int {
        let n = read(stdoutFD, stdoutScratch.baseAddress, stdoutScratch.count)
        if n > 0 { pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: stdoutScratch[0..<n])) }
        return n
    }

    /// "exited with status N" or "was killed by signal S", once it has exited.
    private func exitText() -> String {
        _ = reap()
        return exitStatusText.withLock { $0 } ?? "exited"
    }

    private let exitStatusText = Mutex<String?>(nil)

    /// Collects the exit status if it has exited; true once it has.
    private func reap() -> Bool {
        if exitStatusText.withLock({ $0 }) != nil { return true }
        var status: Int32 = 0
        guard waitpid(pid, &status, WNOHANG) == pid else { return false }
        noteExit(status)
        OrphanReaper.finished(pid)
        return true
    }

    private func noteExit(_ status: Int32) {
        let text = netplug_wifsignaled(status) != 0
            ? "was killed by signal \(netplug_wtermsig(status))"
            : "exited with status \(netplug_wexitstatus(status))"
        exitStatusText.withLock { $0 = text }
    }

    private func waitForExit(upTo seconds: Double) -> Bool {
        // Already collected (by reap, without a pidfd): nothing is left to wait for.
        var status: Int32? = exitStatusText.withLock { $0 } != nil ? 0 : nil
        if status != nil { return true }
        let exited = Teardown.waitForExit(pid: pid, pidFD: pidFD, upTo: seconds, status: &status)
        if let status { noteExit(status) }
        return exited
    }

    private func quoted(_ bytes: [UInt8]) -> String {
        let text = String(decoding: bytes.prefix(200), as: UTF8.self)
        return (text + (bytes.count > 200 ? "..." : "")).debugDescription
    }

    // MARK: stderr

    /// Reads stderr for as long as the instance writes it, and tells the stdout reader when
    /// the process exits (a call waiting for a line then learns it at once, even when a child
    /// it left holds stdout open). The pidfd is this job's own copy, closed by it.
    private func readStderr() {
        var exitFD = pidFD >= 0 ? dup(pidFD) : -1
        defer { if exitFD >= 0 { close(exitFD) } }
        while true {
            // Another thread may have read the end of file and closed it meanwhile.
            let fd = output.withLock { $0.fd }
            guard fd >= 0 else { break }
            var entries = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0), pollfd(fd: exitFD, events: Int16(POLLIN), revents: 0)]
            if poll(&entries, exitFD >= 0 ? 2 : 1, -1) < 0 && errno != EINTR { break }
            if exitFD >= 0 && entries[1].revents != 0 {
                close(exitFD)
                exitFD = -1
                if let reader = readerWhenAttached() {
                    // The status, when the process has exited (reap() collects it once).
                    reader.processExited(exitText())
                }
            }
            // Only this job closes it, so that the number it polls is never another file's.
            let done = output.withLock { state -> Bool in
                log(drain(&state))
                guard state.atEnd else { return false }
                close(state.fd)
                state.fd = -1
                return true
            }
            if done { break }
        }
    }

    /// Reads what stderr holds. Complete lines go to the call in flight, or are returned to
    /// be logged as the instance's own.
    private func drain(_ state: inout StderrState) -> [String] {
        guard state.fd >= 0, !state.atEnd else { return [] }
        var atEnd = false
        while true {
            let n = read(state.fd, stderrScratch.baseAddress, stderrScratch.count)
            if n > 0 { state.partial.append(contentsOf: UnsafeRawBufferPointer(rebasing: stderrScratch[0..<n])); continue }
            if n < 0 && errno == EINTR { continue }
            atEnd = n == 0 || errno != EAGAIN
            break
        }
        var idle: [String] = []
        var lines: [ArraySlice<UInt8>] = []
        while let newline = state.partial.firstIndex(of: 0x0A) {
            lines.append(state.partial[..<newline])
            state.partial.removeSubrange(...newline)
        }
        if atEnd {
            if !state.partial.isEmpty { lines.append(state.partial[...]) }
            state.partial = []
            state.atEnd = true
        } else if state.partial.count > HookRunner.stderrKeep {
            lines.append(state.partial[...])
            state.partial = []
        }
        for line in lines {
            let text = String(decoding: line, as: UTF8.self).trimmingCharacters()
            if text.isEmpty { continue }
            state.recent.append(text)
            if state.recent.count > 20 { state.recent.removeFirst() }
            if state.inCall {
                state.callLines.append(contentsOf: line)
                state.callLines.append(0x0A)
            } else {
                idle.append(text)
            }
        }
        return idle
    }

    private func log(_ lines: [String]) {
        for line in lines {
            logger.info("\(line)", metadata: ["hook": "\(file.name)", "hook.stream": "stderr", "call.method": "resident"])
        }
    }

    /// Its last lines on stderr, everything it wrote so far read first.
    func recentStderr() -> [String] {
        output.withLock { state in
            log(drain(&state))
            return state.recent
        }
    }

    // MARK: Stop

    enum StopKind {
        /// Reload and the host's stop: end of file on stdin, SIGTERM 2 s later, SIGKILL 2 s after
        /// (the steps of `Teardown`).
        case endOfInput
        /// A call past the timeout, or a start that was not ready: SIGTERM, SIGKILL 2 s later.
        case terminate
        /// It broke the protocol or died: SIGKILL.
        case kill
    }

    /// Stops the instance on a worker and calls `done` once it is gone, process group and all.
    /// Only the first stop counts.
    func stopInBackground(_ kind: StopKind, done: (@Sendable () -> Void)? = nil) {
        let first = stopping.withLock { already in
            defer { already = true }
            return !already
        }
        guard first else { return }
        ResidentInstances.live.add(self)
        WorkerPool.shared.submit {
            self.stop(kind)
            ResidentInstances.live.remove(self)
            done?()
        }
    }

    private func stop(_ kind: StopKind) {
        let steps: [Teardown.Step]
        switch kind {
        case .endOfInput: steps = [.closeInput, .terminate, .kill]
        case .terminate: steps = [.terminate, .kill]
        case .kill: steps = [.kill]
        }
        let collected = exitStatusText.withLock { $0 } != nil
        var status: Int32? = collected ? 0 : nil
        Teardown.run(steps, pid: pid, pidFD: pidFD, status: &status) { close(stdinFD) }
        if let status, !collected { noteExit(status) }
        _ = exitText()
        if kind != .endOfInput { close(stdinFD) }
        if let readerChannel { readerChannel.close(promise: nil) } else { close(stdoutFD) }
        if pidFD >= 0 { close(pidFD) }
        log(recentStderrAfterExit())
    }

    /// The stderr lines still in the pipe after the exit, logged as the instance's own.
    private func recentStderrAfterExit() -> [String] {
        output.withLock { state in drain(&state) }
    }
}

/// Why an instance could not start serving, with its last stderr lines.
struct ResidentStartFailure: Error {
    var reason: String
    var stderr: [String] = []
}

/// The instances being stopped, so that the host's stop can wait until none is left.
final class ResidentInstances: @unchecked Sendable {
    // @unchecked: guarded by `mutex`, with a condition to wait on.
    static let live = ResidentInstances()
    private let mutex = ParkingMutex()
    private let changed = ParkingCondition()
    private var stopping: [ObjectIdentifier: ResidentInstance] = [:]

    private init() {}

    func add(_ instance: ResidentInstance) {
        mutex.lock()
        stopping[ObjectIdentifier(instance)] = instance
        mutex.unlock()
    }

    func remove(_ instance: ResidentInstance) {
        mutex.lock()
        stopping[ObjectIdentifier(instance)] = nil
        mutex.unlock()
        changed.broadcast()
    }

    /// Blocks until every instance being stopped is gone, or `seconds` have passed.
    func waitUntilNone(upTo seconds: Double) -> Bool {
        let deadline = HookRunner.now() + seconds
        mutex.lock()
        defer { mutex.unlock() }
        while !stopping.isEmpty {
            if !changed.wait(mutex, upTo: deadline - HookRunner.now()) { return stopping.isEmpty }
        }
        return true
    }
}
