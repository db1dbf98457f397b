import NetplugCore

// The NetworkDriver wire types, field for field as libnetwork's remote API and the reference
// Go helper spell them. Each is read from and written to jansson through `JSON`, after the
// method table's schema has checked the shape.

public let LocalScope = "local"
public let GlobalScope = "global"

public struct CapabilitiesResponse: Sendable, Equatable {
    public var Scope: String
    public var ConnectivityScope: String
    public var GwAllocChecker: Bool
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

public struct IPAMData: Sendable, Equatable {
    public var AddressSpace: String
    public var Pool: String
    public var Gateway: String
    public var AuxAddresses: [String: String]
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

public struct CreateNetworkRequest: Sendable, Equatable {
    public var NetworkID: String
    /// `map[string]interface{}` on the wire: kept as JSON.
    public var Options: JSONValue
    public var IPv4Data: [IPAMData]
    public var IPv6Data: [IPAMData]
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

public struct AllocateNetworkRequest: Sendable, Equatable {
    public var NetworkID: String
    public var Options: [String: String]
    public var IPv4Data: [IPAMData]
    public var IPv6Data: [IPAMData]
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

public struct AllocateNetworkResponse: Sendable, Equatable {
    public var Options: [String: String]
    public init(Options: [String: String] = [:]) { self.Options = Options }
    var json: JSON { .object(["Options": .strings(Options)]) }
}

public struct DeleteNetworkRequest: Sendable, Equatable {
    public var NetworkID: String
    public init(NetworkID: String = "") {
        self.NetworkID = NetworkID
    }
    init(_ json: JSON) { NetworkID = json.text("NetworkID") }
}

public struct FreeNetworkRequest: Sendable, Equatable {
    public var NetworkID: String
    public init(NetworkID: String = "") {
        self.NetworkID = NetworkID
    }
    init(_ json: JSON) { NetworkID = json.text("NetworkID") }
}

public struct EndpointInterface: Sendable, Equatable {
    public var Address: String
    public var AddressIPv6: String
    public var MacAddress: String
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

public struct CreateEndpointRequest: Sendable, Equatable {
    public var NetworkID: String
    public var EndpointID: String
    public var Interface: EndpointInterface?
    public var Options: JSONValue
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

public struct CreateEndpointResponse: Sendable, Equatable {
    /// nil: keep what Docker's IPAM gave; set only what the request left empty.
    public var Interface: EndpointInterface?
    public init(Interface: EndpointInterface? = nil) { self.Interface = Interface }
    var json: JSON { Interface.map { .object(["Interface": $0.json]) } ?? .object() }
}

public struct DeleteEndpointRequest: Sendable, Equatable {
    public var NetworkID: String
    public var EndpointID: String
    public init(NetworkID: String = "", EndpointID: String = "") {
        self.NetworkID = NetworkID
        self.EndpointID = EndpointID
    }
    init(_ json: JSON) {
        NetworkID = json.text("NetworkID")
        EndpointID = json.text("EndpointID")
    }
}

public struct InfoRequest: Sendable, Equatable {
    public var NetworkID: String
    public var EndpointID: String
    public init(NetworkID: String = "", EndpointID: String = "") {
        self.NetworkID = NetworkID
        self.EndpointID = EndpointID
    }
    init(_ json: JSON) {
        NetworkID = json.text("NetworkID")
        EndpointID = json.text("EndpointID")
    }
}

public struct InfoResponse: Sendable, Equatable {
    public var Value: [String: String]
    public init(Value: [String: String] = [:]) { self.Value = Value }
    var json: JSON { .object(["Value": .strings(Value)]) }
}

public struct JoinRequest: Sendable, Equatable {
    public var NetworkID: String
    public var EndpointID: String
    public var SandboxKey: String
    public var Options: JSONValue
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

public struct InterfaceName: Sendable, Equatable {
    public var SrcName: String
    public var DstPrefix: String
    public init(SrcName: String, DstPrefix: String) {
        self.SrcName = SrcName
        self.DstPrefix = DstPrefix
    }
}

public struct StaticRoute: Sendable, Equatable {
    public var Destination: String
    public var RouteType: Int
    public var NextHop: String
    public init(Destination: String, RouteType: Int, NextHop: String = "") {
        self.Destination = Destination
        self.RouteType = RouteType
        self.NextHop = NextHop
    }
}

public struct JoinResponse: Sendable, Equatable {
    public var InterfaceName: InterfaceName?
    public var Gateway: String
    public var GatewayIPv6: String
    public var StaticRoutes: [StaticRoute]
    public var DisableGatewayService: Bool
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

public struct LeaveRequest: Sendable, Equatable {
    public var NetworkID: String
    public var EndpointID: String
    public init(NetworkID: String = "", EndpointID: String = "") {
        self.NetworkID = NetworkID
        self.EndpointID = EndpointID
    }
    init(_ json: JSON) {
        NetworkID = json.text("NetworkID")
        EndpointID = json.text("EndpointID")
    }
}

public struct DiscoveryNotification: Sendable, Equatable {
    public var DiscoveryType: Int
    public var DiscoveryData: JSONValue
    public init(DiscoveryType: Int = 0, DiscoveryData: JSONValue = [:]) {
        self.DiscoveryType = DiscoveryType
        self.DiscoveryData = DiscoveryData
    }
    init(_ json: JSON) {
        DiscoveryType = json.member("DiscoveryType")?.integer ?? 0
        DiscoveryData = json.member("DiscoveryData").map(JSONValue.init) ?? .null
    }
}

public struct ProgramExternalConnectivityRequest: Sendable, Equatable {
    public var NetworkID: String
    public var EndpointID: String
    public var Options: JSONValue
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

public struct RevokeExternalConnectivityRequest: Sendable, Equatable {
    public var NetworkID: String
    public var EndpointID: String
    public init(NetworkID: String = "", EndpointID: String = "") {
        self.NetworkID = NetworkID
        self.EndpointID = EndpointID
    }
    init(_ json: JSON) {
        NetworkID = json.text("NetworkID")
        EndpointID = json.text("EndpointID")
    }
}

public struct GwAllocCheckRequest: Sendable, Equatable {
    public var Options: JSONValue
    public init(Options: JSONValue = [:]) {
        self.Options = Options
    }
    init(_ json: JSON) { Options = JSONValue(json.objectOrEmpty("Options")) }
}

public struct GwAllocCheckResponse: Sendable, Equatable {
    public var SkipIPv4: Bool
    public var SkipIPv6: Bool
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
