import NetplugCore

// The NetworkDriver wire types, field for field as libnetwork's remote API and the reference
// Go helper spell them. Each is read from and written to jansson through `JSON`, after the
// method table's schema has checked the shape.

/// The scope of a driver whose networks exist on this host only.
public let LocalScope = "local"
/// The scope of a driver whose networks span a cluster.
public let GlobalScope = "global"

/// GetCapabilities' answer: the driver's scope.
public struct CapabilitiesResponse: Sendable, Equatable {
    /// `local` (this host only) or `global` (a cluster).
    public var Scope: String
    /// `local` or `global`: where endpoints of the network can reach each other.
    public var ConnectivityScope: String
    /// Docker 28+ then asks GwAllocCheck before allocating a gateway.
    public var GwAllocChecker: Bool
    /// Builds one; each field defaults to what Docker leaves empty.
    public init(Scope: String = LocalScope, ConnectivityScope: String = "", GwAllocChecker: Bool = false) {
        self.Scope = Scope
        self.ConnectivityScope = ConnectivityScope
        self.GwAllocChecker = GwAllocChecker
    }
    var json: JSON {
        let value = JSON.object(["Scope": .string(Scope), "ConnectivityScope": .string(ConnectivityScope)])
        if GwAllocChecker { value.set("GwAllocChecker", .bool(true)) }
        return value
    }
}

/// One pool of a network as Docker's IPAM gave it: in CreateNetwork's and AllocateNetwork's IPv4Data and IPv6Data.
public struct IPAMData: Sendable, Equatable {
    /// The address space the pool belongs to (`LocalDefault`, `GlobalDefault`).
    public var AddressSpace: String
    /// The pool, in CIDR form (`10.20.0.0/24`).
    public var Pool: String
    /// The gateway address.
    public var Gateway: String
    /// Addresses reserved in the pool by name (`--aux-address`).
    public var AuxAddresses: [String: String]
    /// Builds one; each field defaults to what Docker leaves empty.
    public init(AddressSpace: String = "", Pool: String = "", Gateway: String = "", AuxAddresses: [String: String] = [:]) {
        self.AddressSpace = AddressSpace
        self.Pool = Pool
        self.Gateway = Gateway
        self.AuxAddresses = AuxAddresses
    }
    init(_ json: JSON) {
        AddressSpace = json.text("AddressSpace")
        Pool = json.text("Pool")
        Gateway = json.text("Gateway")
        AuxAddresses = json.strings("AuxAddresses")
    }
}

/// What `docker network create` sends the driver.
public struct CreateNetworkRequest: Sendable, Equatable {
    /// The network's id (Docker's are 64 hex digits).
    public var NetworkID: String
    /// `map[string]interface{}` on the wire: kept as JSON.
    public var Options: JSONValue
    /// The network's IPv4 pools, as Docker's IPAM gave them.
    public var IPv4Data: [IPAMData]
    /// The network's IPv6 pools, as Docker's IPAM gave them.
    public var IPv6Data: [IPAMData]
    /// Builds one; each field defaults to what Docker leaves empty.
    public init(NetworkID: String = "", Options: JSONValue = [:], IPv4Data: [IPAMData] = [], IPv6Data: [IPAMData] = []) {
        self.NetworkID = NetworkID
        self.Options = Options
        self.IPv4Data = IPv4Data
        self.IPv6Data = IPv6Data
    }
    init(_ json: JSON) {
        NetworkID = json.text("NetworkID")
        Options = JSONValue(json.objectOrEmpty("Options"))
        IPv4Data = json.list("IPv4Data").map(IPAMData.init)
        IPv6Data = json.list("IPv6Data").map(IPAMData.init)
    }
}

/// What a swarm manager sends when a global network is created.
public struct AllocateNetworkRequest: Sendable, Equatable {
    /// The network's id (Docker's are 64 hex digits).
    public var NetworkID: String
    /// The options as Docker sends them (`-o KEY=VALUE` are under `com.docker.network.generic`).
    public var Options: [String: String]
    /// The network's IPv4 pools, as Docker's IPAM gave them.
    public var IPv4Data: [IPAMData]
    /// The network's IPv6 pools, as Docker's IPAM gave them.
    public var IPv6Data: [IPAMData]
    /// Builds one; each field defaults to what Docker leaves empty.
    public init(NetworkID: String = "", Options: [String: String] = [:], IPv4Data: [IPAMData] = [], IPv6Data: [IPAMData] = []) {
        self.NetworkID = NetworkID
        self.Options = Options
        self.IPv4Data = IPv4Data
        self.IPv6Data = IPv6Data
    }
    init(_ json: JSON) {
        NetworkID = json.text("NetworkID")
        Options = json.strings("Options")
        IPv4Data = json.list("IPv4Data").map(IPAMData.init)
        IPv6Data = json.list("IPv6Data").map(IPAMData.init)
    }
}

/// AllocateNetwork's answer: options every node's CreateNetwork then gets.
public struct AllocateNetworkResponse: Sendable, Equatable {
    /// The options as Docker sends them (`-o KEY=VALUE` are under `com.docker.network.generic`).
    public var Options: [String: String]
    /// Builds one; each field defaults to what Docker leaves empty.
    public init(Options: [String: String] = [:]) { self.Options = Options }
    var json: JSON { .object(["Options": .strings(Options)]) }
}

/// What `docker network rm` sends the driver.
public struct DeleteNetworkRequest: Sendable, Equatable {
    /// The network's id (Docker's are 64 hex digits).
    public var NetworkID: String
    /// Builds one; each field defaults to what Docker leaves empty.
    public init(NetworkID: String = "") {
        self.NetworkID = NetworkID
    }
    init(_ json: JSON) { NetworkID = json.text("NetworkID") }
}

/// What a swarm manager sends when a global network is removed.
public struct FreeNetworkRequest: Sendable, Equatable {
    /// The network's id (Docker's are 64 hex digits).
    public var NetworkID: String
    /// Builds one; each field defaults to what Docker leaves empty.
    public init(NetworkID: String = "") {
        self.NetworkID = NetworkID
    }
    init(_ json: JSON) { NetworkID = json.text("NetworkID") }
}

/// An endpoint's addresses: chosen by Docker's IPAM in CreateEndpoint's request; a driver may fill in what was left empty.
public struct EndpointInterface: Sendable, Equatable {
    /// The IPv4 address, in CIDR form.
    public var Address: String
    /// The IPv6 address, in CIDR form.
    public var AddressIPv6: String
    /// The MAC address; empty for Docker to leave as the link has it.
    public var MacAddress: String
    /// Builds one; each field defaults to what Docker leaves empty.
    public init(Address: String = "", AddressIPv6: String = "", MacAddress: String = "") {
        self.Address = Address
        self.AddressIPv6 = AddressIPv6
        self.MacAddress = MacAddress
    }
    init(_ json: JSON) {
        Address = json.text("Address")
        AddressIPv6 = json.text("AddressIPv6")
        MacAddress = json.text("MacAddress")
    }
    var json: JSON {
        let value = JSON.object()
        if !Address.isEmpty { value.set("Address", .string(Address)) }
        if !AddressIPv6.isEmpty { value.set("AddressIPv6", .string(AddressIPv6)) }
        if !MacAddress.isEmpty { value.set("MacAddress", .string(MacAddress)) }
        return value
    }
}

/// What Docker sends when a container is attached to the network.
public struct CreateEndpointRequest: Sendable, Equatable {
    /// The network's id (Docker's are 64 hex digits).
    public var NetworkID: String
    /// The endpoint's id (Docker's are 64 hex digits).
    public var EndpointID: String
    /// The endpoint's addresses.
    public var Interface: EndpointInterface?
    /// The options as Docker sends them (`-o KEY=VALUE` are under `com.docker.network.generic`).
    public var Options: JSONValue
    /// Builds one; each field defaults to what Docker leaves empty.
    public init(NetworkID: String = "", EndpointID: String = "", Interface: EndpointInterface? = nil, Options: JSONValue = [:]) {
        self.NetworkID = NetworkID
        self.EndpointID = EndpointID
        self.Interface = Interface
        self.Options = Options
    }
    init(_ json: JSON) {
        NetworkID = json.text("NetworkID")
        EndpointID = json.text("EndpointID")
        Interface = json.nonNull("Interface").map(EndpointInterface.init)
        Options = JSONValue(json.objectOrEmpty("Options"))
    }
}

/// CreateEndpoint's answer: what the driver adds to the endpoint (a MAC address).
public struct CreateEndpointResponse: Sendable, Equatable {
    /// nil: keep what Docker's IPAM gave; set only what the request left empty.
    public var Interface: EndpointInterface?
    /// Builds one; each field defaults to what Docker leaves empty.
    public init(Interface: EndpointInterface? = nil) { self.Interface = Interface }
    var json: JSON { Interface.map { .object(["Interface": $0.json]) } ?? .object() }
}

/// What Docker sends when an endpoint goes.
public struct DeleteEndpointRequest: Sendable, Equatable {
    /// The network's id (Docker's are 64 hex digits).
    public var NetworkID: String
    /// The endpoint's id (Docker's are 64 hex digits).
    public var EndpointID: String
    /// Builds one; each field defaults to what Docker leaves empty.
    public init(NetworkID: String = "", EndpointID: String = "") {
        self.NetworkID = NetworkID
        self.EndpointID = EndpointID
    }
    init(_ json: JSON) {
        NetworkID = json.text("NetworkID")
        EndpointID = json.text("EndpointID")
    }
}

/// What Docker sends to learn about an endpoint (EndpointOperInfo).
public struct InfoRequest: Sendable, Equatable {
    /// The network's id (Docker's are 64 hex digits).
    public var NetworkID: String
    /// The endpoint's id (Docker's are 64 hex digits).
    public var EndpointID: String
    /// Builds one; each field defaults to what Docker leaves empty.
    public init(NetworkID: String = "", EndpointID: String = "") {
        self.NetworkID = NetworkID
        self.EndpointID = EndpointID
    }
    init(_ json: JSON) {
        NetworkID = json.text("NetworkID")
        EndpointID = json.text("EndpointID")
    }
}

/// EndpointOperInfo's answer: free-form data `docker inspect` shows.
public struct InfoResponse: Sendable, Equatable {
    /// Free-form data, shown by `docker inspect`.
    public var Value: [String: String]
    /// Builds one; each field defaults to what Docker leaves empty.
    public init(Value: [String: String] = [:]) { self.Value = Value }
    var json: JSON { .object(["Value": .strings(Value)]) }
}

/// What Docker sends when the container starts.
public struct JoinRequest: Sendable, Equatable {
    /// The network's id (Docker's are 64 hex digits).
    public var NetworkID: String
    /// The endpoint's id (Docker's are 64 hex digits).
    public var EndpointID: String
    /// Where the container's network namespace will be (not there yet at Join on Docker 20.10).
    public var SandboxKey: String
    /// The options as Docker sends them (`-o KEY=VALUE` are under `com.docker.network.generic`).
    public var Options: JSONValue
    /// Builds one; each field defaults to what Docker leaves empty.
    public init(NetworkID: String = "", EndpointID: String = "", SandboxKey: String = "", Options: JSONValue = [:]) {
        self.NetworkID = NetworkID
        self.EndpointID = EndpointID
        self.SandboxKey = SandboxKey
        self.Options = Options
    }
    init(_ json: JSON) {
        NetworkID = json.text("NetworkID")
        EndpointID = json.text("EndpointID")
        SandboxKey = json.text("SandboxKey")
        Options = JSONValue(json.objectOrEmpty("Options"))
    }
}

/// The link Join hands to Docker: its name in the host (SrcName) and the prefix of its name in the container.
public struct InterfaceName: Sendable, Equatable {
    /// The link's name in the host's namespace, made by Join: Docker moves it into the container.
    public var SrcName: String
    /// The prefix of its name in the container: `eth` gives `eth0`, `eth1`, ...
    public var DstPrefix: String
    /// Builds one; each field defaults to what Docker leaves empty.
    public init(SrcName: String, DstPrefix: String) {
        self.SrcName = SrcName
        self.DstPrefix = DstPrefix
    }
}

/// A route Docker adds in the container after Join.
public struct StaticRoute: Sendable, Equatable {
    /// Where the route goes, in CIDR form.
    public var Destination: String
    /// 0: via NextHop; 1: connected (no next hop).
    public var RouteType: Int
    /// The next hop, for RouteType 0.
    public var NextHop: String
    /// Builds one; each field defaults to what Docker leaves empty.
    public init(Destination: String, RouteType: Int, NextHop: String = "") {
        self.Destination = Destination
        self.RouteType = RouteType
        self.NextHop = NextHop
    }
}

/// Join's answer: the link, the gateways and routes Docker sets up in the container.
public struct JoinResponse: Sendable, Equatable {
    /// The link Docker moves into the container; none gives the container no interface from this driver.
    public var InterfaceName: InterfaceName?
    /// The container's default route goes through this address (a plain IP); none: Docker uses docker_gwbridge unless DisableGatewayService.
    public var Gateway: String
    /// The container's IPv6 default route goes through this address.
    public var GatewayIPv6: String
    /// Routes Docker adds in the container.
    public var StaticRoutes: [StaticRoute]
    /// True: Docker does not attach the container to docker_gwbridge when there is no Gateway.
    public var DisableGatewayService: Bool
    /// Builds one; each field defaults to what Docker leaves empty.
    public init(InterfaceName: InterfaceName? = nil, Gateway: String = "", GatewayIPv6: String = "",
                StaticRoutes: [StaticRoute] = [], DisableGatewayService: Bool = false) {
        self.InterfaceName = InterfaceName
        self.Gateway = Gateway
        self.GatewayIPv6 = GatewayIPv6
        self.StaticRoutes = StaticRoutes
        self.DisableGatewayService = DisableGatewayService
    }
    var json: JSON {
        let value = JSON.object()
        if let name = InterfaceName {
            value.set("InterfaceName", .object(["SrcName": .string(name.SrcName), "DstPrefix": .string(name.DstPrefix)]))
        }
        if !Gateway.isEmpty { value.set("Gateway", .string(Gateway)) }
        if !GatewayIPv6.isEmpty { value.set("GatewayIPv6", .string(GatewayIPv6)) }
        if !StaticRoutes.isEmpty {
            value.set("StaticRoutes", .array(StaticRoutes.map { route in
                let item = JSON.object(["Destination": .string(route.Destination), "RouteType": .integer(route.RouteType)])
                if !route.NextHop.isEmpty { item.set("NextHop", .string(route.NextHop)) }
                return item
            }))
        }
        if DisableGatewayService { value.set("DisableGatewayService", .bool(true)) }
        return value
    }
}

/// What Docker sends when the container stops or is disconnected.
public struct LeaveRequest: Sendable, Equatable {
    /// The network's id (Docker's are 64 hex digits).
    public var NetworkID: String
    /// The endpoint's id (Docker's are 64 hex digits).
    public var EndpointID: String
    /// Builds one; each field defaults to what Docker leaves empty.
    public init(NetworkID: String = "", EndpointID: String = "") {
        self.NetworkID = NetworkID
        self.EndpointID = EndpointID
    }
    init(_ json: JSON) {
        NetworkID = json.text("NetworkID")
        EndpointID = json.text("EndpointID")
    }
}

/// What Docker sends when a node or datastore comes or goes (DiscoverNew, DiscoverDelete).
public struct DiscoveryNotification: Sendable, Equatable {
    /// What was discovered (1: a node, 2: a datastore).
    public var DiscoveryType: Int
    /// What Docker says about it, as sent.
    public var DiscoveryData: JSONValue
    /// Builds one; each field defaults to what Docker leaves empty.
    public init(DiscoveryType: Int = 0, DiscoveryData: JSONValue = [:]) {
        self.DiscoveryType = DiscoveryType
        self.DiscoveryData = DiscoveryData
    }
    init(_ json: JSON) {
        DiscoveryType = json.member("DiscoveryType")?.integer ?? 0
        DiscoveryData = json.member("DiscoveryData").map(JSONValue.init) ?? .null
    }
}

/// What Docker sends for the container's gateway endpoint after Join: its exposed and published ports.
public struct ProgramExternalConnectivityRequest: Sendable, Equatable {
    /// The network's id (Docker's are 64 hex digits).
    public var NetworkID: String
    /// The endpoint's id (Docker's are 64 hex digits).
    public var EndpointID: String
    /// The options as Docker sends them (`-o KEY=VALUE` are under `com.docker.network.generic`).
    public var Options: JSONValue
    /// Builds one; each field defaults to what Docker leaves empty.
    public init(NetworkID: String = "", EndpointID: String = "", Options: JSONValue = [:]) {
        self.NetworkID = NetworkID
        self.EndpointID = EndpointID
        self.Options = Options
    }
    init(_ json: JSON) {
        NetworkID = json.text("NetworkID")
        EndpointID = json.text("EndpointID")
        Options = JSONValue(json.objectOrEmpty("Options"))
    }
}

/// What Docker sends before Leave, to undo ProgramExternalConnectivity.
public struct RevokeExternalConnectivityRequest: Sendable, Equatable {
    /// The network's id (Docker's are 64 hex digits).
    public var NetworkID: String
    /// The endpoint's id (Docker's are 64 hex digits).
    public var EndpointID: String
    /// Builds one; each field defaults to what Docker leaves empty.
    public init(NetworkID: String = "", EndpointID: String = "") {
        self.NetworkID = NetworkID
        self.EndpointID = EndpointID
    }
    init(_ json: JSON) {
        NetworkID = json.text("NetworkID")
        EndpointID = json.text("EndpointID")
    }
}

/// What Docker 28+ sends before allocating a network's gateway address.
public struct GwAllocCheckRequest: Sendable, Equatable {
    /// The options as Docker sends them (`-o KEY=VALUE` are under `com.docker.network.generic`).
    public var Options: JSONValue
    /// Builds one; each field defaults to what Docker leaves empty.
    public init(Options: JSONValue = [:]) {
        self.Options = Options
    }
    init(_ json: JSON) { Options = JSONValue(json.objectOrEmpty("Options")) }
}

/// GwAllocCheck's answer: whether IPAM may skip the gateway address.
public struct GwAllocCheckResponse: Sendable, Equatable {
    /// True: IPAM allocates no IPv4 gateway address.
    public var SkipIPv4: Bool
    /// True: IPAM allocates no IPv6 gateway address.
    public var SkipIPv6: Bool
    /// Builds one; each field defaults to what Docker leaves empty.
    public init(SkipIPv4: Bool = false, SkipIPv6: Bool = false) {
        self.SkipIPv4 = SkipIPv4
        self.SkipIPv6 = SkipIPv6
    }
    var json: JSON { .object(["SkipIPv4": .bool(SkipIPv4), "SkipIPv6": .bool(SkipIPv6)]) }
}

// Reading checked requests: a missing or null field is Go's zero value.
extension JSON {
    func text(_ key: String) -> String { member(key)?.string ?? "" }
    func strings(_ key: String) -> [String: String] {
        var result: [String: String] = [:]
        for (name, value) in member(key)?.members ?? [] { result[name] = value.string ?? value.text }
        return result
    }
    func list(_ key: String) -> [JSON] { member(key)?.elements ?? [] }
    func nonNull(_ key: String) -> JSON? { member(key).flatMap { $0.isNull ? nil : $0 } }
    func objectOrEmpty(_ key: String) -> JSON { nonNull(key) ?? .object() }
    static func strings(_ map: [String: String]) -> JSON {
        let value = JSON.object()
        for key in map.keys.sorted() { value.set(key, .string(map[key]!)) }
        return value
    }
}
