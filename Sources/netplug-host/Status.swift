import ArgumentParser
import NetplugCore
#if canImport(Glibc)
import Glibc
#endif

/// `netplug-host status`: what a running host is doing, asked over its socket (`GET /status`).
struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show what a running host does: calls per method, calls in flight, resident instances, records.",
        discussion: """
        Asks the host over its socket; nothing is changed. A managed plugin's socket is
        /run/docker/plugins/ID/NAME.sock (give it with --socket).

        Examples:
          netplug-host status --name mynet
          netplug-host status --socket /run/docker/plugins/mynet.sock --json
          netplug-host status --name mynet --watch
        """
    )

    @Option(help: "The driver name: asks /run/docker/plugins/NAME.sock.")
    var name: String = "netplug"

    @Option(help: ArgumentHelp("Ask the host listening on this Unix socket instead.", valueName: "path"))
    var socket: String?

    @Flag(help: "Print one JSON object (with --watch, one per line each second).")
    var json = false

    @Flag(help: "Redraw every second until interrupted (Ctrl-C ends it with exit 0).")
    var watch = false

    var path: String { socket ?? "/run/docker/plugins/\(name).sock" }

    func run() throws {
        guard watch else {
            do {
                print(try render(try fetch()))
            } catch {
                printError("\(error)")
                throw ExitCode(1)
            }
            return
        }
        // Interrupting a watch is how it ends: that is a success.
        signal(SIGINT) { _ in _exit(0) }
        signal(SIGTERM) { _ in _exit(0) }
        while true {
            let screen: String
            do {
                screen = try render(try fetch())
            } catch {
                // The host may be restarting: say so, and ask again next second.
                screen = "netplug-host: \(error)"
            }
            // Home and clear, like top; JSON stays one object per line.
            print(json ? screen : "\u{1B}[H\u{1B}[2J" + screen)
            fflush(nil)
            sleep(1)
        }
    }

    func fetch() throws -> JSON {
        let reply = try UnixHTTP.get("/status", socket: path)
        guard reply.status == 200 else {
            let said = String(decoding: reply.body.prefix(200), as: UTF8.self).split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
            throw UnixHTTP.Failure(description: "\(path) answered GET /status with \(reply.status): \(said) (status needs netplug-host 0.21 or later, counting)")
        }
        do {
            return try JSON.parse(reply.body)
        } catch {
            throw UnixHTTP.Failure(description: "\(path) answered GET /status with something that is not JSON (\(error))")
        }
    }

    func render(_ status: JSON) -> String {
        json ? String(decoding: status.bytes, as: UTF8.self) : StatusText.render(status)
    }
}

/// The table `status` prints.
enum StatusText {
    static func render(_ status: JSON) -> String {
        var lines: [String] = []
        let version = status.member("version")?.string ?? "?"
        let uptime = duration(status.member("uptime_seconds")?.number ?? 0)
        let hooks = status.member("hooks")?.string.map { ", hooks \($0)" } ?? ""
        lines.append("netplug-host \(version), up \(uptime)\(hooks)")
        lines.append("")
        let methods = status.member("methods")?.members ?? []
        if methods.isEmpty {
            lines.append("no calls yet")
        } else {
            let width = max(6, methods.map(\.key.count).max() ?? 0)
            lines.append(pad("METHOD", width) + "  " + ["CALLS", "ERRORS", "TIMEOUTS", "P50", "P99"].map { left($0, 10) }.joined())
            for (method, numbers) in methods {
                let counts = ["calls", "errors", "timeouts"].map { left(String(numbers.member($0)?.integer ?? 0), 10) }
                let latencies = ["p50_seconds", "p99_seconds"].map { left(seconds(numbers.member($0)?.number ?? 0), 10) }
                lines.append(pad(method, width) + "  " + (counts + latencies).joined())
            }
        }
        let running = status.member("in_flight")?.elements ?? []
        lines.append("")
        lines.append("in flight: \(running.isEmpty ? "none" : String(running.count))")
        for call in running {
            let network = call.member("network")?.string.map { " network \($0.prefix(12))" } ?? ""
            lines.append("  \(call.member("method")?.string ?? "?")\(network) for \(seconds(call.member("age_seconds")?.number ?? 0))")
        }
        let resident = status.member("resident")?.elements ?? []
        if !resident.isEmpty {
            lines.append("resident instances:")
            for instance in resident {
                lines.append("  \(instance.member("family")?.string ?? "?") pid \(instance.member("pid")?.integer ?? 0), \(instance.member("calls")?.integer ?? 0) calls")
            }
        }
        let records = status.member("records")
        let count = { (key: String) in records?.member(key)?.integer ?? 0 }
        lines.append("records: network \(count("network")), endpoint \(count("endpoint")), damaged \(count("damaged"))")
        return lines.joined(separator: "\n")
    }

    static func seconds(_ value: Double) -> String {
        if value < 0.001 { return "\(Int((value * 1e6).rounded())) us" }
        if value < 1 { return fixed(value * 1000, 1) + " ms" }
        return fixed(value, 2) + " s"
    }

    static func duration(_ value: Double) -> String {
        let total = Int(value)
        let (hours, minutes, secs) = (total / 3600, total / 60 % 60, total % 60)
        if hours > 0 { return "\(hours)h \(minutes)m \(secs)s" }
        if minutes > 0 { return "\(minutes)m \(secs)s" }
        return "\(secs)s"
    }

    static func pad(_ text: String, _ width: Int) -> String { text + String(repeating: " ", count: max(0, width - text.count)) }
    static func left(_ text: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - text.count)) + text }
}
