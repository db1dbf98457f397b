import ArgumentParser
import NetplugCore
import NetplugServer
#if canImport(Glibc)
import Glibc
#endif

/// `netplug-host replay DIR --hooks HOOKS`: send recorded calls again, show what changed.
struct Replay: AsyncParsableCommand, SandboxedCommand {
    static let configuration = CommandConfiguration(
        abstract: "Send the calls kept by serve --record to a hooks folder and show where the answers differ.",
        discussion: """
        The calls run in their recorded order through the same checks and hook runner as serve,
        in a throwaway sandbox (a new network namespace, a temporary state folder unless
        --state-dir is given), with Docker's side played around each Join and Leave: the
        SrcName link moved into a simulated container, and back after Leave. The containers a
        recording names are never touched: Join is told the sandbox's own SandboxKey. Exit
        status 1 when an answer differs or Docker could not use it (with --strict, also when
        one warns).

        Example:
          netplug-host serve --hooks ./hooks --record /tmp/calls      # then use Docker
          netplug-host replay /tmp/calls --hooks ./hooks-v2
        """
    )

    @Argument(help: "The folder serve --record wrote.")
    var folder: String

    @OptionGroup var hookOptions: HookOptions
    @OptionGroup var sandbox: SandboxOptions

    @Option(help: ArgumentHelp("The driver name hooks see in NETPLUG_PLUGIN.", valueName: "name"))
    var name: String = "netplug"

    @Option(help: ArgumentHelp("Keep records here instead of a temporary folder.", valueName: "dir"))
    var stateDir: String?

    @Flag(help: "A warning counts as a difference.")
    var strict = false

    @Flag(help: "One JSON object on stdout: {ok, steps, pings, leftovers}, a step per recorded call.")
    var json = false

    func run() async throws {
        let source = absolute(folder)
        let files = FolderListing.fileNames(in: source).filter { $0.first?.isNumber == true && $0.hasSuffix(".json") }.sorted()
        guard !files.isEmpty else { throw ValidationError("\(source) holds no recorded calls (files like 000001-NetworkDriver.Join.json)") }
        if !sandbox.runsHere {
            SandboxLauncher.run(purpose: "replay", keep: sandbox.keep, json: json, stateDir: stateDir.map(absolute))
        }
        let logger = WarningLog.bootstrap()
        let place: Sandbox
        do { place = try Sandbox(folder: sandbox.insideSandbox, keep: sandbox.keep) } catch { throw ValidationError("\(error)") }
        let (state, cleanup) = try stateFolder(stateDir ?? place.temporaryStateDir, purpose: "replay")
        let (dispatcher, finish) = try hookOptions.dispatcher(name: name, stateDir: state, logger: logger)
        let docker = DockerSide(sandbox: place)

        var report = Report()
        report.strict = strict
        var differing = 0
        /// Simulated containers by endpoint, from Join to Leave (or DeleteEndpoint).
        var containers: [String: (container: Sandbox.Container, attached: DockerSide.Attached?)] = [:]
        var lines: [String] = []
        for file in files {
            let path = source + "/" + file
            guard let bytes = readAll(path), let entry = try? JSON.parse(bytes), let uri = entry["Path"]?.string else {
                lines.append("\(file): not a recorded call, skipped")
                continue
            }
            let method = Methods.method(atPath: uri)
            let request = entry["Request"]
            let endpoint = request?.member("EndpointID")?.string
            var body = request.map(\.bytes) ?? Array((entry["RequestText"]?.string ?? "").utf8)
            var container: Sandbox.Container?
            if method?.id == .join, let request, let endpoint {
                // The recording's SandboxKey is a live container's namespace: never hand it out.
                if let made = try? place.makeContainer() {
                    container = made
                    let copy = request.copy()
                    copy.set("SandboxKey", .string(made.sandboxKey))
                    body = copy.bytes
                    containers[endpoint] = (made, nil)
                }
            }
            _ = WarningLog.shared.take()
            let started = HookRunner.now()
            let answer = await dispatcher.handle(path: uri, body: body)
            let milliseconds = (HookRunner.now() - started) * 1000
            var warnings = WarningLog.shared.take()
            var problems: [String] = []

            if let container, let endpoint {
                if answer.status == 200 {
                    place.publish(container)
                    let asked = DockerSide.JoinAnswer(answer.body)
                    warnings += DockerSide.notes(on: asked)
                    let record = endpointRecord(state, endpoint)
                    do {
                        containers[endpoint]?.attached = try docker.attach(asked, endpoint: DockerSide.Endpoint(request: record.request, answer: record.answer), to: container)
                    } catch {
                        containers[endpoint]?.attached = (error as? DockerSide.AttachFailure)?.attached
                        problems.append("\(error)")
                    }
                } else {
                    place.remove(container)
                    containers[endpoint] = nil
                }
            }
            if method?.id == .leave, let endpoint, let held = containers[endpoint] {
                if let attached = held.attached, let problem = docker.detach(attached) { problems.append(problem) }
                place.remove(held.container)
                containers[endpoint] = nil
            }
            if method?.id == .deleteEndpoint, let endpoint, let held = containers[endpoint] {
                place.remove(held.container)
                containers[endpoint] = nil
            }

            let was = "\(entry["Status"]?.integer ?? 0) \(entry["Response"].map(Replay.canonical) ?? "")"
            let now = "\(answer.status) \(Replay.canonical(answer.body))"
            var verdict = Report.Verdict.ok
            var message = ""
            if was != now {
                verdict = .fail
                message = "was: \(was); now: \(now)"
                lines.append("\(file): differs\n  was: \(was)\n  now: \(now)")
            } else {
                lines.append("\(file): same (\(answer.status))")
            }
            if !problems.isEmpty {
                verdict = .fail
                message = ([message] + problems).filter { !$0.isEmpty }.joined(separator: "; ")
                lines.append("  Docker's side: " + problems.joined(separator: "; "))
            }
            if !warnings.isEmpty {
                if verdict == .ok { verdict = .warn }
                message = ([message] + warnings).filter { !$0.isEmpty }.joined(separator: "; ")
                lines.append("  warn: " + warnings.joined(separator: "; "))
            }
            if verdict == .fail || (strict && verdict == .warn) { differing += 1 }
            report.steps.append(Report.Step(step: file, method: method?.fullName ?? uri, container: nil, status: answer.status,
                                            milliseconds: milliseconds, verdict: verdict, message: message))
        }
        finish()
        if json {
            print(report.json.text)
        } else {
            for line in lines { print(line) }
            print(differing == 0 ? "all \(files.count) answers are the same" : "\(differing) of \(files.count) answers differ")
        }
        if !sandbox.keep { cleanup() }
        try place.finish(code: differing == 0 ? 0 : 1)
    }

    /// The endpoint's CreateEndpoint request and answer as this replay's host kept them.
    func endpointRecord(_ state: String, _ endpoint: String) -> (request: JSON, answer: JSON) {
        let records = Records(stateDir: state)
        guard let record = (try? records.read(records.endpointPath(endpoint))) ?? nil else { return (.object(), .object()) }
        return (record["Request"] ?? .object(), record["Response"] ?? .object())
    }

    /// Key order does not make answers differ.
    static func canonical(_ value: JSON) -> String {
        switch value.kind {
        case .object:
            return "{" + value.members.sorted { $0.key < $1.key }.map { "\(JSON.string($0.key).text):\(canonical($0.value))" }.joined(separator: ",") + "}"
        case .array:
            return "[" + value.elements.map(canonical).joined(separator: ",") + "]"
        default:
            return value.text
        }
    }
}
