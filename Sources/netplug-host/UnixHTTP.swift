import NetplugCore
import NetplugServer
#if canImport(Glibc)
import Glibc
#endif

/// One HTTP/1.1 GET over a Unix socket, for `status`: connect, ask, read until the host
/// closes (Connection: close), with a bound on each wait.
enum UnixHTTP {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func get(_ target: String, socket path: String, waitingUpTo seconds: Int32 = 10) throws -> (status: Int, body: [UInt8]) {
        let fd: Int32
        switch Listeners.connectUnix(path) {
        case .success(let connected): fd = connected
        case .failure(let failure):
            throw Failure(description: "cannot reach a host at \(path): \(errnoText(failure.code)) (is `netplug-host serve` running with that --name or --socket?)")
        }
        defer { close(fd) }
        let request = Array("GET \(target) HTTP/1.1\r\nHost: netplug\r\nConnection: close\r\n\r\n".utf8)
        var sent = 0
        while sent < request.count {
            let n = request.withUnsafeBytes { send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw Failure(description: "cannot ask \(path): \(errnoText())") }
            sent += n
        }
        var reply: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            var ready = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let polled = poll(&ready, 1, seconds * 1000)
            if polled < 0 && errno == EINTR { continue }
            guard polled > 0 else { throw Failure(description: "\(path) did not answer within \(seconds) s") }
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw Failure(description: "cannot read from \(path): \(errnoText())") }
            if n == 0 { break }
            reply.append(contentsOf: chunk[..<n])
        }
        // Status line, headers, a blank line, the body (the host closes after it).
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let end = reply.indices.first(where: { reply[$0...].starts(with: separator) }) else {
            throw Failure(description: "\(path) answered something that is not HTTP")
        }
        let fields = String(decoding: reply[..<end], as: UTF8.self).split(separator: " ", maxSplits: 2)
        guard fields.count >= 2, fields[0].hasPrefix("HTTP/"), let status = Int(fields[1]) else {
            throw Failure(description: "\(path) answered something that is not HTTP")
        }
        return (status, Array(reply[(end + 4)...]))
    }
}
