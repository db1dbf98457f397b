import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The file names in a folder, read again only when the folder has changed. Every hook call
/// looks at its folder, and one stat costs far less than reading it (open, getdents, close).
/// Adding, removing or renaming a file changes the folder's times; a change in the same clock
/// tick as the last read cannot be told apart, so a listing is only kept once the folder's
/// mtime is two seconds old (what git does with "racily clean" index entries).
package final class FolderListing: Sendable {
    static let shared = FolderListing()

    private struct Stamp: Equatable {
        var device: UInt64, inode: UInt64
        var modified: Int, modifiedNanos: Int, changed: Int, changedNanos: Int
    }

    private let kept = Mutex([String: (stamp: Stamp, names: [String])]())

    private init() {}

    /// The names in `folder` (without `.` and `..`), read now; none when it cannot be read.
    package static func fileNames(in folder: String) -> [String] {
        guard let dir = opendir(folder) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// The names in `folder`, as kept while it is unchanged.
    func names(in folder: String) -> [String] { look(at: folder)?.names ?? [] }

    /// The folder's names and mode bits, nil when it cannot be looked at.
    func look(at folder: String) -> (names: [String], mode: mode_t)? {
        var info = stat()
        guard stat(folder, &info) == 0 else { return nil }
        let stamp = Stamp(device: UInt64(info.st_dev), inode: UInt64(info.st_ino),
                          modified: info.st_mtim.tv_sec, modifiedNanos: info.st_mtim.tv_nsec,
                          changed: info.st_ctim.tv_sec, changedNanos: info.st_ctim.tv_nsec)
        let hit = kept.withLock { kept in kept[folder].flatMap { $0.stamp == stamp ? $0.names : nil } }
        if let hit { return (hit, info.st_mode) }

        let names = FolderListing.fileNames(in: folder)
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        // Adding, removing or renaming a name sets the folder's mtime; its ctime alone also
        // moves with chmod or chown, which change no name (the mode is taken fresh above).
        if now.tv_sec - stamp.modified >= 2 {
            kept.withLock { $0[folder] = (stamp, names) }
        }
        return (names, info.st_mode)
    }
}
