import NetplugCore

/// Serves Swift `NetworkDriver` / `IpamDriver` values through the same server, checks and
/// method table as the hook-running driver: requests are checked before they are decoded,
/// and answers are checked against the method's schema before Docker sees them.
public struct TypedDriver: PluginBackend {
    public let network: (any NetworkDriver)?
    public let ipam: (any IpamDriver)?
    let name: String

    public init(network: (any NetworkDriver)? = nil, ipam: (any IpamDriver)? = nil, name: String = "swift") {
        self.network = network
        self.ipam = ipam
        self.name = name
    }

    public func implements() -> [Family] {
        (network == nil ? [] : [.networkDriver]) + (ipam == nil ? [] : [.ipamDriver])
    }

    public func serve(_ call: Call) async -> Served {
        let answer: Answer
        do {
            let body = try await (call.method.family == .networkDriver ? serveNetwork(call) : serveIpam(call))
            let report = Schema.check(body, against: call.method.answer)
            if let problem = report.problem {
                answer = .error(500, "driver \(name) answered \(call.method.fullName) badly: \(problem)")
            } else {
                answer = Answer(status: 200, body: body, unknownKeys: report.unknownKeys)
            }
        } catch {
            answer = .error(500, "\(error)")
        }
        return Served(answer: answer, handler: name)
    }

    private func serveNetwork(_ call: Call) async throws -> JSON {
        guard let driver = network else { throw DriverError("\(call.method.fullName) is not implemented") }
        let request = call.request
        switch call.method.name {
        case "GetCapabilities": return try await driver.getCapabilities().json
        case "CreateNetwork": try await driver.createNetwork(CreateNetworkRequest(request))
        case "AllocateNetwork": return try await driver.allocateNetwork(AllocateNetworkRequest(request)).json
        case "DeleteNetwork": try await driver.deleteNetwork(DeleteNetworkRequest(request))
        case "FreeNetwork": try await driver.freeNetwork(FreeNetworkRequest(request))
        case "CreateEndpoint": return try await driver.createEndpoint(CreateEndpointRequest(request)).json
        case "DeleteEndpoint": try await driver.deleteEndpoint(DeleteEndpointRequest(request))
        case "EndpointOperInfo": return try await driver.endpointInfo(InfoRequest(request)).json
        case "Join": return try await driver.join(JoinRequest(request)).json
        case "Leave": try await driver.leave(LeaveRequest(request))
        case "DiscoverNew": try await driver.discoverNew(DiscoveryNotification(request))
        case "DiscoverDelete": try await driver.discoverDelete(DiscoveryNotification(request))
        case "ProgramExternalConnectivity":
            try await driver.programExternalConnectivity(ProgramExternalConnectivityRequest(request))
        case "RevokeExternalConnectivity":
            try await driver.revokeExternalConnectivity(RevokeExternalConnectivityRequest(request))
        case "GwAllocCheck": return try await driver.gwAllocCheck(GwAllocCheckRequest(request)).json
        default: throw DriverError("\(call.method.fullName) is not implemented")
        }
        return .object()
    }

    private func serveIpam(_ call: Call) async throws -> JSON {
        guard let driver = ipam else { throw DriverError("\(call.method.fullName) is not implemented") }
        let request = call.request
        switch call.method.name {
        case "GetCapabilities": return try await driver.getCapabilities().json
        case "GetDefaultAddressSpaces": return try await driver.getDefaultAddressSpaces().json
        case "RequestPool": return try await driver.requestPool(RequestPoolRequest(request)).json
        case "ReleasePool": try await driver.releasePool(ReleasePoolRequest(request))
        case "RequestAddress": return try await driver.requestAddress(RequestAddressRequest(request)).json
        case "ReleaseAddress": try await driver.releaseAddress(ReleaseAddressRequest(request))
        default: throw DriverError("\(call.method.fullName) is not implemented")
        }
        return .object()
    }
}
