import ArgumentParser
import NetplugCore
import NetplugServer
#if canImport(Glibc)
import Glibc
#endif

/// `netplug-host exercise --hooks DIR`: a network's whole life, as Docker would drive it, in a
/// throwaway sandbox, with verdicts on what Docker cannot tell a driver author.
struct Exercise: AsyncParsableCommand, SandboxedCommand {
    static let configuration = CommandConfiguration(
        abstract: "Drive a network's whole life through the hooks in a throwaway sandbox: do containers talk, is anything left?",
        discussion: """
        In a new network namespace (the sandbox's host: only lo) with a temporary state folder,
        in Docker 20.10's order: GetCapabilities, CreateNetwork, then for each of --containers
        simulated containers CreateEndpoint, Join, EndpointOperInfo, ProgramExternalConnectivity,
        with Docker's side played after Join (the SrcName link moved into the container's
        namespace as eth0, with its MAC, addresses, routes); then every container pings every
        other one and its gateway. Then each container stops (RevokeExternalConnectivity, Leave,
        the link moved back, DeleteEndpoint), DeleteNetwork, and every delete once more. With
        --ipam, the IPAM calls come where Docker makes them.

        Verdicts: a step fails on an error answer, or when Docker could not use the answer (a
        SrcName that names no link, a gateway it cannot route to); it warns on what serve would
        log as a warning (unknown keys like "Gatway") and on answers Docker takes differently than
        a driver author may think (no Gateway). After the deletes, every link, address, route,
        firewall rule, net.* sysctl and process left behind is named. Exit status 0 only when
        every step answered, every ping got an answer and nothing was left (and, with --strict,
        nothing warned).

        Nothing is made in this machine's own namespaces unless --on-host is given. Needs root,
        or user namespaces; ip, nsenter and ping.

        Examples:
          netplug-host exercise --hooks ./hooks
          netplug-host exercise --hooks examples/bridge --subnet 10.9.0.0/24 --subnet fd00:9::/64 --containers 3
          netplug-host exercise --hooks ./hooks --ipam --json | jq .leftovers
        """
    )

    @OptionGroup var hookOptions: HookOptions
    @OptionGroup var sandbox: SandboxOptions

    @Option(help: ArgumentHelp("The driver name hooks see in NETPLUG_PLUGIN.", valueName: "name"))
    var name: String = "netplug"

    @Option(help: ArgumentHelp("Keep records here instead of a temporary folder.", valueName: "dir"))
    var stateDir: String?

    @Flag(help: "Also drive the IPAM methods (the folder's ipam/ hooks), which then give the pools and addresses.")
    var ipam = false

    @Option(name: [.short, .customLong("option")],
            help: ArgumentHelp("A network option, as `docker network create -o KEY=VALUE` gives it (repeatable).", valueName: "key=value"))
    var options: [String] = []

    @Option(name: .customLong("subnet"),
            help: ArgumentHelp("A pool of the network, IPv4 or IPv6, as `docker network create --subnet` (repeatable; default 172.29.0.0/24).", valueName: "cidr"))
    var subnets: [String] = []

    @Option(help: ArgumentHelp("How many containers join the network (1 to 16).", valueName: "n"))
    var containers: Int = 2

    @Flag(help: "A warning fails the exercise.")
    var strict = false

    @Flag(help: "One JSON object on stdout: {ok, steps, pings, leftovers}.")
    var json = false

    func validate() throws {
        for option in options where !option.contains("=") {
            throw ValidationError("-o \(option.debugDescription): use KEY=VALUE, like -o mtu=1400")
        }
        for subnet in subnets where Subnet(subnet) == nil {
            throw ValidationError("--subnet \(subnet.debugDescription): give a pool in CIDR form with room for a gateway and a container, like 10.9.0.0/24 or fd00:9::/64")
        }
        guard (1...16).contains(containers) else {
            throw ValidationError("--containers \(containers): give a number from 1 to 16")
        }
    }

    func run() async throws {
        if !sandbox.runsHere { SandboxLauncher.run(purpose: "exercise", keep: sandbox.keep, json: json, stateDir: stateDir.map(absolute)) }
        let logger = WarningLog.bootstrap()
        let place: Sandbox
        do { place = try Sandbox(folder: sandbox.insideSandbox, keep: sandbox.keep) } catch { throw ValidationError("\(error)") }
        let (state, cleanup) = try stateFolder(stateDir ?? place.temporaryStateDir, purpose: "exercise")
        let (dispatcher, finish) = try hookOptions.dispatcher(name: name, stateDir: state, logger: logger)

        var life = NetworkLife(dispatcher: dispatcher, sandbox: place, ipam: ipam,
                               subnets: subnets.isEmpty ? [Subnet("172.29.0.0/24")!] : subnets.compactMap(Subnet.init),
                               genericOptions: options.map { option in
                                   let parts = option.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                                   return (String(parts[0]), String(parts[1]))
                               },
                               containers: containers, plugin: name, stateDir: state)
        await life.run()
        var report = life.report
        report.strict = strict
        finish()
        if json { print(report.json.text) } else { report.printText() }
        if !sandbox.keep { cleanup() } else if sandbox.onHost {
            printKeptOnHost(place, state: state)
        }
        try place.finish(code: report.ok ? 0 : 1)
    }

    /// On the machine, kept containers are their holder processes.
    func printKeptOnHost(_ place: Sandbox, state: String) {
        fflush(nil)
        var lines = place.containers.map { "  container \($0.name): nsenter --net=\($0.namespace)" }
        lines.append("state folder: \(state)")
        lines.append("remove them with: kill \(place.containers.map { String($0.holder) }.joined(separator: " "))")
        let text = lines.joined(separator: "\n") + "\n"
        _ = text.withCString { write(json ? STDERR_FILENO : STDOUT_FILENO, $0, strlen($0)) }
    }
}
