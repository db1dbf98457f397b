import Dispatch
import Synchronization
import NetplugCore
#if canImport(Glibc)
import Glibc
#endif

/// When the host is PID 1 (in a plugin container, or the sandbox), processes that hooks leave
/// behind become its children, and nobody else will reap them. On each SIGCHLD it reaps every
/// zombie child that is not a hook the runner is still waiting for.
package enum OrphanReaper {
    /// Hook processes the runner will wait for itself; guarded with the spawns (see `spawning`).
    private static let hooks = Mutex(Set<pid_t>())
    static let isActive = getpid() == 1

    /// Runs a spawn so that the reaper never sees a hook before it is registered.
    static func spawning(_ spawn: () -> pid_t?) {
        guard isActive else { _ = spawn(); return }
        hooks.withLock { set in
            if let pid = spawn() { set.insert(pid) }
        }
    }

    static func finished(_ pid: pid_t) {
        guard isActive else { return }
        hooks.withLock { _ = $0.remove(pid) }
    }

    /// SIGCHLD stays blocked in every thread (see the command's entry point); the signal
    /// source reads it all the same, once per burst of exits.
    // nonisolated(unsafe): set up once, in startIfPID1, before anything can use it.
    nonisolated(unsafe) private static let events = DispatchSource.makeSignalSource(signal: SIGCHLD, queue: DispatchQueue(label: "netplug.orphans"))

    package static func startIfPID1() {
        guard isActive else { return }
        events.setEventHandler { reapOnce() }
        // Children that exited before the source existed.
        events.setRegistrationHandler { reapOnce() }
        events.resume()
    }

    static func reapOnce() {
        for process in ProcessEntry.all() where process.pid != 1 && process.state == "Z" && process.parent == 1 {
            hooks.withLock { set in
                var status: Int32 = 0
                if !set.contains(process.pid) { _ = waitpid(process.pid, &status, WNOHANG) }
            }
        }
    }
}
