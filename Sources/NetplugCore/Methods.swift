/// The two protocol families a plugin can implement.
package enum Family: String, Sendable, CaseIterable {
    case networkDriver = "NetworkDriver"
    case ipamDriver = "IpamDriver"

    /// Where this family's hooks live inside the hooks folder.
    package var hookSubfolder: String? { self == .ipamDriver ? "ipam" : nil }
}

/// What a method answers when no hook serves it (the README's "Defaults" table).
package enum DefaultAnswer: Sendable {
    case json(@Sendable (DefaultContext) -> JSON)
    /// No answer can be invented (an IPAM pool or address): 404.
    case notImplemented
}

/// What a default answer may depend on.
package struct DefaultContext: Sendable {
    package var scope: String
    package var hasGwAllocCheckHook: Bool
    package init(scope: String = "local", hasGwAllocCheckHook: Bool = false) {
        self.scope = scope
        self.hasGwAllocCheckHook = hasGwAllocCheckHook
    }
}

/// Every method of both protocols by its full name, so that a switch over them is exhaustive.
package enum MethodID: String, Sendable, CaseIterable {
    case getCapabilities = "NetworkDriver.GetCapabilities"
    case createNetwork = "NetworkDriver.CreateNetwork"
    case allocateNetwork = "NetworkDriver.AllocateNetwork"
    case deleteNetwork = "NetworkDriver.DeleteNetwork"
    case freeNetwork = "NetworkDriver.FreeNetwork"
    case createEndpoint = "NetworkDriver.CreateEndpoint"
    case deleteEndpoint = "NetworkDriver.DeleteEndpoint"
    case endpointOperInfo = "NetworkDriver.EndpointOperInfo"
    case join = "NetworkDriver.Join"
    case leave = "NetworkDriver.Leave"
    case discoverNew = "NetworkDriver.DiscoverNew"
    case discoverDelete = "NetworkDriver.DiscoverDelete"
    case programExternalConnectivity = "NetworkDriver.ProgramExternalConnectivity"
    case revokeExternalConnectivity = "NetworkDriver.RevokeExternalConnectivity"
    case gwAllocCheck = "NetworkDriver.GwAllocCheck"
    case ipamGetCapabilities = "IpamDriver.GetCapabilities"
    case getDefaultAddressSpaces = "IpamDriver.GetDefaultAddressSpaces"
    case requestPool = "IpamDriver.RequestPool"
    case releasePool = "IpamDriver.ReleasePool"
    case requestAddress = "IpamDriver.RequestAddress"
    case releaseAddress = "IpamDriver.ReleaseAddress"

    package var family: Family { rawValue.hasPrefix("IpamDriver.") ? .ipamDriver : .networkDriver }
    /// The name without its family, as hook files are named (`Join`, `RequestPool`).
    package var name: String { String(rawValue[rawValue.index(after: rawValue.firstIndex(of: ".")!)...]) }
}

/// One row of the method table: everything the server, the checks and the docs know of a method.
package struct Method: Sendable {
    package let id: MethodID
    package let family: Family
    package let name: String
    package let request: Shape
    package let answer: Shape
    package let defaultAnswer: DefaultAnswer
    /// What a hook that exits 0 and prints nothing answers; nil when the method needs fields.
    package let emptyAnswer: (@Sendable (DefaultContext) -> JSON)?
    /// One line for docs and generated stubs.
    package let summary: String

    package var fullName: String { "\(family.rawValue).\(name)" }
    package var path: String { "/\(fullName)" }
    /// The hook's file name without extension, relative to the hooks folder (`ipam/RequestPool`).
    package var hookStem: String { family.hookSubfolder.map { "\($0)/\(name)" } ?? name }

    init(_ id: MethodID, request: Shape, answer: Shape, default defaultAnswer: DefaultAnswer, summary: String) {
        self.id = id
        self.family = id.family
        self.name = id.name
        self.request = request
        self.answer = answer
        self.defaultAnswer = defaultAnswer
        if case .json(let make) = defaultAnswer {
            self.emptyAnswer = make
        } else if case .object(let fields, _) = answer, fields.contains(where: \.required) {
            self.emptyAnswer = nil
        } else {
            self.emptyAnswer = { _ in .object() }
        }
        self.summary = summary
    }
}

// MARK: - Wire shapes (libnetwork's driverapi / ipamapi remote types)

private let ipamData: Shape = .object([
    Field("AddressSpace", .string),
    Field("Pool", .cidr),
    Field("Gateway", .cidr),
    Field("AuxAddresses", .map(.cidr)),
])

private let endpointInterface: Shape = .object([
    Field("Address", .cidr),
    Field("AddressIPv6", .cidr),
    Field("MacAddress", .mac),
])

private let staticRoute: Shape = .object([
    Field("Destination", .cidr),
    Field("RouteType", .routeType),
    Field("NextHop", .ip),
], rule: { route in
    // libnetwork: a route through a next hop needs the hop; a connected route has none.
    let type = route.member("RouteType")?.integer ?? 0
    let hop = route.member("NextHop")?.string ?? ""
    if type == 0 && hop.isEmpty { return "RouteType 0 needs a NextHop" }
    if type == 1 && !hop.isEmpty { return "RouteType 1 (connected) takes no NextHop" }
    return nil
})

// Docker always sends these; a call without them (Docker's retry after the plugin restarted
// resends a call without its body) must not reach a hook, which would run with no network.
private let networkID = Field("NetworkID", .identifier, required: true)
private let endpointID = Field("EndpointID", .identifier, required: true)
private let networkOnly: Shape = .object([networkID])
private let endpointOnly: Shape = .object([networkID, endpointID])
private let nothing: Shape = .object([])
private let errOnly: [Field] = [Field("Err", .string)]

private func answer(_ fields: [Field]) -> Shape { .object(errOnly + fields) }
private func ipamAnswer(_ fields: [Field]) -> Shape { .object([Field("Err", .string), Field("Error", .string)] + fields) }
private let empty: DefaultAnswer = .json { _ in .object() }

package enum Methods {
    package static let all: [Method] = [
        Method(.getCapabilities,
               request: nothing,
               answer: answer([Field("Scope", .scope), Field("ConnectivityScope", .scope), Field("GwAllocChecker", .bool)]),
               default: .json { context in
                   let answer = JSON.object(["Scope": .string(context.scope), "ConnectivityScope": .string(context.scope)])
                   if context.hasGwAllocCheckHook { answer.set("GwAllocChecker", .bool(true)) }
                   return answer
               },
               summary: "When Docker first uses the driver: its scope (local or global)."),
        Method(.createNetwork,
               request: .object([networkID, Field("Options", .map(.any)),
                                 Field("IPv4Data", .array(ipamData)), Field("IPv6Data", .array(ipamData))]),
               answer: answer([]), default: empty,
               summary: "docker network create: build the network (a bridge, a VLAN, ...)."),
        Method(.allocateNetwork,
               request: .object([networkID, Field("Options", .map(.string)),
                                 Field("IPv4Data", .array(ipamData)), Field("IPv6Data", .array(ipamData))]),
               answer: answer([Field("Options", .map(.string))]),
               default: .json { _ in .object(["Options": .object()]) },
               summary: "Swarm managers only: allocate global resources for a network."),
        Method(.deleteNetwork, request: networkOnly, answer: answer([]), default: empty,
               summary: "docker network rm: remove what CreateNetwork built."),
        Method(.freeNetwork, request: networkOnly, answer: answer([]), default: empty,
               summary: "Swarm managers only: free what AllocateNetwork took."),
        Method(.createEndpoint,
               request: .object([networkID, endpointID,
                                 Field("Interface", endpointInterface), Field("Options", .map(.any))]),
               answer: answer([Field("Interface", endpointInterface)]), default: empty,
               summary: "A container is attached to the network: prepare its endpoint."),
        Method(.deleteEndpoint, request: endpointOnly, answer: answer([]), default: empty,
               summary: "A container is detached: remove what CreateEndpoint made."),
        Method(.endpointOperInfo, request: endpointOnly,
               answer: answer([Field("Value", .map(.any))]),
               default: .json { _ in .object(["Value": .object()]) },
               summary: "docker inspect: operational data about an endpoint."),
        Method(.join,
               request: .object([networkID, endpointID,
                                 Field("SandboxKey", .string), Field("Options", .map(.any))]),
               answer: answer([Field("InterfaceName", .object([Field("SrcName", .string), Field("DstPrefix", .string)])),
                               Field("Gateway", .ip), Field("GatewayIPv6", .ip),
                               Field("StaticRoutes", .array(staticRoute)), Field("DisableGatewayService", .bool)]),
               default: empty,
               summary: "The container starts: name the interface Docker moves into it, and the gateway."),
        Method(.leave, request: endpointOnly, answer: answer([]), default: empty,
               summary: "The container stops: undo what Join did."),
        Method(.discoverNew,
               request: .object([Field("DiscoveryType", .integer), Field("DiscoveryData", .any)]),
               answer: answer([]), default: empty,
               summary: "A node or datastore was discovered."),
        Method(.discoverDelete,
               request: .object([Field("DiscoveryType", .integer), Field("DiscoveryData", .any)]),
               answer: answer([]), default: empty,
               summary: "A node or datastore went away."),
        Method(.programExternalConnectivity,
               request: .object([networkID, endpointID, Field("Options", .map(.any))]),
               answer: answer([]), default: empty,
               summary: "After Join, on the container's gateway network: publish ports, NAT."),
        Method(.revokeExternalConnectivity, request: endpointOnly, answer: answer([]), default: empty,
               summary: "Before Leave: undo ProgramExternalConnectivity."),
        Method(.gwAllocCheck,
               request: .object([Field("Options", .map(.any))]),
               answer: answer([Field("SkipIPv4", .bool), Field("SkipIPv6", .bool)]),
               default: .json { _ in .object(["SkipIPv4": .bool(false), "SkipIPv6": .bool(false)]) },
               summary: "Docker 28+, if capabilities say GwAllocChecker: may IPAM skip the gateway address?"),

        Method(.ipamGetCapabilities, request: nothing,
               answer: ipamAnswer([Field("RequiresMACAddress", .bool), Field("RequiresRequestReplay", .bool)]),
               default: .json { _ in .object(["RequiresMACAddress": .bool(false)]) },
               summary: "When Docker first uses the IPAM driver: does it need MAC addresses?"),
        Method(.getDefaultAddressSpaces, request: nothing,
               answer: ipamAnswer([Field("LocalDefaultAddressSpace", .string), Field("GlobalDefaultAddressSpace", .string)]),
               default: .json { _ in .object(["LocalDefaultAddressSpace": .string("LocalDefault"),
                                              "GlobalDefaultAddressSpace": .string("GlobalDefault")]) },
               summary: "The names of the default address spaces."),
        Method(.requestPool,
               request: .object([Field("AddressSpace", .string), Field("Pool", .string), Field("SubPool", .string),
                                 Field("Options", .map(.string)), Field("V6", .bool)]),
               answer: ipamAnswer([Field("PoolID", .string, required: true), Field("Pool", .cidr, required: true),
                                   Field("Data", .map(.string))]),
               default: .notImplemented,
               summary: "docker network create: choose a subnet (Pool is --subnet, or empty for any)."),
        Method(.releasePool,
               request: .object([Field("PoolID", .string)]),
               answer: ipamAnswer([]), default: .notImplemented,
               summary: "docker network rm: give the subnet back."),
        Method(.requestAddress,
               request: .object([Field("PoolID", .string), Field("Address", .string), Field("Options", .map(.string))]),
               answer: ipamAnswer([Field("Address", .cidr, required: true), Field("Data", .map(.string))]),
               default: .notImplemented,
               summary: "An address for a gateway or a container (Address is --ip, or empty for any)."),
        Method(.releaseAddress,
               request: .object([Field("PoolID", .string), Field("Address", .string)]),
               answer: ipamAnswer([]), default: .notImplemented,
               summary: "Give an address back."),
    ]

    private static let byPath: [String: Method] = Dictionary(uniqueKeysWithValues: all.map { ($0.path, $0) })

    /// The method served at an HTTP path; only these paths ever run a hook.
    package static func method(atPath path: String) -> Method? { byPath[path] }

    package static func named(_ fullName: String) -> Method? { byPath["/" + fullName] }

    private static let byID: [MethodID: Method] = Dictionary(uniqueKeysWithValues: all.map { ($0.id, $0) })

    package static subscript(_ id: MethodID) -> Method { byID[id]! }

    package static func inFamily(_ family: Family) -> [Method] { all.filter { $0.family == family } }

    package static let activatePath = "/Plugin.Activate"
}
