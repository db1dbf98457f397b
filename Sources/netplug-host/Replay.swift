import ArgumentParser
import NetplugCore
import NetplugServer
#if canImport(Glibc)
import Glibc
#endif

/// `netplug-host replay DIR --hooks HOOKS`: send recorded calls again, show what changed.
struct Replay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Send the calls kept by serve --record to a hooks folder and show where the answers differ.",
        discussion: """
        The calls run in their recorded order through the same checks and hook runner as serve,
        with a temporary state folder unless --state-dir is given. Exit status 1 when an answer
        differs.

        Example:
          netplug-host serve --hooks ./hooks --record /tmp/calls      # then use Docker
          netplug-host replay /tmp/calls --hooks ./hooks-v2
        """
    )

    @Argument(help: "The folder serve --record wrote.")
    var folder: String

    @OptionGroup var hookOptions: HookOptions

    @Option(help: ArgumentHelp("The driver name hooks see in NETPLUG_PLUGIN.", valueName: "name"))
    var name: String = "netplug"

    @Option(help: ArgumentHelp("Keep records here instead of a temporary folder.", valueName: "dir"))
    var stateDir: String?

    func run() async throws {
        let logger = bootstrapQuietLogging()
        let source = absolute(folder)
        let files = FolderListing.fileNames(in: source).filter { $0.first?.isNumber == true && $0.hasSuffix(".json") }.sorted()
        guard !files.isEmpty else { throw ValidationError("\(source) holds no recorded calls (files like 000001-NetworkDriver.Join.json)") }
        let (state, cleanup) = try stateFolder(stateDir, purpose: "replay")
        defer { cleanup() }
        let (dispatcher, finish) = try hookOptions.dispatcher(name: name, stateDir: state, logger: logger)
        defer { finish() }

        var differing = 0
        for file in files {
            let path = source + "/" + file
            guard let bytes = readAll(path), let entry = try? JSON.parse(bytes), let uri = entry["Path"]?.string else {
                print("\(file): not a recorded call, skipped")
                continue
            }
            let body = entry["Request"].map(\.bytes) ?? Array((entry["RequestText"]?.string ?? "").utf8)
            let answer = await dispatcher.handle(path: uri, body: body)
            let was = "\(entry["Status"]?.integer ?? 0) \(entry["Response"].map(Replay.canonical) ?? "")"
            let now = "\(answer.status) \(Replay.canonical(answer.body))"
            if was == now {
                print("\(file): same (\(answer.status))")
            } else {
                differing += 1
                print("\(file): differs\n  was: \(was)\n  now: \(now)")
            }
        }
        print(differing == 0 ? "all \(files.count) answers are the same" : "\(differing) of \(files.count) answers differ")
        if differing > 0 { throw ExitCode(1) }
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
