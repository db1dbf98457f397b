import ArgumentParser
import NetplugCore
#if canImport(Glibc)
import Glibc
#endif

/// `netplug-host systemd`: a socket unit that holds /run/docker/plugins/NAME.sock from boot on,
/// before Docker, and a notify service that serves it. Docker then never finds the socket
/// missing: a call made while the host is down or starting waits instead of failing.
struct Systemd: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write systemd socket and service units that run `serve` for a hooks folder.",
        discussion: """
        Any serve flag after the options goes into the service's command line (except --socket and
        --tcp: the socket unit gives the socket).

        Example:
          netplug-host systemd --hooks /etc/netplug/mybridge --name mybridge --timeout 10
          systemctl daemon-reload && systemctl enable --now netplug-mybridge.socket
        """
    )

    @Option(help: ArgumentHelp("The hooks folder.", valueName: "dir"))
    var hooks: String

    @Option(help: "The driver name: users give it to `docker network create -d NAME`.")
    var name: String = "netplug"

    @Option(help: ArgumentHelp("Where to write the units.", valueName: "dir"))
    var output: String = "/etc/systemd/system"

    @Argument(parsing: .allUnrecognized, help: ArgumentHelp("More serve flags, e.g. --timeout 10 --group docker.", valueName: "serve flags"))
    var serveFlags: [String] = []

    /// The service's command line: serve, the folder, the name, the flags given.
    var serveArguments: [String] { ["serve", "--hooks", absolute(hooks), "--name", name] + serveFlags }

    func validate() throws {
        guard Identifier.isValid(name), name.count <= 64 else {
            throw ValidationError("--name \(name.debugDescription): use 1 to 64 letters, digits, '_', '.' or '-', starting with a letter or digit")
        }
        if let flag = serveFlags.first(where: { ["--socket", "--tcp"].contains($0.split(separator: "=").first.map(String.init) ?? $0) }) {
            throw ValidationError("\(flag): the socket unit gives the socket (/run/docker/plugins/\(name).sock); leave it out")
        }
        // The flags are serve's own: checked as serve would check them, now rather than at boot.
        do {
            _ = try Serve.parse(Array(serveArguments.dropFirst()))
        } catch {
            throw ValidationError(Serve.message(for: error).split(whereSeparator: \.isNewline).first.map(String.init) ?? "\(error)")
        }
    }

    func run() throws {
        let serve = try Serve.parse(Array(serveArguments.dropFirst()))
        let unit = "netplug-\(name)"
        let program: String
        do { program = try RootfsBuilder.realPath("/proc/self/exe") } catch { throw ValidationError("\(error)") }
        let folder = absolute(output)
        let socketUnit = [
            "[Unit]",
            "Description=netplug driver \(name): the socket Docker connects to",
            "Before=docker.service",
            "",
            "[Socket]",
            "ListenStream=/run/docker/plugins/\(name).sock",
            "SocketMode=0660",
        ] + (serve.group.map { ["SocketGroup=\(Systemd.escape($0))"] } ?? []) + [
            "",
            "[Install]",
            "WantedBy=sockets.target",
            "",
        ]
        let serviceUnit = """
        [Unit]
        Description=netplug driver \(name): hooks in \(absolute(hooks))
        Requires=\(unit).socket
        After=\(unit).socket
        Before=docker.service

        [Service]
        Type=notify
        ExecStart=\(([program] + serveArguments).map(Systemd.quote).joined(separator: " "))
        Restart=on-failure
        # SIGTERM to the host alone: it lets running hooks finish, then exits.
        KillMode=mixed
        TimeoutStopSec=\(Int(serve.timeout.rounded(.up)) + 10)

        [Install]
        WantedBy=multi-user.target

        """
        do {
            try Records.makeFolder(folder)
            let writer = Records(stateDir: folder)
            try writer.writeText(socketUnit.joined(separator: "\n"), to: "\(folder)/\(unit).socket")
            try writer.writeText(serviceUnit, to: "\(folder)/\(unit).service")
        } catch {
            throw ValidationError("\(error)")
        }
        print("""
        wrote \(folder)/\(unit).socket and \(folder)/\(unit).service
        Turn them on (the socket at once and at every boot, before Docker; the service on the first call):
          systemctl daemon-reload
          systemctl enable --now \(unit).socket
        Start the host at boot too, not only on Docker's first call:
          systemctl enable \(unit).service
        """)
    }

    /// One ExecStart word: systemd splits on spaces, reads quotes and backslashes, and expands
    /// `%` specifiers and `$` variables.
    static func quote(_ word: String) -> String {
        let escaped = escape(word)
        let plain = !escaped.isEmpty && escaped.allSatisfy { !$0.isWhitespace && !"\"'\\;".contains($0) }
        if plain { return escaped }
        return "\"" + escaped.map { "\"\\".contains($0) ? "\\\($0)" : "\($0)" }.joined() + "\""
    }

    /// A value as a unit file keeps it: `%` and `$` doubled.
    static func escape(_ value: String) -> String {
        value.map { $0 == "%" || $0 == "$" ? "\($0)\($0)" : "\($0)" }.joined()
    }
}
