import NetplugServer

/// A network driver served in-process, without hooks: it remembers each network's gateway
/// and each endpoint's address, names the interface Docker should move into the container,
/// and refuses networks without a subnet. It makes no links itself: the point is the shape
/// of a Swift driver, not the plumbing (see examples/bridge for that).
public actor AddressBookDriver: NetworkDriver {
    public struct Endpoint: Sendable, Equatable {
        public var network: String
        public var address: String
        public var joined: Bool
    }

    public private(set) var gateways: [String: String] = [:]
    public private(set) var endpoints: [String: Endpoint] = [:]

    public init() {}

    public func createNetwork(_ request: CreateNetworkRequest) async throws {
        guard let data = request.IPv4Data.first, !data.Gateway.isEmpty else {
            throw DriverError("network \(request.NetworkID.prefix(12)) has no IPv4 subnet: create it with --subnet")
        }
        gateways[request.NetworkID] = String(data.Gateway.split(separator: "/")[0])
    }

    public func deleteNetwork(_ request: DeleteNetworkRequest) async throws {
        gateways[request.NetworkID] = nil
    }

    public func createEndpoint(_ request: CreateEndpointRequest) async throws -> CreateEndpointResponse {
        guard gateways[request.NetworkID] != nil else { throw DriverError("no network \(request.NetworkID.prefix(12))") }
        endpoints[request.EndpointID] = Endpoint(network: request.NetworkID, address: request.Interface?.Address ?? "", joined: false)
        return CreateEndpointResponse()
    }

    public func endpointInfo(_ request: InfoRequest) async throws -> InfoResponse {
        InfoResponse(Value: ["address": endpoints[request.EndpointID]?.address ?? ""])
    }

    public func join(_ request: JoinRequest) async throws -> JoinResponse {
        guard var endpoint = endpoints[request.EndpointID], let gateway = gateways[request.NetworkID] else {
            throw DriverError("no endpoint \(request.EndpointID.prefix(12)) on network \(request.NetworkID.prefix(12))")
        }
        endpoint.joined = true
        endpoints[request.EndpointID] = endpoint
        return JoinResponse(InterfaceName: InterfaceName(SrcName: "sd" + request.EndpointID.prefix(11), DstPrefix: "eth"),
                            Gateway: gateway)
    }

    public func leave(_ request: LeaveRequest) async throws {
        endpoints[request.EndpointID]?.joined = false
    }

    public func deleteEndpoint(_ request: DeleteEndpointRequest) async throws {
        endpoints[request.EndpointID] = nil
    }
}
