import NetplugCore
#if canImport(Glibc)
import Glibc
#endif

/// What starts a hook file: a compiled program, or the interpreter its #! line names. `check`
/// asks whether that interpreter exists; `bundle` copies it into the plugin.
enum Shebang: Equatable {
    case compiled
    /// `#!/usr/bin/env python3` is interpreter /usr/bin/env, program python3.
    case script(interpreter: String, program: String?)
    case missing
    case empty
    /// A UTF-8 byte order mark before `#!`: the kernel does not see the `#!`.
    case byteOrderMark
    /// Windows line endings: the interpreter's name ends in a carriage return.
    case crlf

    static func of(_ path: String) -> Shebang? {
        guard let head = try? FileBytes.read(path, upTo: 256) else { return nil }
        if isELF(head) { return .compiled }
        if head.starts(with: [0xEF, 0xBB, 0xBF]) { return .byteOrderMark }
        guard head.starts(with: Array("#!".utf8)) else { return .missing }
        let bytes = head.dropFirst(2).prefix { $0 != 0x0A }
        if bytes.last == 0x0D { return .crlf }
        let line = String(decoding: bytes, as: UTF8.self)
        let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard let interpreter = words.first else { return .empty }
        let program = interpreter.hasSuffix("/env") ? words.dropFirst().first(where: { !$0.hasPrefix("-") }) : nil
        return .script(interpreter: interpreter, program: program)
    }

    /// The #! line ends in spaces or tabs (Linux ignores them; an editor may hide more).
    static func hasTrailingBlanks(_ path: String) -> Bool {
        guard let head = try? FileBytes.read(path, upTo: 256), head.starts(with: Array("#!".utf8)) else { return false }
        let line = head.prefix { $0 != 0x0A }
        return line.last == 0x20 || line.last == 0x09
    }

    static func isELF(_ head: [UInt8]) -> Bool { head.starts(with: [0x7F, 0x45, 0x4C, 0x46]) }

    /// Every executable file named `name` on PATH, in PATH's order.
    static func onPath(_ name: String) -> [String] {
        if name.contains("/") { return access(name, X_OK) == 0 ? [name] : [] }
        let path = getenv("PATH").map { String(cString: $0) } ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }.filter { candidate in
            var info = stat()
            return stat(candidate, &info) == 0 && info.st_mode & S_IFMT == S_IFREG && access(candidate, X_OK) == 0
        }
    }
}
