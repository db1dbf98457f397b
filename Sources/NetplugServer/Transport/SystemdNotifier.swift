import NetplugCore
#if canImport(Glibc)
import Glibc
#endif

/// Tells systemd (a `Type=notify` service) when the host is ready and when it stops, through
/// the datagram socket named by NOTIFY_SOCKET. Without that variable it does nothing.
package struct SystemdNotifier: Sendable {
    let address: String?

    /// Takes NOTIFY_SOCKET out of the environment, so hooks never notify systemd in the host's name.
    package static func fromEnvironment() -> SystemdNotifier {
        let address = getenv("NOTIFY_SOCKET").map { String(cString: $0) }
        unsetenv("NOTIFY_SOCKET")
        return SystemdNotifier(address: address)
    }

    /// Sends one state line (`READY=1`, `STOPPING=1`). A failure is only worth a log line to
    /// the caller: systemd then times the start out, and the service's own log says why.
    @discardableResult
    package func send(_ state: String) -> String? {
        guard let address, !address.isEmpty else { return nil }
        var socketAddress = sockaddr_un()
        socketAddress.sun_family = sa_family_t(AF_UNIX)
        // "@name" is an abstract socket: its name starts with a NUL byte instead of '@'.
        var path = Array(address.utf8)
        if path.first == UInt8(ascii: "@") { path[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: socketAddress.sun_path)
        guard path.count < capacity else { return "NOTIFY_SOCKET \(address) is too long for a socket address" }
        withUnsafeMutableBytes(of: &socketAddress.sun_path) { raw in
            for (index, byte) in path.enumerated() { raw[index] = byte }
        }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return "cannot tell systemd \(state): \(errnoText())" }
        defer { close(fd) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + path.count)
        let sent = Array(state.utf8).withUnsafeBytes { bytes in
            withUnsafePointer(to: &socketAddress) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, bytes.baseAddress, bytes.count, 0, $0, length) }
            }
        }
        return sent < 0 ? "cannot tell systemd \(state) through \(address): \(errnoText())" : nil
    }
}
