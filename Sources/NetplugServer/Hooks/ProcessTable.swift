import NetplugCore
#if canImport(Glibc)
import Glibc
#endif

/// One process as /proc shows it: what the host asks of processes it did not start itself
/// (leftovers of a killed host, orphans to reap, what a sandboxed driver left running).
package struct ProcessEntry {
    package let pid: pid_t
    /// The command's name (`comm`).
    package let name: String
    /// `R`, `S`, `Z`, ...
    package let state: Character
    package let parent: pid_t
    package let group: pid_t
    package let session: pid_t

    /// Every process now; those that vanish while being read are left out.
    package static func all() -> [ProcessEntry] {
        FolderListing.fileNames(in: "/proc").compactMap { name in
            guard let pid = pid_t(name), let bytes = try? FileBytes.read("/proc/\(pid)/stat", upTo: 4096) else { return nil }
            let stat = String(decoding: bytes, as: UTF8.self)
            // Fields after the command's closing parenthesis: state ppid pgrp session ...
            guard let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")") else { return nil }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 3, let state = fields[0].first, let parent = pid_t(fields[1]), let group = pid_t(fields[2]),
                  let session = pid_t(fields[3]) else { return nil }
            return ProcessEntry(pid: pid, name: String(stat[stat.index(after: open)..<close]), state: state, parent: parent,
                                group: group, session: session)
        }
    }

    /// Its environment (`NAME=value`), read when asked; empty when it cannot be read.
    package func environment() -> Set<String> {
        let bytes = (try? FileBytes.read("/proc/\(pid)/environ", upTo: 1 << 20)) ?? []
        return Set(bytes.split(separator: 0).map { String(decoding: $0, as: UTF8.self) })
    }

    /// Its command line, words separated by spaces; empty for a kernel thread.
    package func commandLine() -> String {
        let bytes = (try? FileBytes.read("/proc/\(pid)/cmdline", upTo: 4096)) ?? []
        return String(decoding: bytes.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self).trimmingCharacters()
    }

    /// Started by a hook or a resident instance of this plugin and state folder (or by their
    /// children): they carry the variables the host gives them.
    package static func startedFor(plugin: String, stateDir: String, in environment: Set<String>) -> Bool {
        environment.contains("NETPLUG_PLUGIN=\(plugin)") && environment.contains("NETPLUG_STATE_DIR=\(stateDir)")
    }
}
