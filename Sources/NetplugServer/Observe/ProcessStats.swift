import NetplugCore
#if canImport(Glibc)
import Glibc
#endif

/// What the standard `process_*` metrics say of this process, read from /proc when scraped.
struct ProcessStats {
    var residentBytes: Double
    var openFDs: Double
    /// Since the epoch, as Prometheus' client libraries report it.
    var startTimeSeconds: Double

    static func read() -> ProcessStats {
        ProcessStats(residentBytes: residentBytes(), openFDs: Double(max(0, FolderListing.fileNames(in: "/proc/self/fd").count - 1)),
                     startTimeSeconds: startTime)
    }

    /// The second field of /proc/self/statm, in pages.
    private static func residentBytes() -> Double {
        guard let bytes = try? FileBytes.read("/proc/self/statm", upTo: 256) else { return 0 }
        let fields = String(decoding: bytes, as: UTF8.self).split(separator: " ")
        guard fields.count > 1, let pages = Double(fields[1]) else { return 0 }
        return pages * Double(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// The boot time (/proc/stat `btime`) plus the process' start in clock ticks since boot
    /// (/proc/self/stat field 22); read once, it never changes.
    static let startTime: Double = {
        guard let stat = try? FileBytes.read("/proc/self/stat", upTo: 4096),
              let system = try? FileBytes.read("/proc/stat", upTo: 1 << 20) else { return 0 }
        let text = String(decoding: stat, as: UTF8.self)
        // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
        guard let close = text.lastIndex(of: ")") else { return 0 }
        let after = text[text.index(after: close)...].split(separator: " ")
        // `after` starts at field 3, so field 22 is its 20th.
        guard after.count > 19, let ticks = Double(after[19]) else { return 0 }
        let boot = String(decoding: system, as: UTF8.self).split(separator: "\n")
            .first { $0.hasPrefix("btime ") }.flatMap { Double($0.dropFirst(6)) } ?? 0
        return boot + ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
    }()
}
