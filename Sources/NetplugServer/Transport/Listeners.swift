import NetplugCore
#if canImport(Glibc)
import Glibc
#endif

/// Where the server listens: a Unix socket (Docker's usual way), TCP with a spec file, or a
/// socket handed over by systemd.
public enum ListenerSpec: Sendable, Equatable {
    /// A Unix socket at `path` (Docker looks in /run/docker/plugins/NAME.sock), mode 0660,
    /// owned by `group` (a name or a gid) when given.
    case unix(path: String, group: String?)
    /// TCP on `host:port` (port 0 picks one), announced in `specFile` as `tcp://HOST:PORT`
    /// (Docker reads /etc/docker/plugins/NAME.spec); the file goes when the plugin stops.
    case tcp(host: String, port: Int, specFile: String)
    /// A listening socket passed by systemd (socket activation), as file descriptor `fd`.
    case activated(fd: Int32)
}

package struct ListenerError: Error, CustomStringConvertible {
    package let description: String
    package init(_ description: String) { self.description = description }
}

package enum Listeners {
    /// The socket systemd passed us, when LISTEN_PID names this process (sd_listen_fds).
    package static func activatedSocket() -> Int32? {
        guard let pidText = getenv("LISTEN_PID").map({ String(cString: $0) }), let pid = Int32(pidText), pid == getpid(),
              let countText = getenv("LISTEN_FDS").map({ String(cString: $0) }), let count = Int(countText), count >= 1
        else { return nil }
        // Not for the hooks we start: they must not think they were activated.
        unsetenv("LISTEN_PID")
        unsetenv("LISTEN_FDS")
        unsetenv("LISTEN_FDNAMES")
        let fd: Int32 = 3
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        return fd
    }

    /// Before binding a Unix socket: its folder exists, and the path is free. A stale socket
    /// (nobody accepts on it) is removed; a live one means another server, which we never steal from.
    package static func prepareUnixPath(_ path: String) throws {
        if let slash = path.lastIndex(of: "/"), slash != path.startIndex {
            do { try Records.makeFolder(String(path[..<slash])) } catch { throw ListenerError("\(error)") }
        }
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        guard info.st_mode & S_IFMT == S_IFSOCK else {
            throw ListenerError("\(path) exists and is not a socket; remove it or choose another --socket")
        }
        if isLive(path) {
            throw ListenerError("\(path) is in use: another process serves it; stop that one, or choose another --name or --socket")
        }
        if unlink(path) != 0 && errno != ENOENT {
            throw ListenerError("cannot remove the stale socket \(path): \(errnoText())")
        }
    }

    static func isLive(_ path: String) -> Bool {
        guard case .success(let fd) = connectUnix(path) else { return false }
        close(fd)
        return true
    }

    /// A connected Unix stream socket (close-on-exec), or the errno of the failure.
    package static func connectUnix(_ path: String) -> Result<Int32, Errno> {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return .failure(Errno(errno)) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close(fd)
            return .failure(Errno(ENAMETOOLONG))
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else {
            let failure = Errno(errno)
            close(fd)
            return .failure(failure)
        }
        return .success(fd)
    }

    /// An errno value, as an Error.
    package struct Errno: Error {
        package let code: Int32
        init(_ code: Int32) { self.code = code }
    }

    package static func removeSocket(_ path: String) { unlink(path) }

    static func rename(_ from: String, to: String) throws {
        guard Glibc.rename(from, to) == 0 else { throw ListenerError("cannot move \(from) to \(to): \(errnoText())") }
    }

    /// Mode 0660, and the group Docker runs in when one is named (the Go helper's gid).
    package static func secureSocket(_ path: String, group: String?) throws {
        if let group {
            guard let gid = groupID(group) else { throw ListenerError("--group \(group): no such group") }
            guard chown(path, uid_t.max, gid) == 0 else {
                throw ListenerError("cannot give \(path) to group \(group): \(errnoText())")
            }
        }
        guard chmod(path, 0o660) == 0 else { throw ListenerError("cannot chmod \(path): \(errnoText())") }
    }

    package static func groupID(_ group: String) -> gid_t? {
        if let number = gid_t(group) { return number }
        guard let entry = getgrnam(group) else { return nil }
        return entry.pointee.gr_gid
    }

    /// Docker finds a TCP plugin through `SPECDIR/NAME.spec`.
    package static func writeSpecFile(_ path: String, address: String) throws {
        let folder = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
        do {
            if !folder.isEmpty { try Records.makeFolder(folder) }
            try Records(stateDir: folder).writeText(address, to: path)
        } catch {
            throw ListenerError("cannot write the spec file: \(error)")
        }
    }
}
