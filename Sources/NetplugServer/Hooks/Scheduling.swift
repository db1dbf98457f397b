import CSpawn
import NIOCore
import NIOPosix

/// The host's threads run under SCHED_BATCH. Each call is a chain of wake-ups (client → event
/// loop → worker → hook → worker → event loop → client); under the normal policy every one of
/// them preempts the task that caused it, which then has to be switched back in to finish.
/// Measured on 2 cores: about 35 µs of host CPU per hook call. The CPU share is unchanged, and
/// hooks get the normal policy back when they start (CSpawn).
package enum Scheduling {
    /// For a thread the host owns, from the thread itself.
    static func batchThisThread() {
        _ = netplug_batch_thread()
    }

    /// For every event loop of `group`; `netplug-host serve` calls it for the group it serves on.
    package static func batchEventLoops(_ group: MultiThreadedEventLoopGroup = .singleton) async {
        for loop in group.makeIterator() {
            try? await loop.submit { batchThisThread() }.get()
        }
    }
}
