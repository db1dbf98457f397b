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

    static func of(_ path: String) -> Shebang? {
        guard let head = try? FileBytes.read(path, upTo: 256) else { return nil }
        if isELF(head) { return .compiled }
        guard head.starts(with: Array("#!".utf8)) else { return .missing }
        let line = String(decoding: head.dropFirst(2).prefix { $0 != 0x0A }, as: UTF8.self)
        let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard let interpreter = words.first else { return .empty }
        let program = interpreter.hasSuffix("/env") ? words.dropFirst().first(where: { !$0.hasPrefix("-") }) : nil
        return .script(interpreter: interpreter, program: program)
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
