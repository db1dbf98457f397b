import NetplugCore

/// A network driver written in Swift, served in-process: the reference Go helper's `Driver`
/// interface method for method, plus GwAllocCheck. Every method has a default (README,
/// "Defaults"), so a driver implements only what it needs. A thrown error reaches Docker as
/// `{"Err": "<the error's description>"}` with a 500.
public protocol NetworkDriver: Sendable {
    /// When Docker first uses the driver: its scope. Default: local.
    func getCapabilities() async throws -> CapabilitiesResponse
    /// `docker network create`: build the network (a bridge, a VLAN, ...). Default: nothing.
    func createNetwork(_ request: CreateNetworkRequest) async throws
    /// On a swarm manager, when a global network is created: allocate cluster-wide resources (a VNI). Default: no options.
    func allocateNetwork(_ request: AllocateNetworkRequest) async throws -> AllocateNetworkResponse
    /// `docker network rm`: remove what createNetwork built; may come twice. Default: nothing.
    func deleteNetwork(_ request: DeleteNetworkRequest) async throws
    /// On a swarm manager, when a global network is removed: free what allocateNetwork took. Default: nothing.
    func freeNetwork(_ request: FreeNetworkRequest) async throws
    /// A container is attached (`docker run`, `network connect`), after Docker's IPAM chose its addresses. Default: keep them.
    func createEndpoint(_ request: CreateEndpointRequest) async throws -> CreateEndpointResponse
    /// After Leave (the link back in the host), or after a failed Join with no Leave: remove what the endpoint has. Default: nothing.
    func deleteEndpoint(_ request: DeleteEndpointRequest) async throws
    /// `docker inspect` and after Join: operational data about an endpoint. Default: none.
    func endpointInfo(_ request: InfoRequest) async throws -> InfoResponse
    /// The container starts: name the link Docker moves into it, the gateway, routes. Default: no interface.
    func join(_ request: JoinRequest) async throws -> JoinResponse
    /// The container stops or is disconnected; its link is still inside it. Default: nothing.
    func leave(_ request: LeaveRequest) async throws
    /// A node or datastore was discovered (swarm). Default: nothing.
    func discoverNew(_ notification: DiscoveryNotification) async throws
    /// A node or datastore went away (swarm). Default: nothing.
    func discoverDelete(_ notification: DiscoveryNotification) async throws
    /// After Join, for the endpoint that gives the container its gateway, before the link moves: publish ports. Default: nothing.
    func programExternalConnectivity(_ request: ProgramExternalConnectivityRequest) async throws
    /// Before Leave: undo programExternalConnectivity. Default: nothing.
    func revokeExternalConnectivity(_ request: RevokeExternalConnectivityRequest) async throws
    /// Docker 28+, when capabilities say GwAllocChecker: may IPAM skip the gateway address? Default: no.
    func gwAllocCheck(_ request: GwAllocCheckRequest) async throws -> GwAllocCheckResponse
}

extension NetworkDriver {
    /// The default: local scope.
    public func getCapabilities() async throws -> CapabilitiesResponse {
        CapabilitiesResponse(Scope: LocalScope, ConnectivityScope: LocalScope)
    }
    /// The default: nothing.
    public func createNetwork(_ request: CreateNetworkRequest) async throws {}
    /// The default: no options.
    public func allocateNetwork(_ request: AllocateNetworkRequest) async throws -> AllocateNetworkResponse { AllocateNetworkResponse() }
    /// The default: nothing.
    public func deleteNetwork(_ request: DeleteNetworkRequest) async throws {}
    /// The default: nothing.
    public func freeNetwork(_ request: FreeNetworkRequest) async throws {}
    /// The default: keep them.
    public func createEndpoint(_ request: CreateEndpointRequest) async throws -> CreateEndpointResponse { CreateEndpointResponse() }
    /// The default: nothing.
    public func deleteEndpoint(_ request: DeleteEndpointRequest) async throws {}
    /// The default: none.
    public func endpointInfo(_ request: InfoRequest) async throws -> InfoResponse { InfoResponse() }
    /// The default: no interface.
    public func join(_ request: JoinRequest) async throws -> JoinResponse { JoinResponse() }
    /// The default: nothing.
    public func leave(_ request: LeaveRequest) async throws {}
    /// The default: nothing.
    public func discoverNew(_ notification: DiscoveryNotification) async throws {}
    /// The default: nothing.
    public func discoverDelete(_ notification: DiscoveryNotification) async throws {}
    /// The default: nothing.
    public func programExternalConnectivity(_ request: ProgramExternalConnectivityRequest) async throws {}
    /// The default: nothing.
    public func revokeExternalConnectivity(_ request: RevokeExternalConnectivityRequest) async throws {}
    /// The default: no.
    public func gwAllocCheck(_ request: GwAllocCheckRequest) async throws -> GwAllocCheckResponse { GwAllocCheckResponse() }
}

/// An IPAM driver written in Swift: the reference Go helper's `ipam.Ipam` interface.
/// Pools and addresses have no default; the rest does.
public protocol IpamDriver: Sendable {
    /// When Docker first uses the IPAM driver: does it need MAC addresses? Default: no.
    func getCapabilities() async throws -> IpamCapabilitiesResponse
    /// When Docker first uses the IPAM driver: the names of its address spaces. Default: LocalDefault and GlobalDefault.
    func getDefaultAddressSpaces() async throws -> AddressSpacesResponse
    /// `docker network create` (also with `--subnet`): give the network a pool. No default: IPAM cannot invent one.
    func requestPool(_ request: RequestPoolRequest) async throws -> RequestPoolResponse
    /// `docker network rm`: the pool is free again.
    func releasePool(_ request: ReleasePoolRequest) async throws
    /// The network's gateway (`Options["RequestAddressType"]` says so) or a container's address. No default.
    func requestAddress(_ request: RequestAddressRequest) async throws -> RequestAddressResponse
    /// An address is free again (the container is gone, the network removed).
    func releaseAddress(_ request: ReleaseAddressRequest) async throws
}

extension IpamDriver {
    /// The default: no.
    public func getCapabilities() async throws -> IpamCapabilitiesResponse { IpamCapabilitiesResponse() }
    /// The default: LocalDefault and GlobalDefault.
    public func getDefaultAddressSpaces() async throws -> AddressSpacesResponse { AddressSpacesResponse() }
}

/// An error whose text Docker shows the user as it is.
public struct DriverError: Error, CustomStringConvertible, Sendable {
    /// The text Docker shows the user.
    public let description: String
    /// An error Docker shows as `description`.
    public init(_ description: String) { self.description = description }
}
