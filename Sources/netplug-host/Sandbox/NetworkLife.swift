import NetplugCore
import NetplugServer
#if canImport(Glibc)
import Glibc
#endif

/// A network's whole life as Docker 20.10 drives it, with `containers` simulated containers:
/// the calls in Docker's order, Docker's side of each container played around Join and Leave,
/// the pings between containers, then what the deletes left behind, then every delete again.
struct NetworkLife {
    var dispatcher: Dispatcher
    var sandbox: Sandbox
    var ipam: Bool
    var subnets: [Subnet]
    var genericOptions: [(String, String)]
    var containers: Int
    var plugin: String
    var stateDir: String

    private(set) var report = Report()

    /// The endpoint options Docker 20.10 sends for a container started without `-p`.
    static let noPorts = #"{"com.docker.network.endpoint.exposedports":[],"com.docker.network.portmap":[]}"#

    /// A pool of the network and what was handed out of it.
    struct Pool {
        var subnet: String
        var poolID: String
        var gateway: String
        var isIPv6: Bool
        var next = 2
        var given: Subnet?
    }

    /// One simulated container and its endpoint.
    struct Member {
        var container: Sandbox.Container
        var endpointID: String
        var address: String?
        var addressIPv6: String?
        var joined = false
        var attached: DockerSide.Attached?
        var programmed = false
        var gateway: String?
    }

    mutating func run() async {
        let network = randomHex(32)
        let sandbox = self.sandbox
        let docker = DockerSide(sandbox: sandbox)
        var pools: [Pool] = []

        if ipam {
            await call("IPAM capabilities", "IpamDriver.GetCapabilities", "{}")
            await call("IPAM address spaces", "IpamDriver.GetDefaultAddressSpaces", "{}")
        }
        await call("capabilities", "NetworkDriver.GetCapabilities", "{}")
        for subnet in subnets {
            let family = subnet.isIPv6 ? " IPv6" : ""
            if ipam {
                let request = JSON.object(["AddressSpace": .string("LocalDefault"), "Pool": .string(subnet.description), "SubPool": .string(""),
                                           "Options": .object(), "V6": .bool(subnet.isIPv6)])
                let granted = await call("request\(family) pool", "IpamDriver.RequestPool", request)
                let poolID = granted.body.member("PoolID")?.string ?? ""
                let pool = granted.body.member("Pool")?.string ?? subnet.description
                let gatewayRequest = JSON.object(["PoolID": .string(poolID), "Address": .string(""),
                                                  "Options": .object(["RequestAddressType": .string("com.docker.network.gateway")])])
                let gateway = await call("request\(family) gateway", "IpamDriver.RequestAddress", gatewayRequest).body.member("Address")?.string ?? ""
                pools.append(Pool(subnet: pool, poolID: poolID, gateway: gateway, isIPv6: subnet.isIPv6))
            } else {
                pools.append(Pool(subnet: subnet.description, poolID: "", gateway: subnet.cidr(1) ?? "", isIPv6: subnet.isIPv6, given: subnet))
            }
        }

        let before = snapshot()
        let generic = JSON.object()
        for (key, value) in genericOptions { generic.set(key, .string(value)) }
        func data(_ ipv6: Bool) -> JSON {
            .array(pools.filter { $0.isIPv6 == ipv6 }.map { pool in
                var entry: JSON = .object(["AddressSpace": .string("LocalDefault"), "Pool": .string(pool.subnet)])
                if !pool.gateway.isEmpty { entry = .object(["AddressSpace": .string("LocalDefault"), "Pool": .string(pool.subnet), "Gateway": .string(pool.gateway)]) }
                return entry
            })
        }
        let hasIPv6 = pools.contains { $0.isIPv6 }
        let create = JSON.object([
            "NetworkID": .string(network),
            "Options": .object(["com.docker.network.enable_ipv6": .bool(hasIPv6), "com.docker.network.generic": generic]),
            "IPv4Data": data(false), "IPv6Data": data(true),
        ])
        let created = await call("create network", "NetworkDriver.CreateNetwork", create)
        let networkGateway = Pings.plain(pools.first { !$0.isIPv6 }?.gateway)

        var members: [Member] = []
        /// Every endpoint that got addresses (joined or not): its deletes and releases come again.
        var ended: [Member] = []
        if created.status == 200 {
            for _ in 0..<containers {
                guard let container = attempt({ try sandbox.makeContainer() }) else { break }
                var member = Member(container: container, endpointID: randomHex(32))
                let tag = container.name
                let ids = #""NetworkID":"\#(network)","EndpointID":"\#(member.endpointID)""#
                // Docker's IPAM gives the addresses before the driver hears of the endpoint.
                for index in pools.indices where pools[index].isIPv6 ? member.addressIPv6 == nil : member.address == nil {
                    var address: String?
                    if ipam {
                        let request = JSON.object(["PoolID": .string(pools[index].poolID), "Address": .string(""), "Options": .object()])
                        address = await call("request address \(tag)", "IpamDriver.RequestAddress", request, container: tag).body.member("Address")?.string
                    } else {
                        address = pools[index].given?.cidr(pools[index].next)
                        pools[index].next += 1
                    }
                    if pools[index].isIPv6 { member.addressIPv6 = address } else { member.address = address }
                }
                let interface = JSON.object(["Address": .string(member.address ?? ""), "AddressIPv6": .string(member.addressIPv6 ?? ""), "MacAddress": .string("")])
                let endpointRequest = try! JSON.parse(#"{\#(ids),"Options":\#(NetworkLife.noPorts)}"#)
                endpointRequest.set("Interface", interface)
                let endpoint = await call("create endpoint \(tag)", "NetworkDriver.CreateEndpoint", endpointRequest, container: tag)
                guard endpoint.status == 200 else {
                    // Docker gives the addresses back; the container does not start.
                    await releaseAddresses(member, pools, suffix: "")
                    ended.append(member)
                    sandbox.remove(container)
                    continue
                }
                let joinRequest = try! JSON.parse(#"{\#(ids),"SandboxKey":"\#(container.sandboxKey)","Options":\#(NetworkLife.noPorts)}"#)
                let join = await call("join \(tag)", "NetworkDriver.Join", joinRequest, container: tag) { answer in
                    ([], DockerSide.notes(on: DockerSide.JoinAnswer(answer.body)))
                }
                if join.status != 200 {
                    // Docker's way after a failed Join: DeleteEndpoint, no Leave.
                    await call("delete endpoint \(tag)", "NetworkDriver.DeleteEndpoint", "{\(ids)}", container: tag)
                    await releaseAddresses(member, pools, suffix: "")
                    ended.append(member)
                    sandbox.remove(container)
                    continue
                }
                let joinStep = report.steps.count - 1
                let asked = DockerSide.JoinAnswer(join.body)
                member.gateway = asked.gateway ?? networkGateway
                // Docker asks for external connectivity from the endpoint that gives the
                // container its gateway, before the link moves (Docker 20.10 moves it when the
                // container's namespace is made, just before the container's process starts).
                if asked.gateway != nil {
                    member.programmed = true
                    await call("external connectivity \(tag)", "NetworkDriver.ProgramExternalConnectivity",
                               #"{\#(ids),"Options":\#(NetworkLife.noPorts)}"#, container: tag)
                }
                sandbox.publish(container)
                do {
                    member.attached = try docker.attach(asked, endpoint: DockerSide.Endpoint(request: endpointRequest, answer: endpoint.body), to: container)
                } catch {
                    member.attached = (error as? DockerSide.AttachFailure)?.attached
                    // The container does not start, and Docker undoes the endpoint's join:
                    // RevokeExternalConnectivity, Leave, the link back, DeleteEndpoint.
                    report.steps[joinStep].verdict = .fail
                    report.steps[joinStep].message = ([report.steps[joinStep].message, "\(error)"]).filter { !$0.isEmpty }.joined(separator: "; ")
                    await stop(member, network: network, docker: docker, pools: pools)
                    ended.append(member)
                    continue
                }
                member.joined = true
                await call("endpoint info \(tag)", "NetworkDriver.EndpointOperInfo", "{\(ids)}", container: tag)
                members.append(member)
            }
        }

        let targets = members.filter(\.joined).map { member in
            Pings.Target(container: member.container, ipv4: Pings.plain(member.address), ipv6: Pings.plain(member.addressIPv6), gateway: Pings.plain(member.gateway))
        }
        if !targets.isEmpty {
            do { report.pings = try Pings.run(targets, sandbox: sandbox) } catch { report.problems.append("\(error)") }
        }

        // The containers stop.
        for member in members {
            await stop(member, network: network, docker: docker, pools: pools)
            ended.append(member)
        }
        if created.status == 200 {
            await deleteNetwork(network, pools, suffix: "")
        } else {
            await releasePools(pools, suffix: "")
        }

        // Docker may send a delete again (a retry, a daemon restart): each must still succeed.
        for member in ended.sorted(by: { $0.container.name < $1.container.name }) {
            let ids = #""NetworkID":"\#(network)","EndpointID":"\#(member.endpointID)""#
            await call("delete endpoint \(member.container.name) (again)", "NetworkDriver.DeleteEndpoint", "{\(ids)}", container: member.container.name)
            await releaseAddresses(member, pools, suffix: " (again)")
        }
        if created.status == 200 { await deleteNetwork(network, pools, suffix: " (again)") }

        report.leftovers = snapshot().leftovers(since: before)
    }

    /// A container stops: RevokeExternalConnectivity, Leave, the link back to the host,
    /// DeleteEndpoint, the addresses back to the IPAM; the container's namespace goes.
    private mutating func stop(_ member: Member, network: String, docker: DockerSide, pools: [Pool]) async {
        let tag = member.container.name
        let ids = #""NetworkID":"\#(network)","EndpointID":"\#(member.endpointID)""#
        if member.programmed {
            await call("revoke connectivity \(tag)", "NetworkDriver.RevokeExternalConnectivity", "{\(ids)}", container: tag)
        }
        await call("leave \(tag)", "NetworkDriver.Leave", "{\(ids)}", container: tag)
        if let attached = member.attached, let problem = docker.detach(attached) {
            report.problems.append("after leave \(tag): \(problem)")
        }
        await call("delete endpoint \(tag)", "NetworkDriver.DeleteEndpoint", "{\(ids)}", container: tag)
        await releaseAddresses(member, pools, suffix: "")
        sandbox.remove(member.container)
    }

    private func snapshot() -> NamespaceSnapshot {
        NamespaceSnapshot.take(sandbox, ignoringProcesses: Set(sandbox.containers.map(\.holder)), onlyHookProcesses: sandbox.onHost,
                               plugin: plugin, stateDir: stateDir)
    }

    private mutating func deleteNetwork(_ network: String, _ pools: [Pool], suffix: String) async {
        await call("delete network" + suffix, "NetworkDriver.DeleteNetwork", #"{"NetworkID":"\#(network)"}"#)
        await releasePools(pools, suffix: suffix)
    }

    private mutating func releasePools(_ pools: [Pool], suffix: String) async {
        guard ipam else { return }
        for pool in pools where !pool.poolID.isEmpty {
            let family = pool.isIPv6 ? " IPv6" : ""
            if let gateway = Pings.plain(pool.gateway) {
                await call("release\(family) gateway" + suffix, "IpamDriver.ReleaseAddress",
                           JSON.object(["PoolID": .string(pool.poolID), "Address": .string(gateway)]))
            }
            await call("release\(family) pool" + suffix, "IpamDriver.ReleasePool", JSON.object(["PoolID": .string(pool.poolID)]))
        }
    }

    private mutating func releaseAddresses(_ member: Member, _ pools: [Pool], suffix: String) async {
        guard ipam else { return }
        for pool in pools {
            guard let address = Pings.plain(pool.isIPv6 ? member.addressIPv6 : member.address) else { continue }
            await call("release address \(member.container.name)" + suffix, "IpamDriver.ReleaseAddress",
                       JSON.object(["PoolID": .string(pool.poolID), "Address": .string(address)]), container: member.container.name)
        }
    }

    private mutating func attempt<T>(_ body: () throws -> T) -> T? {
        do { return try body() } catch {
            report.problems.append("\(error)")
            return nil
        }
    }

    @discardableResult
    private mutating func call(_ label: String, _ method: String, _ request: String, container: String? = nil) async -> Answer {
        await call(label, method, try! JSON.parse(request), container: container)
    }

    /// Sends one call as Docker would and notes its verdict. `then` plays Docker's side after
    /// a 200 and returns what failed and what deserves a warning.
    @discardableResult
    private mutating func call(_ label: String, _ method: String, _ request: JSON, container: String? = nil,
                               then: ((Answer) -> (failures: [String], notes: [String]))? = nil) async -> Answer {
        let path = "/" + method
        _ = WarningLog.shared.take()
        let started = HookRunner.now()
        let answer = await dispatcher.handle(path: path, body: request.bytes)
        let milliseconds = (HookRunner.now() - started) * 1000
        var warnings = WarningLog.shared.take()
        var verdict = Report.Verdict.ok
        var message = ""
        if answer.status != 200 {
            verdict = .fail
            message = answer.errorText ?? answer.body.member("Error")?.string ?? answer.body.text
        } else if let then {
            let (failures, notes) = then(answer)
            warnings += notes
            if !failures.isEmpty {
                verdict = .fail
                message = failures.joined(separator: "; ")
            }
        }
        if verdict == .ok && !warnings.isEmpty {
            verdict = .warn
        }
        if !warnings.isEmpty {
            message = (message.isEmpty ? [] : [message]).joined() + (message.isEmpty ? "" : "; ") + warnings.joined(separator: "; ")
        }
        report.steps.append(Report.Step(step: label, method: method, container: container, status: answer.status,
                                        milliseconds: milliseconds, verdict: verdict, message: message))
        return answer
    }
}
