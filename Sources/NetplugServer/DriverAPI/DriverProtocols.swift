import NetplugCore

/// A network driver written in Swift, served in-process: the reference Go helper's `Driver`
/// interface method for method, plus GwAllocCheck. Every method has a default (README,
/// "Defaults"), so a driver implements only what it needs. A thrown error reaches Docker as
/// `{"Err": "<the error's description>"}` with a 500.
public protocol NetworkDriver: Sendable {
    func getCapabilities() async throws -> CapabilitiesResponse
    func createNetwork(_ request: CreateNetworkRequest) async throws
    func allocateNetwork(_ request: AllocateNetworkRequest) async throws -> AllocateNetworkResponse
    func deleteNetwork(_ request: DeleteNetworkRequest) async throws
    func freeNetwork(_ request: FreeNetworkRequest) async throws
    func createEndpoint(_ request: CreateEndpointRequest) async throws -> CreateEndpointResponse
    func deleteEndpoint(_ request: DeleteEndpointRequest) async throws
    func endpointInfo(_ request: InfoRequest) async throws -> InfoResponse
    func join(_ request: JoinRequest) async throws -> JoinResponse
    func leave(_ request: LeaveRequest) async throws
    func discoverNew(_ notification: DiscoveryNotification) async throws
    func discoverDelete(_ notification: DiscoveryNotification) async throws
    func programExternalConnectivity(_ request: ProgramExternalConnectivityRequest) async throws
    func revokeExternalConnectivity(_ request: RevokeExternalConnectivityRequest) async throws
    func gwAllocCheck(_ request: GwAllocCheckRequest) async throws -> GwAllocCheckResponse
}

extension NetworkDriver {
    public func getCapabilities() async throws -> CapabilitiesResponse {
        CapabilitiesResponse(Scope: LocalScope, ConnectivityScope: LocalScope)
    }
    public func createNetwork(_ request: CreateNetworkRequest) async throws {}
    public func allocateNetwork(_ request: AllocateNetworkRequest) async throws -> AllocateNetworkResponse { AllocateNetworkResponse() }
    public func deleteNetwork(_ request: DeleteNetworkRequest) async throws {}
    public func freeNetwork(_ request: FreeNetworkRequest) async throws {}
    public func createEndpoint(_ request: CreateEndpointRequest) async throws -> CreateEndpointResponse { CreateEndpointResponse() }
    public func deleteEndpoint(_ request: DeleteEndpointRequest) async throws {}
    public func endpointInfo(_ request: InfoRequest) async throws -> InfoResponse { InfoResponse() }
    public func join(_ request: JoinRequest) async throws -> JoinResponse { JoinResponse() }
    public func leave(_ request: LeaveRequest) async throws {}
    public func discoverNew(_ notification: DiscoveryNotification) async throws {}
    public func discoverDelete(_ notification: DiscoveryNotification) async throws {}
    public func programExternalConnectivity(_ request: ProgramExternalConnectivityRequest) async throws {}
    public func revokeExternalConnectivity(_ request: RevokeExternalConnectivityRequest) async throws {}
    public func gwAllocCheck(_ request: GwAllocCheckRequest) async throws -> GwAllocCheckResponse { GwAllocCheckResponse() }
}

/// An IPAM driver written in Swift: the reference Go helper's `ipam.Ipam` interface.
/// Pools and addresses have no default; the rest does.
public protocol IpamDriver: Sendable {
    func getCapabilities() async throws -> IpamCapabilitiesResponse
    func getDefaultAddressSpaces() async throws -> AddressSpacesResponse
    func requestPool(_ request: RequestPoolRequest) async throws -> RequestPoolResponse
    func releasePool(_ request: ReleasePoolRequest) async throws
    func requestAddress(_ request: RequestAddressRequest) async throws -> RequestAddressResponse
    func releaseAddress(_ request: ReleaseAddressRequest) async throws
}

extension IpamDriver {
    public func getCapabilities() async throws -> IpamCapabilitiesResponse { IpamCapabilitiesResponse() }
    public func getDefaultAddressSpaces() async throws -> AddressSpacesResponse { AddressSpacesResponse() }
}

/// An error whose text Docker shows the user as it is.
public struct DriverError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
