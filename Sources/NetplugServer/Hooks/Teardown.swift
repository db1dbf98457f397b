import CSpawn
#if canImport(Glibc)
import Glibc
#endif

/// The one way a child process is stopped, a hook at its timeout as much as a resident
/// instance: the steps in order (end of input, SIGTERM, SIGKILL), each followed by a wait for
/// the exit of up to `grace`; every signal goes to the whole process group, and SIGKILL ends
/// whatever is left of the group once the process is gone.
enum Teardown {
    static let grace = 2.0

    enum Step {
        /// Closes the process's stdin: a resident instance leaves on end of file.
        case closeInput
        case terminate
        case kill
    }

    /// Blocks until the process has exited. `status` is set when the exit was collected here
    /// (kernels without pidfds, where waiting means waitpid); otherwise the caller reaps it.
    static func run(_ steps: [Step], pid: pid_t, pidFD: Int32, status: inout Int32?, grace: Double = grace, closeInput: () -> Void) {
        for (index, step) in steps.enumerated() {
            switch step {
            case .closeInput: closeInput()
            case .terminate: kill(-pid, SIGTERM)
            case .kill: kill(-pid, SIGKILL)
            }
            let last = index == steps.count - 1
            if waitForExit(pid: pid, pidFD: pidFD, upTo: last ? .infinity : grace, status: &status) { break }
        }
        // Whatever it left in its process group goes with it: none is left running.
        kill(-pid, SIGKILL)
    }

    /// Waits up to `seconds` for the process to exit: on its pidfd, or (kernels before 5.3) by
    /// waitpid every 10 ms, which collects the status into `status`. True once it has exited.
    static func waitForExit(pid: pid_t, pidFD: Int32, upTo seconds: Double, status: inout Int32?) -> Bool {
        let end = HookRunner.now() + seconds
        if pidFD < 0 {
            while true {
                if status != nil { return true }
                var collected: Int32 = 0
                if waitpid(pid, &collected, WNOHANG) == pid {
                    status = collected
                    OrphanReaper.finished(pid)
                    return true
                }
                let left = end - HookRunner.now()
                if left <= 0 { return false }
                usleep(UInt32(min(left, 0.01) * 1e6))
            }
        }
        var entry = pollfd(fd: pidFD, events: Int16(POLLIN), revents: 0)
        while true {
            let left = end - HookRunner.now()
            let rc = poll(&entry, 1, left.isFinite ? Int32(min(max(0, left * 1000), 3_600_000).rounded(.up)) : -1)
            if rc > 0 { return true }
            if rc == 0 || errno != EINTR { return false }
        }
    }
}
