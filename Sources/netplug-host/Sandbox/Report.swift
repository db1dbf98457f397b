import Logging
import NetplugCore
import NetplugServer
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// What `exercise` and `replay` found: each step's verdict, each ping, what was left behind.
struct Report {
    struct Step {
        var step: String
        var method: String
        var container: String?
        var status: Int
        var milliseconds: Double
        var verdict: Verdict
        var message: String
    }

    enum Verdict: String { case ok, warn, fail }

    struct Ping {
        var from: String
        var to: String
        var address: String
        var ok: Bool
    }

    var steps: [Step] = []
    var pings: [Ping] = []
    var leftovers: [Leftover] = []
    /// Lines the text form prints after the table (e.g. what the sandbox could not do).
    var problems: [String] = []
    var strict = false

    var failedSteps: Int { steps.filter { $0.verdict == .fail || (strict && $0.verdict == .warn) }.count }
    var failedPings: Int { pings.filter { !$0.ok }.count }
    var ok: Bool { failedSteps == 0 && failedPings == 0 && leftovers.isEmpty && problems.isEmpty }

    func printText() {
        print(pad("STEP", 26) + pad("METHOD", 40) + pad("STATUS", 7) + pad("MS", 9) + "VERDICT")
        for step in steps {
            let verdict = step.message.isEmpty ? step.verdict.rawValue : "\(step.verdict.rawValue): \(step.message)"
            print(pad(step.step, 26) + pad(step.method, 40) + pad(step.status == 0 ? "-" : String(step.status), 7)
                  + pad(fixed(step.milliseconds, 2), 9) + verdict)
        }
        if !pings.isEmpty {
            print("")
            print(pad("PING FROM", 11) + pad("TO", 10) + pad("ADDRESS", 42) + "RESULT")
            for ping in pings {
                print(pad(ping.from, 11) + pad(ping.to, 10) + pad(ping.address, 42) + (ping.ok ? "ok" : "FAIL: no answer"))
            }
        }
        if !leftovers.isEmpty {
            print("")
            print("left behind after DeleteNetwork:")
            for leftover in leftovers { print("  \(leftover.kind) \(leftover.name) (\(leftover.detail))") }
        }
        for problem in problems { print(problem) }
        print(summary)
    }

    var summary: String {
        var parts: [String] = []
        let warned = steps.filter { $0.verdict == .warn }.count
        parts.append(failedSteps == 0 ? "all \(steps.count) steps answered" : "\(failedSteps) of \(steps.count) steps failed")
        if warned > 0 && !strict { parts.append("\(warned) with a warning") }
        if !pings.isEmpty { parts.append(failedPings == 0 ? "all \(pings.count) pings answered" : "\(failedPings) of \(pings.count) pings failed") }
        parts.append(leftovers.isEmpty ? "nothing left behind" : "\(leftovers.count) thing(s) left behind")
        return (ok ? "passed: " : "FAILED: ") + parts.joined(separator: ", ")
    }

    var json: JSON {
        let steps = self.steps.map { step in
            JSON.object(["step": .string(step.step), "method": .string(step.method),
                         "container": step.container.map { JSON.string($0) } ?? .null,
                         "status": .integer(step.status), "ms": .real((step.milliseconds * 100).rounded() / 100),
                         "verdict": .string(step.verdict.rawValue), "message": .string(step.message)])
        }
        let pings = self.pings.map { ping in
            JSON.object(["from": .string(ping.from), "to": .string(ping.to), "address": .string(ping.address), "ok": .bool(ping.ok)])
        }
        let leftovers = self.leftovers.map { leftover in
            JSON.object(["kind": .string(leftover.kind), "name": .string(leftover.name), "detail": .string(leftover.detail)])
        }
        let report = JSON.object(["ok": .bool(ok), "steps": .array(steps), "pings": .array(pings), "leftovers": .array(leftovers)])
        if !problems.isEmpty { report.set("problems", .array(problems.map { JSON.string($0) })) }
        return report
    }
}

func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
}

/// Everything the one-shot commands would log at warning or above, kept so that each step
/// can show what was said during it (an unknown key in an answer, a record not kept, ...).
final class WarningLog: Sendable {
    static let shared = WarningLog()
    private let lines = Mutex<[String]>([])

    /// Everything said since the last call.
    func take() -> [String] { lines.withLock { taken in defer { taken = [] }; return taken } }

    func add(_ line: String) { lines.withLock { $0.append(line) } }

    /// Logging for exercise and replay: warnings go to the report, nothing to stderr.
    static func bootstrap() -> Logger {
        LoggingSystem.bootstrap { _ in Collector() }
        return Logger(label: "netplug-host")
    }

    struct Collector: LogHandler {
        var logLevel: Logger.Level = .warning
        var metadata: Logger.Metadata = [:]
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            // The per-call line of a failed call: the step already says it failed, and why.
            guard event.level >= .warning, event.metadata?["http.status"] == nil else { return }
            WarningLog.shared.add("\(event.message)")
        }
    }
}
