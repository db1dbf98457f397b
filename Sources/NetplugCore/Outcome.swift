/// How a hook process ended, as the runner saw it.
package enum HookExit: Sendable, Equatable {
    case exited(Int32)
    case signaled(Int32)
    case timedOut(seconds: Double)
    /// posix_spawn failed (errno text), so the hook never ran.
    case notStarted(String)
}

/// Everything a hook produced.
package struct HookResult: Sendable {
    package var exit: HookExit
    package var stdout: [UInt8]
    /// stdout passed `Outcome.stdoutLimit`; the hook was stopped.
    package var stdoutOverflowed: Bool
    package var stderr: [UInt8]

    package init(exit: HookExit, stdout: [UInt8] = [], stdoutOverflowed: Bool = false, stderr: [UInt8] = []) {
        self.exit = exit
        self.stdout = stdout
        self.stdoutOverflowed = stdoutOverflowed
        self.stderr = stderr
    }
}

/// An HTTP answer for Docker: a status and a JSON object.
package struct Answer: Sendable {
    package var status: Int
    package var body: JSON
    /// Keys of the hook's answer no field matched (logged, not refused).
    package var unknownKeys: [String] = []

    package init(status: Int, body: JSON, unknownKeys: [String] = []) {
        self.status = status
        self.body = body
        self.unknownKeys = unknownKeys
    }

    package static func error(_ status: Int, _ message: String) -> Answer {
        Answer(status: status, body: .object(["Err": .string(message)]))
    }

    package var errorText: String? { body["Err"]?.string }
}

/// The rules that turn a hook's outcome into Docker's answer (README, "What the hook answers").
package enum Outcome {
    package static let stdoutLimit = 1 << 20

    package static func answer(for method: Method, hook name: String, result: HookResult, context: DefaultContext) -> Answer {
        switch result.exit {
        case .timedOut(let seconds):
            return .error(500, "hook \(name) timed out after \(formatSeconds(seconds)) s")
        case .notStarted(let reason):
            return .error(500, "hook \(name) could not be started: \(reason)")
        case .signaled(let signal) where !result.stdoutOverflowed:
            return .error(500, "hook \(name) killed by signal \(signal)")
        default:
            break
        }
        if result.stdoutOverflowed {
            return .error(500, "hook \(name) printed more than 1 MiB on stdout; answers must be smaller")
        }
        guard case .exited(let status) = result.exit else { return .error(500, "hook \(name) failed") }

        let printed = parsedObject(result.stdout)
        if status != 0 {
            if case .object(let object)? = printed, let message = errorMessage(object, method) {
                return .error(500, message)
            }
            if let line = lastLine(result.stderr) { return .error(500, line) }
            return .error(500, "hook \(name) exited with status \(status)")
        }

        switch printed {
        case nil:
            if let make = method.emptyAnswer { return Answer(status: 200, body: make(context)) }
            return .error(500, "hook \(name) printed nothing, but \(method.fullName) must answer with \(requiredFields(method))")
        case .failure(let error)?:
            return .error(500, "hook \(name) printed invalid JSON at \(error)")
        case .notObject(let value)?:
            return .error(500, "hook \(name) printed \(Schema.describe(value)), but the answer must be a JSON object")
        case .object(let object)?:
            return answer(for: method, hook: name, object: object)
        }
    }

    /// The rules for an answer object, wherever it came from (a hook's stdout, a resident
    /// hook's `answer`): `Err` is an error; otherwise it must pass the method's schema.
    package static func answer(for method: Method, hook name: String, object: JSON) -> Answer {
        guard object.isObject else {
            return .error(500, "hook \(name) answered \(Schema.describe(object)), but the answer must be a JSON object")
        }
        if let message = errorMessage(object, method) { return .error(500, message) }
        let report = Schema.check(object, against: method.answer)
        if let problem = report.problem {
            return .error(500, "hook \(name) answered badly: \(problem)")
        }
        return Answer(status: 200, body: object, unknownKeys: report.unknownKeys)
    }

    enum Printed {
        case object(JSON)
        case notObject(JSON)
        case failure(JSONParseError)
    }

    /// nil when stdout is empty or only white space.
    static func parsedObject(_ stdout: [UInt8]) -> Printed? {
        guard stdout.contains(where: { !isWhitespace($0) }) else { return nil }
        do {
            let value = try JSON.parse(stdout)
            return value.isObject ? .object(value) : .notObject(value)
        } catch let error as JSONParseError {
            return .failure(error)
        } catch {
            return .failure(JSONParseError(line: 0, column: 0, text: "\(error)"))
        }
    }

    /// A non-empty `Err` (and, for IPAM, `Error`, which Docker's IPAM client reads).
    static func errorMessage(_ object: JSON, _ method: Method) -> String? {
        var keys = ["Err"]
        if method.family == .ipamDriver { keys.append("Error") }
        for key in keys {
            if let text = object.member(key)?.string, !text.isEmpty { return text }
        }
        return nil
    }

    /// The last line of stderr with something on it: usually the hook's own error message.
    package static func lastLine(_ bytes: [UInt8]) -> String? {
        let text = String(decoding: bytes, as: UTF8.self)
        return text.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters() }
            .last { !$0.isEmpty }
    }

    static func requiredFields(_ method: Method) -> String {
        guard case .object(let fields, _) = method.answer else { return "an object" }
        return fields.filter(\.required).map(\.name).joined(separator: " and ")
    }

    package static func isWhitespace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 }

    package static func formatSeconds(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
    }
}

extension StringProtocol {
    /// Without leading and trailing white space.
    package func trimmingCharacters() -> String {
        String(drop(while: { $0.isWhitespace }).reversed().drop(while: { $0.isWhitespace }).reversed())
    }
}
