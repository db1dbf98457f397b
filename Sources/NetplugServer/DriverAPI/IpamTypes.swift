import NetplugCore

// The IpamDriver wire types, as libnetwork's remote IPAM API spells them.

public struct IpamCapabilitiesResponse: Sendable, Equatable {
    public var RequiresMACAddress: Bool
    public init(RequiresMACAddress: Bool = false) { self.RequiresMACAddress = RequiresMACAddress }
    var json: JSON { .object(["RequiresMACAddress": .bool(RequiresMACAddress)]) }
}

public struct AddressSpacesResponse: Sendable, Equatable {
    public var LocalDefaultAddressSpace: String
    public var GlobalDefaultAddressSpace: String
    public init(LocalDefaultAddressSpace: String = "LocalDefault", GlobalDefaultAddressSpace: String = "GlobalDefault") {
        self.LocalDefaultAddressSpace = LocalDefaultAddressSpace
        self.GlobalDefaultAddressSpace = GlobalDefaultAddressSpace
    }
    var json: JSON {
        .object(["LocalDefaultAddressSpace": .string(LocalDefaultAddressSpace),
                 "GlobalDefaultAddressSpace": .string(GlobalDefaultAddressSpace)])
    }
}

public struct RequestPoolRequest: Sendable, Equatable {
    public var AddressSpace: String
    public var Pool: String
    public var SubPool: String
    public var Options: [String: String]
    public var V6: Bool
    public init(AddressSpace: String = "", Pool: String = "", SubPool: String = "", Options: [String: String] = [:], V6: Bool = false) {
        self.AddressSpace = AddressSpace
        self.Pool = Pool
        self.SubPool = SubPool
        self.Options = Options
        self.V6 = V6
    }
    init(_ json: JSON) {
        AddressSpace = json.text("AddressSpace")
        Pool = json.text("Pool")
        SubPool = json.text("SubPool")
        Options = json.strings("Options")
        V6 = json.member("V6")?.bool ?? false
    }
}

public struct RequestPoolResponse: Sendable, Equatable {
    public var PoolID: String
    public var Pool: String
    public var Data: [String: String]
    public init(PoolID: String, Pool: String, Data: [String: String] = [:]) {
        self.PoolID = PoolID
        self.Pool = Pool
        self.Data = Data
    }
    var json: JSON { .object(["PoolID": .string(PoolID), "Pool": .string(Pool), "Data": .strings(Data)]) }
}

public struct ReleasePoolRequest: Sendable, Equatable {
    public var PoolID: String
    public init(PoolID: String = "") {
        self.PoolID = PoolID
    }
    init(_ json: JSON) { PoolID = json.text("PoolID") }
}

public struct RequestAddressRequest: Sendable, Equatable {
    public var PoolID: String
    public var Address: String
    public var Options: [String: String]
    public init(PoolID: String = "", Address: String = "", Options: [String: String] = [:]) {
        self.PoolID = PoolID
        self.Address = Address
        self.Options = Options
    }
    init(_ json: JSON) {
        PoolID = json.text("PoolID")
        Address = json.text("Address")
        Options = json.strings("Options")
    }
}

public struct RequestAddressResponse: Sendable, Equatable {
    public var Address: String
    public var Data: [String: String]
    public init(Address: String, Data: [String: String] = [:]) {
        self.Address = Address
        self.Data = Data
    }
    var json: JSON { .object(["Address": .string(Address), "Data": .strings(Data)]) }
}

public struct ReleaseAddressRequest: Sendable, Equatable {
    public var PoolID: String
    public var Address: String
    public init(PoolID: String = "", Address: String = "") {
        self.PoolID = PoolID
        self.Address = Address
    }
    init(_ json: JSON) {
        PoolID = json.text("PoolID")
        Address = json.text("Address")
    }
}
