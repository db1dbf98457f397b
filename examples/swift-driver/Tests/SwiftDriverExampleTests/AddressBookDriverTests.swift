import XCTest
import NetplugServer
import SwiftDriverExample
#if canImport(Glibc)
import Glibc
#endif

/// The example driver called directly with requests built as Docker would send them: a
/// driver's logic needs no socket to be tested.
final class AddressBookDriverTests: XCTestCase {
    let net = String(repeating: "a", count: 64)
    let ep = String(repeating: "b", count: 64)

    func testLifecycle() async throws {
        let driver = AddressBookDriver()
        try await driver.createNetwork(CreateNetworkRequest(
            NetworkID: net, Options: ["com.docker.network.generic": [:]],
            IPv4Data: [IPAMData(Pool: "10.5.0.0/24", Gateway: "10.5.0.1/24")]))
        let created = try await driver.createEndpoint(CreateEndpointRequest(
            NetworkID: net, EndpointID: ep, Interface: EndpointInterface(Address: "10.5.0.2/24")))
        XCTAssertEqual(created, CreateEndpointResponse())
        let joined = try await driver.join(JoinRequest(NetworkID: net, EndpointID: ep, SandboxKey: "/var/run/docker/netns/x"))
        XCTAssertEqual(joined, JoinResponse(InterfaceName: InterfaceName(SrcName: "sdbbbbbbbbbbb", DstPrefix: "eth"),
                                            Gateway: "10.5.0.1"))
        let info = try await driver.endpointInfo(InfoRequest(NetworkID: net, EndpointID: ep))
        XCTAssertEqual(info.Value, ["address": "10.5.0.2/24"])
        let isJoined = await driver.endpoints[ep]?.joined
        XCTAssertEqual(isJoined, true)
        try await driver.leave(LeaveRequest(NetworkID: net, EndpointID: ep))
        try await driver.deleteEndpoint(DeleteEndpointRequest(NetworkID: net, EndpointID: ep))
        try await driver.deleteNetwork(DeleteNetworkRequest(NetworkID: net))
        let (gateways, endpoints) = (await driver.gateways, await driver.endpoints)
        XCTAssertTrue(gateways.isEmpty && endpoints.isEmpty)
    }

    func testRefusesANetworkWithoutASubnet() async {
        do {
            try await AddressBookDriver().createNetwork(CreateNetworkRequest(NetworkID: net))
            XCTFail("a network without IPv4 data was accepted")
        } catch {
            XCTAssertEqual("\(error)", "network aaaaaaaaaaaa has no IPv4 subnet: create it with --subnet")
        }
    }

    func testJoinWithoutAnEndpointIsRefused() async {
        do {
            _ = try await AddressBookDriver().join(JoinRequest(NetworkID: net, EndpointID: ep))
            XCTFail("join without an endpoint was accepted")
        } catch {
            XCTAssertTrue("\(error)".hasPrefix("no endpoint bbbbbbbbbbbb"), "\(error)")
        }
    }
}

/// The same driver once over a real Unix socket, as Docker meets it: activation, a call
/// answered, an error as `{"Err"}`, and a request refused before the driver sees it.
final class AddressBookDriverSocketTests: XCTestCase {
    func testOverARealSocket() async throws {
        let path = "/tmp/swiftbook-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
        let plugin = try await Plugin.start(network: AddressBookDriver(), on: .unix(path: path, group: nil))
        let serving = Task { await plugin.run() }
        defer { serving.cancel() }
        let net = String(repeating: "a", count: 64)
        XCTAssertEqual(try post(path, "/Plugin.Activate").body, #"{"Implements":["NetworkDriver"]}"#)
        XCTAssertEqual(try post(path, "/NetworkDriver.GetCapabilities").body, #"{"Scope":"local","ConnectivityScope":"local"}"#)
        let create = #"{"NetworkID":"\#(net)","Options":{},"IPv4Data":[{"AddressSpace":"","Pool":"10.5.0.0/24","Gateway":"10.5.0.1/24"}],"IPv6Data":[]}"#
        XCTAssertEqual(try post(path, "/NetworkDriver.CreateNetwork", create).status, 200)
        let refused = try post(path, "/NetworkDriver.CreateNetwork", #"{"NetworkID":"\#(net)","IPv4Data":[]}"#)
        XCTAssertEqual(refused.status, 500)
        XCTAssertEqual(refused.body, #"{"Err":"network aaaaaaaaaaaa has no IPv4 subnet: create it with --subnet"}"#)
        let bad = try post(path, "/NetworkDriver.Join", #"{"NetworkID":"../etc","EndpointID":"x"}"#)
        XCTAssertEqual(bad.status, 400)
        XCTAssertTrue(bad.body.contains("NetworkID"))
        await plugin.stop()
    }
}

struct Reply {
    var status: Int
    var body: String
}

/// A minimal HTTP/1.1 client over a Unix socket: what Docker does, nothing more.
func post(_ path: String, _ uri: String, _ body: String = "") throws -> Reply {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
        raw.copyBytes(from: Array(path.utf8))
        raw[path.utf8.count] = 0
    }
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    guard connected == 0 else { throw DriverError("cannot connect to \(path)") }
    let request = "POST \(uri) HTTP/1.1\r\nHost: plugin\r\nConnection: close\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
    _ = Array(request.utf8).withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
    var response: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n <= 0 { break }
        response += chunk[0..<n]
    }
    let text = String(decoding: response, as: UTF8.self)
    guard let split = text.range(of: "\r\n\r\n"), let status = Int(text.split(separator: " ")[1]) else {
        throw DriverError("bad answer: \(text)")
    }
    return Reply(status: status, body: String(text[split.upperBound...]))
}
