import XCTest
@testable import NetplugCore

final class MethodTableTests: XCTestCase {
    func testTheTableHasEveryMethodOnce() {
        let network = Methods.inFamily(.networkDriver).map(\.name)
        XCTAssertEqual(Set(network), ["GetCapabilities", "CreateNetwork", "AllocateNetwork", "DeleteNetwork", "FreeNetwork",
                                      "CreateEndpoint", "DeleteEndpoint", "EndpointOperInfo", "Join", "Leave", "DiscoverNew",
                                      "DiscoverDelete", "ProgramExternalConnectivity", "RevokeExternalConnectivity", "GwAllocCheck"])
        XCTAssertEqual(network.count, 15)
        XCTAssertEqual(Set(Methods.inFamily(.ipamDriver).map(\.name)),
                       ["GetCapabilities", "GetDefaultAddressSpaces", "RequestPool", "ReleasePool", "RequestAddress", "ReleaseAddress"])
        XCTAssertEqual(Set(Methods.all.map(\.path)).count, 21)
        XCTAssertEqual(Methods.method(atPath: "/NetworkDriver.Join")?.hookStem, "Join")
        XCTAssertEqual(Methods.method(atPath: "/IpamDriver.RequestPool")?.hookStem, "ipam/RequestPool")
        XCTAssertNil(Methods.method(atPath: "/NetworkDriver.Join/../../etc/passwd"))
    }

    func defaultText(_ name: String, _ context: DefaultContext = DefaultContext()) -> String? {
        guard case .json(let make) = Methods.named(name)!.defaultAnswer else { return nil }
        return make(context).text
    }

    func testDefaultsAreTheReadmesDefaultsTable() {
        XCTAssertEqual(defaultText("NetworkDriver.GetCapabilities"), #"{"Scope":"local","ConnectivityScope":"local"}"#)
        XCTAssertEqual(defaultText("NetworkDriver.GetCapabilities", DefaultContext(scope: "global", hasGwAllocCheckHook: true)),
                       #"{"Scope":"global","ConnectivityScope":"global","GwAllocChecker":true}"#)
        XCTAssertEqual(defaultText("NetworkDriver.GwAllocCheck"), #"{"SkipIPv4":false,"SkipIPv6":false}"#)
        XCTAssertEqual(defaultText("NetworkDriver.EndpointOperInfo"), #"{"Value":{}}"#)
        XCTAssertEqual(defaultText("NetworkDriver.AllocateNetwork"), #"{"Options":{}}"#)
        for name in ["CreateNetwork", "DeleteNetwork", "FreeNetwork", "CreateEndpoint", "DeleteEndpoint", "Join", "Leave",
                     "DiscoverNew", "DiscoverDelete", "ProgramExternalConnectivity", "RevokeExternalConnectivity"] {
            XCTAssertEqual(defaultText("NetworkDriver." + name), "{}", name)
        }
        XCTAssertEqual(defaultText("IpamDriver.GetCapabilities"), #"{"RequiresMACAddress":false}"#)
        XCTAssertEqual(defaultText("IpamDriver.GetDefaultAddressSpaces"),
                       #"{"LocalDefaultAddressSpace":"LocalDefault","GlobalDefaultAddressSpace":"GlobalDefault"}"#)
        for name in ["RequestPool", "ReleasePool", "RequestAddress", "ReleaseAddress"] {
            XCTAssertNil(defaultText("IpamDriver." + name), name)
        }
    }

    func testEveryMethodIDHasOneRowWithItsNameAndPath() {
        XCTAssertEqual(Methods.all.map(\.id), MethodID.allCases)
        for id in MethodID.allCases {
            let method = Methods[id]
            XCTAssertEqual(method.fullName, id.rawValue)
            XCTAssertEqual(Methods.method(atPath: "/" + id.rawValue)?.id, id)
            XCTAssertEqual("\(method.family.rawValue).\(method.name)", id.rawValue)
        }
    }

    func testOnlyTheSixNetworkLifecycleMethodsChangeRecords() {
        let changing = MethodID.allCases.filter(Records.changesRecord)
        XCTAssertEqual(changing, [.createNetwork, .deleteNetwork, .createEndpoint, .deleteEndpoint, .join, .leave])
    }
}
