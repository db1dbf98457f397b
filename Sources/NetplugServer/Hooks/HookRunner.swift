import CSpawn
import NetplugCore
#if canImport(Glibc)
import Glibc
#endif

/// How one hook is started: everything but the request.
package struct HookLaunch: Sendable {
    package var file: HookFile
    /// argv[1]: the full method name, so one script can serve several methods.
    package var methodName: String
    package var workingDirectory: String
    package var environment: HookEnvironment
    package var timeout: Double
    /// After SIGTERM at the timeout, how long before SIGKILL.
    package var killGrace: Double = 2
    /// argv after the path, when not the method name (the tools `bundle` asks: ldd, strip).
    package var arguments: [String]? = nil
}

/// The only code that starts processes. Each hook runs through posix_spawn in its own
/// process group, on a worker thread (never an event loop), with its output capped and a
/// staged stop (TERM, then KILL to the whole group) at the timeout.
package enum HookRunner {
    static let stderrKeep = 64 * 1024

    /// Runs a program of the building machine for the command (`bundle` asks ldd, strip and
    /// interpreters), with the host's environment, the same limits and staged stop as a hook.
    package static func runProgram(_ path: String, _ arguments: [String], timeout: Double = 60) -> HookResult {
        let launch = HookLaunch(file: HookFile(path: path, name: path), methodName: "", workingDirectory: "/",
                                environment: HookEnvironment(base: CStrings.environment()), timeout: timeout,
                                arguments: arguments)
        return runBlocking(launch, stdin: [])
    }

    /// Blocks the calling thread until the hook has exited (or been stopped).
    package static func runBlocking(_ launch: HookLaunch, stdin: [UInt8]) -> HookResult {
        ignoreSIGPIPE
        var child = netplug_child()
        let argv = [launch.file.path] + (launch.arguments ?? [launch.methodName])
        var rc: Int32 = 0
        OrphanReaper.spawning {
            rc = withCStringArray(argv) { argvPointer in
                launch.environment.withPointers { envPointer in
                    stdin.withUnsafeBufferPointer { input in
                        netplug_spawn(launch.file.path, argvPointer, envPointer, launch.workingDirectory,
                                      input.baseAddress, input.count, &child)
                    }
                }
            }
            return rc == 0 ? child.pid : nil
        }
        if rc != 0 { return HookResult(exit: .notStarted(startFailure(rc))) }
        defer { OrphanReaper.finished(child.pid) }
        return supervise(child, launch: launch, stdin: stdin)
    }

    private static func supervise(_ child: netplug_child, launch: HookLaunch, stdin: [UInt8]) -> HookResult {
        var stdinFD = child.stdin_fd, stdoutFD = child.stdout_fd, stderrFD = child.stderr_fd
        let pidFD = child.pid_fd
        var stdout: [UInt8] = [], stderr: [UInt8] = []
        var written = child.stdin_written
        var overflowed = false, timedOut = false
        var status: Int32 = 0
        /// The status when the staged stop collected it (no pidfd).
        var reaped: Int32? = nil
        let deadline = now() + launch.timeout

        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 65536, alignment: 8)
        defer {
            scratch.deallocate()
            for fd in [stdinFD, stdoutFD, stderrFD, pidFD] where fd >= 0 { close(fd) }
        }

        var exited = false
        while !exited {
            let current = now()
            if current >= deadline {
                // The stop every child gets: SIGTERM to the group, SIGKILL after the grace.
                timedOut = true
                Teardown.run([.terminate, .kill], pid: child.pid, pidFD: pidFD, status: &reaped, grace: launch.killGrace) {}
                break
            }
            var fds: [pollfd] = []
            if stdinFD >= 0 { fds.append(pollfd(fd: stdinFD, events: Int16(POLLOUT), revents: 0)) }
            if stdoutFD >= 0 { fds.append(pollfd(fd: stdoutFD, events: Int16(POLLIN), revents: 0)) }
            if stderrFD >= 0 { fds.append(pollfd(fd: stderrFD, events: Int16(POLLIN), revents: 0)) }
            if pidFD >= 0 { fds.append(pollfd(fd: pidFD, events: Int16(POLLIN), revents: 0)) }
            // The next moment something must happen: the deadline.
            var waitMs = Int32(max(0, min((deadline - current) * 1000, 1000)).rounded(.up))
            if pidFD < 0 { waitMs = min(waitMs, 10) }  // no pidfd: look for the exit ourselves
            let ready = poll(&fds, nfds_t(fds.count), waitMs)
            if ready < 0 && errno != EINTR { break }

            for entry in fds where entry.revents != 0 {
                if entry.fd == stdinFD {
                    let n = stdin.withUnsafeBytes { write(stdinFD, $0.baseAddress! + written, $0.count - written) }
                    if n > 0 { written += n }
                    // Done, or the hook closed its stdin (EPIPE): either way, end of file.
                    if written == stdin.count || (n < 0 && errno != EAGAIN && errno != EINTR) || entry.revents & Int16(POLLERR) != 0 {
                        close(stdinFD); stdinFD = -1
                    }
                } else if entry.fd == stdoutFD {
                    if !drain(stdoutFD, into: &stdout, scratch: scratch) { close(stdoutFD); stdoutFD = -1 }
                    if stdout.count > Outcome.stdoutLimit && !overflowed {
                        overflowed = true
                        kill(-child.pid, SIGKILL)
                        close(stdoutFD); stdoutFD = -1
                    }
                } else if entry.fd == stderrFD {
                    if !drain(stderrFD, into: &stderr, scratch: scratch) { close(stderrFD); stderrFD = -1 }
                    if stderr.count > 2 * stderrKeep { stderr.removeFirst(stderr.count - stderrKeep) }
                } else if entry.fd == pidFD {
                    exited = true
                }
            }
            if pidFD < 0 && waitpid(child.pid, &status, WNOHANG) == child.pid { exited = true }
        }
        if let reaped {
            status = reaped
        } else if pidFD >= 0 {
            while waitpid(child.pid, &status, 0) < 0 && errno == EINTR {}
        }
        // The hook is gone; whatever it wrote is already in the pipes. Children it left
        // behind may hold them open, so read what is there now and stop.
        if stdoutFD >= 0 && !overflowed { _ = drain(stdoutFD, into: &stdout, scratch: scratch) }
        if stderrFD >= 0 { _ = drain(stderrFD, into: &stderr, scratch: scratch) }
        if stdout.count > Outcome.stdoutLimit { overflowed = true }
        if stderr.count > stderrKeep { stderr.removeFirst(stderr.count - stderrKeep) }

        let exit: HookExit
        if timedOut {
            exit = .timedOut(seconds: launch.timeout)
        } else if netplug_wifsignaled(status) != 0 {
            exit = .signaled(netplug_wtermsig(status))
        } else {
            exit = .exited(netplug_wexitstatus(status))
        }
        return HookResult(exit: exit, stdout: stdout, stdoutOverflowed: overflowed, stderr: stderr)
    }

    /// Reads what is available; false at end of file or on error.
    private static func drain(_ fd: Int32, into buffer: inout [UInt8], scratch: UnsafeMutableRawBufferPointer) -> Bool {
        while true {
            let n = read(fd, scratch.baseAddress, scratch.count)
            if n > 0 {
                buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: scratch[0..<n]))
                if buffer.count > Outcome.stdoutLimit + 1 { return true }
                continue
            }
            if n == 0 { return false }
            if errno == EINTR { continue }
            return errno == EAGAIN
        }
    }

    private static func startFailure(_ code: Int32) -> String {
        let text = String(cString: strerror(code))
        switch code {
        case ENOEXEC: return "\(text) (does it start with a #! line?)"
        case ENOENT: return "\(text) (is the interpreter named in its #! line installed?)"
        default: return text
        }
    }

    /// Hooks and resident instances a previous host of this plugin left running when it died
    /// without waiting for them (SIGKILL, a crash): they are stopped at start-up, process
    /// group and all.
    /// A hook is known by its environment (this plugin, this state folder) and by leading its
    /// own process group inside the host's session; a daemon a hook started on purpose has its
    /// own session (setsid) and is left alone. Returns what was stopped, for the log.
    package static func stopLeftovers(plugin: String, stateDir: String) -> [String] {
        var stopped: [String] = []
        let own = getpid()
        for process in ProcessEntry.all() where process.pid != own && process.group == process.pid && process.session != process.pid {
            let variables = process.environment()
            guard ProcessEntry.startedFor(plugin: plugin, stateDir: stateDir, in: variables),
                  variables.contains(where: { $0.hasPrefix("NETPLUG_METHOD=") }) || variables.contains("NETPLUG_RESIDENT=1") else { continue }
            let command = process.commandLine()
            if kill(-process.pid, SIGKILL) == 0 {
                stopped.append("process group \(process.pid) (\(command.isEmpty ? "?" : command))")
            }
        }
        return stopped
    }

    private static let ignoreSIGPIPE: Void = {
        // Writing to a hook that never reads its stdin must not kill the host.
        signal(SIGPIPE, SIG_IGN)
    }()

    /// Monotonic seconds, for deadlines and durations.
    package static func now() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }
}

/// A hook's environment: the host's own, converted to C strings once, plus a few
/// `KEY=value` strings of the call.
package struct HookEnvironment: Sendable {
    let base: CStrings
    package var extra: [String] = []

    package init(base: CStrings, extra: [String] = []) {
        self.base = base
        self.extra = extra
    }

    func withPointers<R>(_ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
        var pointers = base.pointers
        let added = extra.map { strdup($0) }
        pointers.append(contentsOf: added)
        pointers.append(nil)
        defer { for pointer in added { free(pointer) } }
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }

    /// Every variable, as the hook sees them (for tests and `call`).
    package var strings: [String] { base.pointers.map { String(cString: $0!) } + extra }
}

/// C strings that live as long as this value.
package final class CStrings: @unchecked Sendable {
    // @unchecked: immutable after init.
    let pointers: [UnsafeMutablePointer<CChar>?]

    package init(_ strings: [String]) { pointers = strings.map { strdup($0) } }

    /// This process's environment, as it is now.
    package static func environment() -> CStrings { CStrings(environmentStrings()) }

    static func environmentStrings() -> [String] {
        var strings: [String] = []
        var pointer = environ
        while let entry = pointer.pointee {
            strings.append(String(cString: entry))
            pointer += 1
        }
        return strings
    }

    deinit { for pointer in pointers { free(pointer) } }
}

/// NUL-terminated `char *[]` for the C calls, freed afterwards.
package func withCStringArray<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
    var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    pointers.append(nil)
    defer { for pointer in pointers { free(pointer) } }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
