import Logging
import NetplugCore
#if canImport(Glibc)
import Glibc
#endif

/// One line per event on stderr (or stdout): `key=value` text for people, or one JSON object per line.
package struct LineLogHandler: LogHandler {
    package enum Format: String, Sendable, CaseIterable { case text, json }

    package var logLevel: Logger.Level
    package var metadata: Logger.Metadata = [:]
    let label: String
    let format: Format
    /// 2, or 1 inside a managed plugin: dockerd records a plugin's stderr as errors.
    let fd: Int32

    package init(label: String, level: Logger.Level, format: Format, fd: Int32 = 2) {
        self.label = label
        self.logLevel = level
        self.format = format
        self.fd = fd
    }

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    package func log(event: LogEvent) {
        var all = metadata
        if let extra = event.metadata {
            if all.isEmpty { all = extra } else { all.merge(extra) { $1 } }
        }
        let keys = all.keys.sorted()
        // Built as bytes, not by string interpolation: one line per call, so this is on every call's path.
        var line: [UInt8] = []
        line.reserveCapacity(256)
        switch format {
        case .text:
            LineLogHandler.appendTimestamp(to: &line)
            line.append(0x20)
            line.append(contentsOf: event.level.rawValue.utf8)
            line.append(0x20)
            line.append(contentsOf: "\(event.message)".utf8)
            for key in keys {
                line.append(0x20)
                line.append(contentsOf: key.utf8)
                line.append(UInt8(ascii: "="))
                LineLogHandler.appendQuotedIfNeeded(LineLogHandler.text(all[key]!), to: &line)
            }
        case .json:
            var stamp: [UInt8] = []
            LineLogHandler.appendTimestamp(to: &stamp)
            let object = JSON.object(["time": .string(String(decoding: stamp, as: UTF8.self)), "level": .string(event.level.rawValue),
                                      "message": .string("\(event.message)")])
            for key in keys { object.set(key, .string(LineLogHandler.text(all[key]!))) }
            line.append(contentsOf: object.text.utf8)
        }
        line.append(0x0A)
        // One write(2) per line: lines from concurrent calls never interleave.
        var offset = 0
        while offset < line.count {
            let n = line.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n <= 0 { if errno == EINTR { continue } else { break } }
            offset += n
        }
    }

    static func text(_ value: Logger.MetadataValue) -> String {
        if case .string(let text) = value { return text }
        return value.description
    }

    static func appendQuotedIfNeeded(_ value: String, to line: inout [UInt8]) {
        let utf8 = value.utf8
        let needsQuotes = utf8.isEmpty || utf8.contains { $0 == 0x20 || $0 == 0x22 || $0 == 0x3D }
        guard needsQuotes else { line.append(contentsOf: utf8); return }
        line.append(0x22)
        for byte in utf8 {
            if byte == 0x22 || byte == 0x5C { line.append(0x5C) }
            line.append(byte)
        }
        line.append(0x22)
    }

    /// `2026-11-29T20:44:45.123Z`
    static func appendTimestamp(to line: inout [UInt8]) {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        var parts = tm()
        var seconds = spec.tv_sec
        gmtime_r(&seconds, &parts)
        func digits(_ value: Int, _ count: Int) {
            var divisor = 1
            for _ in 1..<count { divisor *= 10 }
            var rest = value
            while divisor > 0 {
                line.append(UInt8(ascii: "0") + UInt8(rest / divisor % 10))
                rest %= divisor
                divisor /= 10
            }
        }
        digits(Int(parts.tm_year) + 1900, 4); line.append(UInt8(ascii: "-"))
        digits(Int(parts.tm_mon) + 1, 2); line.append(UInt8(ascii: "-"))
        digits(Int(parts.tm_mday), 2); line.append(UInt8(ascii: "T"))
        digits(Int(parts.tm_hour), 2); line.append(UInt8(ascii: ":"))
        digits(Int(parts.tm_min), 2); line.append(UInt8(ascii: ":"))
        digits(Int(parts.tm_sec), 2); line.append(UInt8(ascii: "."))
        digits(Int(spec.tv_nsec / 1_000_000), 3); line.append(UInt8(ascii: "Z"))
    }
}
