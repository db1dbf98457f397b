/// Realistic requests (shaped like Docker 20.10's), example answers, and what Docker does
/// with an error, per method: what `call`, `exercise`, `init`, `schema` and docs/HOOKS.md show.
package enum Samples {
    package struct IDs: Sendable {
        package var network: String
        package var endpoint: String
        package var pool: String
        package init(network: String = String(repeating: "3f", count: 32), endpoint: String = String(repeating: "9c", count: 32),
                    pool: String = "pool-172.29.0.0/24") {
            self.network = network
            self.endpoint = endpoint
            self.pool = pool
        }
    }

    static let ipamData = #"[{"AddressSpace":"LocalDefault","Gateway":"172.29.0.1/24","Pool":"172.29.0.0/24"}]"#
    static let noPorts = #"{"com.docker.network.endpoint.exposedports":[],"com.docker.network.portmap":[]}"#

    /// The request body Docker would send.
    package static func request(_ method: Method, _ ids: IDs = IDs()) -> JSON {
        let n = "\"NetworkID\":\"\(ids.network)\""
        let pair = "\(n),\"EndpointID\":\"\(ids.endpoint)\""
        let text: String
        switch method.id {
        case .createNetwork:
            text = #"{\#(n),"Options":{"com.docker.network.enable_ipv6":false,"com.docker.network.generic":{}},"IPv4Data":\#(ipamData),"IPv6Data":[]}"#
        case .allocateNetwork:
            text = #"{\#(n),"Options":{},"IPv4Data":\#(ipamData),"IPv6Data":[]}"#
        case .deleteNetwork, .freeNetwork:
            text = "{\(n)}"
        case .createEndpoint:
            text = #"{\#(pair),"Interface":{"Address":"172.29.0.2/24","AddressIPv6":"","MacAddress":""},"Options":\#(noPorts)}"#
        case .join:
            text = #"{\#(pair),"SandboxKey":"/var/run/docker/netns/5d2f9a0e1c3b","Options":\#(noPorts)}"#
        case .discoverNew, .discoverDelete:
            text = #"{"DiscoveryType":1,"DiscoveryData":{"Address":"10.0.0.5","self":true}}"#
        case .programExternalConnectivity:
            text = #"{\#(pair),"Options":{"com.docker.network.endpoint.exposedports":[{"Proto":6,"Port":80}],"com.docker.network.portmap":[{"Proto":6,"IP":"","Port":80,"HostIP":"","HostPort":8080,"HostPortEnd":8080}]}}"#
        case .gwAllocCheck:
            text = #"{"Options":{"com.docker.network.generic":{}}}"#
        case .getCapabilities, .ipamGetCapabilities, .getDefaultAddressSpaces:
            text = "{}"
        case .requestPool:
            text = #"{"AddressSpace":"LocalDefault","Pool":"","SubPool":"","Options":{},"V6":false}"#
        case .releasePool:
            text = #"{"PoolID":"\#(ids.pool)"}"#
        case .requestAddress:
            text = #"{"PoolID":"\#(ids.pool)","Address":"","Options":{}}"#
        case .releaseAddress:
            text = #"{"PoolID":"\#(ids.pool)","Address":"172.29.0.2"}"#
        case .deleteEndpoint, .endpointOperInfo, .leave, .revokeExternalConnectivity:
            text = "{\(pair)}"
        }
        return try! JSON.parse(text)
    }

    /// An answer a real driver might give.
    package static func answer(_ method: Method) -> JSON {
        let text: String
        switch method.id {
        case .getCapabilities: text = #"{"Scope":"local","ConnectivityScope":"local"}"#
        case .allocateNetwork: text = #"{"Options":{"vni":"4097"}}"#
        case .createEndpoint: text = #"{"Interface":{"MacAddress":"02:42:ac:1d:00:02"}}"#
        case .endpointOperInfo: text = #"{"Value":{"bridge":"br-demo"}}"#
        case .join: text = #"{"InterfaceName":{"SrcName":"veth1a2b3c","DstPrefix":"eth"},"Gateway":"172.29.0.1"}"#
        case .gwAllocCheck: text = #"{"SkipIPv4":false,"SkipIPv6":false}"#
        case .ipamGetCapabilities: text = #"{"RequiresMACAddress":false}"#
        case .getDefaultAddressSpaces: text = #"{"LocalDefaultAddressSpace":"LocalDefault","GlobalDefaultAddressSpace":"GlobalDefault"}"#
        case .requestPool: text = #"{"PoolID":"pool-172.29.0.0/24","Pool":"172.29.0.0/24","Data":{}}"#
        case .requestAddress: text = #"{"Address":"172.29.0.2/24","Data":{}}"#
        case .createNetwork, .deleteNetwork, .freeNetwork, .deleteEndpoint, .leave, .discoverNew, .discoverDelete,
             .programExternalConnectivity, .revokeExternalConnectivity, .releasePool, .releaseAddress:
            text = "{}"
        }
        return try! JSON.parse(text)
    }

    /// What Docker does when the method answers an error.
    package static func onError(_ method: Method) -> String {
        switch method.id {
        case .getCapabilities: return "the driver cannot be used: every command naming it fails with the message"
        case .createNetwork: return "`docker network create` fails and prints the message; no network is made"
        case .allocateNetwork: return "swarm only: the network is not created"
        case .deleteNetwork: return "`docker network rm` fails and prints the message; the network stays"
        case .freeNetwork: return "swarm only: logged by the manager"
        case .createEndpoint: return "`docker run` / `docker network connect` fails and prints the message"
        case .deleteEndpoint: return "reported by `docker network disconnect`; on container removal Docker logs it"
        case .endpointOperInfo: return "logged; `docker inspect` shows no driver data"
        case .join: return "the container does not start; `docker run` prints the message"
        case .leave: return "logged; the container stops anyway"
        case .discoverNew, .discoverDelete: return "logged"
        case .programExternalConnectivity: return "the container does not start (a 404 means \"not implemented\" and is fine)"
        case .revokeExternalConnectivity: return "logged (a 404 means \"not implemented\")"
        case .gwAllocCheck: return "`docker network create` fails and prints the message"
        case .ipamGetCapabilities, .getDefaultAddressSpaces: return "the IPAM driver cannot be used"
        case .requestPool: return "`docker network create` fails and prints the message"
        case .releasePool: return "logged; `docker network rm` goes on"
        case .requestAddress: return "`docker network create` (the gateway) or `docker run` fails and prints the message"
        case .releaseAddress: return "logged"
        }
    }

    /// The default answer as text, or why there is none.
    package static func defaultText(_ method: Method) -> String {
        switch method.defaultAnswer {
        case .json(let make): return make(DefaultContext()).text
        case .notImplemented: return "none: 404 (a hook is required)"
        }
    }
}

/// Shapes as people read them: `{"NetworkID": ID, "Options": {string: any}, ...}`.
package enum ShapeText {
    package static func render(_ shape: Shape, indent: String = "") -> String {
        switch shape {
        case .any: return "any JSON"
        case .string: return "string"
        case .bool: return "true|false"
        case .integer: return "integer"
        case .identifier: return "ID (1-128 of [A-Za-z0-9_.-])"
        case .cidr: return "CIDR address (10.0.0.2/24)"
        case .ip: return "IP (10.0.0.1)"
        case .mac: return "MAC (02:42:ac:11:00:02)"
        case .scope: return "\"local\"|\"global\""
        case .routeType: return "0 (via NextHop) | 1 (connected)"
        case .map(let value): return "{string: \(render(value, indent: indent))}"
        case .array(let element): return "[\(render(element, indent: indent)), ...]"
        case .object(let fields, _):
            if fields.isEmpty { return "{}" }
            let inner = indent + "  "
            let lines = fields.map { field in
                "\(inner)\"\(field.name)\": \(render(field.shape, indent: inner))\(field.required ? "  (required)" : "")"
            }
            return "{\n" + lines.joined(separator: ",\n") + "\n\(indent)}"
        }
    }
}
