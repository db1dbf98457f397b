import ArgumentParser
import NetplugCore
import NetplugServer
#if canImport(Glibc)
import Glibc
#endif

/// `netplug-host exercise --hooks DIR`: a network's whole life, as Docker would drive it.
struct Exercise: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Drive a whole network lifecycle through the hooks, then every delete again.",
        discussion: """
        GetCapabilities, CreateNetwork, CreateEndpoint, Join, EndpointOperInfo, Leave, DeleteEndpoint,
        DeleteNetwork (with --ipam, the IPAM calls in Docker's order around them), with realistic
        requests; then each delete and release once more, since Docker may repeat them. Prints a
        table of step, status, milliseconds and verdict; exits 1 if any step fails. The hooks run
        for real. Records go to a temporary state folder unless --state-dir is given.

        Examples:
          netplug-host exercise --hooks ./hooks --ipam
          netplug-host exercise --hooks examples/bridge -o mtu=1400 -o bridge=br-try
        """
    )

    @OptionGroup var hookOptions: HookOptions

    @Option(help: ArgumentHelp("The driver name hooks see in NETPLUG_PLUGIN.", valueName: "name"))
    var name: String = "netplug"

    @Option(help: ArgumentHelp("Keep records here instead of a temporary folder.", valueName: "dir"))
    var stateDir: String?

    @Flag(help: "Also drive the IPAM methods (the folder's ipam/ hooks).")
    var ipam = false

    @Option(name: [.short, .customLong("option")],
            help: ArgumentHelp("A network option, as `docker network create -o KEY=VALUE` gives it (repeatable).", valueName: "key=value"))
    var options: [String] = []

    func validate() throws {
        for option in options where !option.contains("=") {
            throw ValidationError("-o \(option.debugDescription): use KEY=VALUE, like -o mtu=1400")
        }
    }

    struct Step {
        var label: String
        var method: Method
        var request: JSON
        var status = 0
        var milliseconds = 0.0
        var verdict = ""
        var answer = JSON.object()
    }

    func run() async throws {
        let logger = bootstrapQuietLogging()
        let (state, cleanup) = try stateFolder(stateDir, purpose: "exercise")
        defer { cleanup() }
        let (dispatcher, finish) = try hookOptions.dispatcher(name: name, stateDir: state, logger: logger)
        defer { finish() }
        var ids = Samples.IDs(network: randomID(), endpoint: randomID())

        var steps: [Step] = []
        func run(_ label: String, _ fullName: String, _ request: JSON? = nil) async -> Step {
            let method = Methods.named(fullName)!
            var step = Step(label: label, method: method, request: request ?? Samples.request(method, ids))
            let started = HookRunner.now()
            let answer = await dispatcher.handle(path: method.path, body: step.request.bytes)
            step.milliseconds = (HookRunner.now() - started) * 1000
            step.status = answer.status
            step.answer = answer.body
            step.verdict = answer.status == 200 ? "ok" : "FAIL: \(answer.errorText ?? answer.body.text)"
            steps.append(step)
            return step
        }

        var pool = "172.29.0.0/24", gateway = "172.29.0.1/24", address = "172.29.0.2/24"
        if ipam {
            _ = await run("IPAM capabilities", "IpamDriver.GetCapabilities")
            _ = await run("IPAM address spaces", "IpamDriver.GetDefaultAddressSpaces")
        }
        _ = await run("capabilities", "NetworkDriver.GetCapabilities")
        if ipam {
            let granted = await run("request pool", "IpamDriver.RequestPool")
            ids.pool = granted.answer.member("PoolID")?.string ?? ids.pool
            pool = granted.answer.member("Pool")?.string ?? pool
            let gatewayRequest = try JSON.parse(#"{"PoolID":"\#(ids.pool)","Address":"","Options":{"RequestAddressType":"com.docker.network.gateway"}}"#)
            gateway = await run("request gateway", "IpamDriver.RequestAddress", gatewayRequest).answer.member("Address")?.string ?? gateway
        }
        let create = Samples.request(Methods.named("NetworkDriver.CreateNetwork")!, ids)
        let generic = JSON.object()
        for option in options {
            let parts = option.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            generic.set(String(parts[0]), .string(String(parts[1])))
        }
        create["Options"]?.set("com.docker.network.generic", generic)
        create.set("IPv4Data", .array([.object(["AddressSpace": .string("LocalDefault"), "Pool": .string(pool), "Gateway": .string(gateway)])]))
        _ = await run("create network", "NetworkDriver.CreateNetwork", create)
        if ipam {
            let granted = await run("request address", "IpamDriver.RequestAddress")
            address = granted.answer.member("Address")?.string ?? address
        }
        let endpoint = Samples.request(Methods.named("NetworkDriver.CreateEndpoint")!, ids)
        endpoint.set("Interface", .object(["Address": .string(address), "AddressIPv6": .string(""), "MacAddress": .string("")]))
        _ = await run("create endpoint", "NetworkDriver.CreateEndpoint", endpoint)
        var join = await run("join", "NetworkDriver.Join")
        if join.status == 200 && join.answer.member("InterfaceName") == nil {
            join.verdict = "ok; note: no InterfaceName, so Docker gives the container no interface from this driver"
            steps[steps.count - 1] = join
        }
        _ = await run("endpoint info", "NetworkDriver.EndpointOperInfo")
        _ = await run("leave", "NetworkDriver.Leave")

        func deletes(_ suffix: String) async {
            _ = await run("delete endpoint" + suffix, "NetworkDriver.DeleteEndpoint")
            if ipam {
                let release = try! JSON.parse(#"{"PoolID":"\#(ids.pool)","Address":"\#(address.split(separator: "/")[0])"}"#)
                _ = await run("release address" + suffix, "IpamDriver.ReleaseAddress", release)
            }
            _ = await run("delete network" + suffix, "NetworkDriver.DeleteNetwork")
            if ipam {
                let release = try! JSON.parse(#"{"PoolID":"\#(ids.pool)","Address":"\#(gateway.split(separator: "/")[0])"}"#)
                _ = await run("release gateway" + suffix, "IpamDriver.ReleaseAddress", release)
                _ = await run("release pool" + suffix, "IpamDriver.ReleasePool", try! JSON.parse(#"{"PoolID":"\#(ids.pool)"}"#))
            }
        }
        await deletes("")
        await deletes(" (again)")

        print(pad("STEP", 26) + pad("METHOD", 38) + pad("STATUS", 7) + pad("MS", 9) + "VERDICT")
        for step in steps {
            print(pad(step.label, 26) + pad(step.method.fullName, 38) + pad(String(step.status), 7)
                  + pad(format(step.milliseconds), 9) + step.verdict)
        }
        let failed = steps.filter { $0.status != 200 }.count
        print(failed == 0 ? "all \(steps.count) steps passed" : "\(failed) of \(steps.count) steps failed")
        if failed > 0 { throw ExitCode(1) }
    }

    func randomID() -> String {
        (0..<32).map { _ in String(UInt8.random(in: 0...255), radix: 16) }.map { $0.count == 1 ? "0" + $0 : $0 }.joined()
    }

    func format(_ value: Double) -> String {
        let hundredths = Int((value * 100).rounded())
        let fraction = hundredths % 100
        return "\(hundredths / 100)." + (fraction < 10 ? "0" : "") + "\(fraction)"
    }
}

func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
}
