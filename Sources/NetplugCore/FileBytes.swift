#if canImport(Glibc)
import Glibc
#endif

/// Reading a whole file (or its first bytes): records, /proc entries, requests, #! lines.
package enum FileBytes {
    package struct Failure: Error, CustomStringConvertible {
        package let description: String
    }

    /// The file's bytes, at most `limit`; nil when it does not exist.
    package static func read(_ path: String, upTo limit: Int = .max) throws -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw Failure(description: "cannot read \(path): \(errnoText())")
        }
        defer { close(fd) }
        guard let bytes = read(fd: fd, upTo: limit) else { throw Failure(description: "cannot read \(path): \(errnoText())") }
        return bytes
    }

    /// Everything readable from `fd` until end of file (or `limit`); nil on an error.
    package static func read(fd: Int32, upTo limit: Int = .max) -> [UInt8]? {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: min(65536, max(limit, 1)))
        while result.count < limit {
            let want = min(chunk.count, limit - result.count)
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, want) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { return nil }
            if n == 0 { break }
            result.append(contentsOf: chunk[0..<n])
        }
        return result
    }
}
