import NetplugCore

/// Serves Swift `NetworkDriver` / `IpamDriver` values through the same server, checks and
/// method table as the hook-running driver: requests are checked before they are decoded,
/// and answers are checked against the method's schema before Docker sees them.
package struct TypedDriver: PluginBackend {
    package let network: (any NetworkDriver)?
    package let ipam: (any IpamDriver)?
    let name: String

    package init(network: (any NetworkDriver)? = nil, ipam: (any IpamDriver)? = nil, name: String = "swift") {
        self.network = network
        self.ipam = ipam
        self.name = name
    }

    package func implements() -> [Family] {
        (network == nil ? [] : [.networkDriver]) + (ipam == nil ? [] : [.ipamDriver])
    }

    package func serve(_ call: Call) async -> Served {
        let answer: Answer
        do {
            let body = try await dispatch(call)
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

    private func dispatch(_ call: Call) async throws -> JSON {
        let request = call.request
        func network() throws -> any NetworkDriver {
            guard let network = self.network else { throw DriverError("\(call.method.fullName) is not implemented") }
            return network
        }
        func ipam() throws -> any IpamDriver {
            guard let ipam = self.ipam else { throw DriverError("\(call.method.fullName) is not implemented") }
            return ipam
        }
        switch call.method.id {
        case .getCapabilities: return try await network().getCapabilities().json
        case .createNetwork: try await network().createNetwork(CreateNetworkRequest(request))
        case .allocateNetwork: return try await network().allocateNetwork(AllocateNetworkRequest(request)).json
        case .deleteNetwork: try await network().deleteNetwork(DeleteNetworkRequest(request))
        case .freeNetwork: try await network().freeNetwork(FreeNetworkRequest(request))
        case .createEndpoint: return try await network().createEndpoint(CreateEndpointRequest(request)).json
        case .deleteEndpoint: try await network().deleteEndpoint(DeleteEndpointRequest(request))
        case .endpointOperInfo: return try await network().endpointInfo(InfoRequest(request)).json
        case .join: return try await network().join(JoinRequest(request)).json
        case .leave: try await network().leave(LeaveRequest(request))
        case .discoverNew: try await network().discoverNew(DiscoveryNotification(request))
        case .discoverDelete: try await network().discoverDelete(DiscoveryNotification(request))
        case .programExternalConnectivity:
            try await network().programExternalConnectivity(ProgramExternalConnectivityRequest(request))
        case .revokeExternalConnectivity:
            try await network().revokeExternalConnectivity(RevokeExternalConnectivityRequest(request))
        case .gwAllocCheck: return try await network().gwAllocCheck(GwAllocCheckRequest(request)).json
        case .ipamGetCapabilities: return try await ipam().getCapabilities().json
        case .getDefaultAddressSpaces: return try await ipam().getDefaultAddressSpaces().json
        case .requestPool: return try await ipam().requestPool(RequestPoolRequest(request)).json
        case .releasePool: try await ipam().releasePool(ReleasePoolRequest(request))
        case .requestAddress: return try await ipam().requestAddress(RequestAddressRequest(request)).json
        case .releaseAddress: try await ipam().releaseAddress(ReleaseAddressRequest(request))
        }
        return .object()
    }
}
