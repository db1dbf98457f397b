import NetplugCore
#if canImport(Glibc)
import Glibc
#endif

/// What Docker 20.10 (libnetwork) does to a container's interface around the driver's Join
/// and Leave, played on a simulated container:
/// - after Join: the link named `SrcName` is moved into the container's namespace, renamed
///   `DstPrefix` + index (`eth0`), given the endpoint's MAC, IPv4 and IPv6 addresses, brought
///   up; then every `StaticRoutes` entry and the default routes via `Gateway`/`GatewayIPv6`;
/// - after Leave (where the link still is in the container): the link is brought down,
///   renamed back to `SrcName` and moved back to the host namespace (a bridge is deleted
///   instead).
struct DockerSide {
    let sandbox: Sandbox

    /// The endpoint as Docker knows it once CreateEndpoint answered.
    struct Endpoint {
        var address: String?
        var addressIPv6: String?
        var mac: String?

        /// Docker's IPAM chose the addresses (the request); a driver may fill in what was left
        /// empty, and may give a MAC (the answer).
        init(request: JSON, answer: JSON) {
            func pick(_ key: String) -> String? {
                for source in [answer, request] {
                    if let value = source.member("Interface")?.member(key)?.string, !value.isEmpty { return value }
                }
                return nil
            }
            address = pick("Address")
            addressIPv6 = pick("AddressIPv6")
            mac = pick("MacAddress")
        }
    }

    /// What a Join answer asked of Docker.
    struct JoinAnswer {
        var srcName: String?
        var dstPrefix: String
        var gateway: String?
        var gatewayIPv6: String?
        var disableGatewayService: Bool
        var staticRoutes: [(destination: String, type: Int, nextHop: String?)]

        init(_ answer: JSON) {
            let names = answer.member("InterfaceName")
            let src = names?.member("SrcName")?.string ?? ""
            srcName = src.isEmpty ? nil : src
            dstPrefix = names?.member("DstPrefix")?.string ?? ""
            func nonEmpty(_ key: String) -> String? {
                guard let value = answer.member(key)?.string, !value.isEmpty else { return nil }
                return value
            }
            gateway = nonEmpty("Gateway")
            gatewayIPv6 = nonEmpty("GatewayIPv6")
            disableGatewayService = answer.member("DisableGatewayService")?.bool ?? false
            staticRoutes = (answer.member("StaticRoutes")?.elements ?? []).map { route in
                (route.member("Destination")?.string ?? "", Int(route.member("RouteType")?.integer ?? 0), route.member("NextHop")?.string)
            }
        }
    }

    /// A link Docker put into a container.
    struct Attached {
        var container: Sandbox.Container
        var srcName: String
        var name: String
    }

    /// Notes on a Join answer that Docker takes without an error but a driver author should
    /// know about.
    static func notes(on join: JoinAnswer) -> [String] {
        var notes: [String] = []
        if join.srcName == nil {
            notes.append("Join gave no InterfaceName.SrcName: Docker gives the container no interface from this driver")
        }
        if join.gateway == nil && !join.disableGatewayService {
            notes.append("Join gave no Gateway: Docker would route this container through docker_gwbridge (172.18.0.0/16); answer Gateway, or DisableGatewayService: true")
        }
        return notes
    }

    /// Docker could not use a Join answer: what `docker run` says, and the link as far as it got.
    struct AttachFailure: Error, CustomStringConvertible {
        var description: String
        var attached: Attached?
    }

    /// Plays Docker's side after a successful Join. Throws `AttachFailure` with what Docker
    /// would answer `docker run` (the container does not start); the link may then be half
    /// moved, and `detach` takes it back.
    func attach(_ join: JoinAnswer, endpoint: Endpoint, to container: Sandbox.Container) throws -> Attached? {
        guard let src = join.srcName else { return nil }
        guard !sandbox.ipJSON(["link", "show", "dev", src]).isEmpty else {
            throw AttachFailure(description: "failed to add interface \(src) to sandbox: Link not found (Join's SrcName names no link in the host namespace); the container does not start", attached: nil)
        }
        let index = sandbox.ipJSON(["link", "show"], in: container)
            .compactMap { $0.member("ifname")?.string }
            .filter { $0.hasPrefix(join.dstPrefix) && Int($0.dropFirst(join.dstPrefix.count)) != nil }.count
        let name = join.dstPrefix + String(index)
        var attached: Attached? = nil
        func step(_ what: String, _ arguments: [String], in inside: Bool = true) throws {
            do {
                try sandbox.ip(arguments, in: inside ? container : nil)
            } catch {
                throw AttachFailure(description: "Docker could not \(what): \(error); the container does not start", attached: attached)
            }
        }
        try step("move \(src) into the container", ["link", "set", "dev", src, "netns", String(container.holder)], in: false)
        attached = Attached(container: container, srcName: src, name: src)
        try step("rename \(src) to \(name)", ["link", "set", "dev", src, "name", name])
        attached?.name = name
        if let mac = endpoint.mac { try step("set the MAC address \(mac)", ["link", "set", "dev", name, "address", mac]) }
        if let address = endpoint.address { try step("set the address \(address)", ["addr", "add", address, "dev", name]) }
        if let address = endpoint.addressIPv6 {
            // libnetwork adds IPv6 addresses without duplicate address detection.
            try step("set the address \(address)", ["-6", "addr", "add", address, "dev", name, "nodad"])
        }
        try step("bring \(name) up", ["link", "set", "dev", name, "up"])
        for route in join.staticRoutes {
            let arguments = route.type == 1 || route.nextHop == nil
                ? ["route", "add", route.destination, "dev", name]
                : ["route", "add", route.destination, "via", route.nextHop!]
            try step("add the static route to \(route.destination)", arguments)
        }
        if let gateway = join.gateway { try step("add the default route via \(gateway)", ["route", "add", "default", "via", gateway]) }
        if let gateway = join.gatewayIPv6 { try step("add the IPv6 default route via \(gateway)", ["-6", "route", "add", "default", "via", gateway]) }
        return attached
    }

    /// Plays Docker's side after Leave: the link goes back to the host under its own name (a
    /// bridge is deleted). As Docker does, a failure here is only noted.
    func detach(_ attached: Attached) -> String? {
        let links = sandbox.ipJSON(["-d", "link", "show", "dev", attached.name], in: attached.container)
        guard let link = links.first else { return nil }  // the driver removed it (e.g. deleted the veth's peer)
        do {
            try sandbox.ip(["link", "set", "dev", attached.name, "down"], in: attached.container)
            try sandbox.ip(["link", "set", "dev", attached.name, "name", attached.srcName], in: attached.container)
            if link.member("linkinfo")?.member("info_kind")?.string == "bridge" {
                try sandbox.ip(["link", "del", "dev", attached.srcName], in: attached.container)
            } else {
                try sandbox.ip(["link", "set", "dev", attached.srcName, "netns", String(getpid())], in: attached.container)
            }
            return nil
        } catch {
            return "Docker could not move \(attached.srcName) back out of the container: \(error)"
        }
    }
}
