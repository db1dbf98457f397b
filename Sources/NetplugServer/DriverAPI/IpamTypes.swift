import NetplugCore

// The IpamDriver wire types, as libnetwork's remote IPAM API spells them.

/// IPAM GetCapabilities' answer.
public struct IpamCapabilitiesResponse: Sendable, Equatable {
    /// True: Docker sends the MAC address in RequestAddress.
    public var RequiresMACAddress: Bool
    /// Builds one; each field defaults to what Docker leaves empty.
    public init(RequiresMACAddress: Bool = false) { self.RequiresMACAddress = RequiresMACAddress }
    var json: JSON { .object(["RequiresMACAddress": .bool(RequiresMACAddress)]) }
}

/// GetDefaultAddressSpaces' answer: the names of the address spaces.
public struct AddressSpacesResponse: Sendable, Equatable {
    /// The address space for local-scope networks.
    public var LocalDefaultAddressSpace: String
    /// The address space for global-scope networks.
    public var GlobalDefaultAddressSpace: String
    /// Builds one; each field defaults to what Docker leaves empty.
    public init(LocalDefaultAddressSpace: String = "LocalDefault", GlobalDefaultAddressSpace: String = "GlobalDefault") {
        self.LocalDefaultAddressSpace = LocalDefaultAddressSpace
        self.GlobalDefaultAddressSpace = GlobalDefaultAddressSpace
    }
    var json: JSON {
        .object(["LocalDefaultAddressSpace": .string(LocalDefaultAddressSpace),
                 "GlobalDefaultAddressSpace": .string(GlobalDefaultAddressSpace)])
    }
}

/// What Docker sends when a network needs a pool.
public struct RequestPoolRequest: Sendable, Equatable {
    /// The address space the pool belongs to (`LocalDefault`, `GlobalDefault`).
    public var AddressSpace: String
    /// A wanted pool (`--subnet`), or empty for any.
    public var Pool: String
    /// A part of the pool to give addresses from (`--ip-range`).
    public var SubPool: String
    /// The options as Docker sends them (`-o KEY=VALUE` are under `com.docker.network.generic`).
    public var Options: [String: String]
    /// True: an IPv6 pool is wanted.
    public var V6: Bool
    /// Builds one; each field defaults to what Docker leaves empty.
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

/// RequestPool's answer: the pool and its id.
public struct RequestPoolResponse: Sendable, Equatable {
    /// The id RequestPool answered, which names the pool in later calls.
    public var PoolID: String
    /// The pool, in CIDR form (`10.20.0.0/24`).
    public var Pool: String
    /// Free-form data about the pool or address.
    public var Data: [String: String]
    /// Builds one; each field defaults to what Docker leaves empty.
    public init(PoolID: String, Pool: String, Data: [String: String] = [:]) {
        self.PoolID = PoolID
        self.Pool = Pool
        self.Data = Data
    }
    var json: JSON { .object(["PoolID": .string(PoolID), "Pool": .string(Pool), "Data": .strings(Data)]) }
}

/// What Docker sends when a pool is no longer used.
public struct ReleasePoolRequest: Sendable, Equatable {
    /// The id RequestPool answered, which names the pool in later calls.
    public var PoolID: String
    /// Builds one; each field defaults to what Docker leaves empty.
    public init(PoolID: String = "") {
        self.PoolID = PoolID
    }
    init(_ json: JSON) { PoolID = json.text("PoolID") }
}

/// What Docker sends when the gateway or a container needs an address.
public struct RequestAddressRequest: Sendable, Equatable {
    /// The id RequestPool answered, which names the pool in later calls.
    public var PoolID: String
    /// A wanted address (`--ip`), or empty for any.
    public var Address: String
    /// `RequestAddressType: com.docker.network.gateway` for the gateway; the MAC when capabilities ask for it.
    public var Options: [String: String]
    /// Builds one; each field defaults to what Docker leaves empty.
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

/// RequestAddress' answer: the address, in CIDR form.
public struct RequestAddressResponse: Sendable, Equatable {
    /// The IPv4 address, in CIDR form.
    public var Address: String
    /// Free-form data about the pool or address.
    public var Data: [String: String]
    /// Builds one; each field defaults to what Docker leaves empty.
    public init(Address: String, Data: [String: String] = [:]) {
        self.Address = Address
        self.Data = Data
    }
    var json: JSON { .object(["Address": .string(Address), "Data": .strings(Data)]) }
}

/// What Docker sends when an address is no longer used.
public struct ReleaseAddressRequest: Sendable, Equatable {
    /// The id RequestPool answered, which names the pool in later calls.
    public var PoolID: String
    /// The address, without prefix length.
    public var Address: String
    /// Builds one; each field defaults to what Docker leaves empty.
    public init(PoolID: String = "", Address: String = "") {
        self.PoolID = PoolID
        self.Address = Address
    }
    init(_ json: JSON) {
        PoolID = json.text("PoolID")
        Address = json.text("Address")
    }
}
