import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif

/// `netplug-host`: serve a folder of hooks to Docker as a network (and IPAM) plugin.
struct NetplugHost: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "netplug-host",
        abstract: "Serve Docker's network-plugin protocol from a folder of executable hooks.",
        discussion: """
        Each call from Docker runs the hook named after its method (HOOKS/Join, HOOKS/CreateNetwork.sh, ...)
        with the request JSON on stdin; the hook prints the answer JSON on stdout.

        Example:
          netplug-host --hooks ./hooks --name mynet
          docker network create -d mynet mynetwork
        """,
        subcommands: [Serve.self, Init.self, Check.self, CallCommand.self, Exercise.self, Replay.self, ShowSchema.self, State.self],
        defaultSubcommand: Serve.self
    )
}

/// The entry point: usage errors are one line on stderr, never a stack trace or a usage dump.
@main
enum Entry {
    static func main() async {
        do {
            var command = try NetplugHost.parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let code = NetplugHost.exitCode(for: error)
            if code == .success {
                print(NetplugHost.fullMessage(for: error))
                exit(0)
            }
            let message = NetplugHost.message(for: error)
            if !message.isEmpty {
                let line = message.split(whereSeparator: \.isNewline).first.map(String.init) ?? message
                fputs("netplug-host: \(line)\n", stderr)
            }
            exit(code.rawValue)
        }
    }
}
