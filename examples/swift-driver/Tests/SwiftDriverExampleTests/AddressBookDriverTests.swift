import XCTest
import NetplugServer
import SwiftDriverExample
#if canImport(Glibc)
import Glibc
#endif

/// The example driver in-process over a real Unix socket, called as Docker calls it.
final class AddressBookDriverTests: XCTestCase {
    var path = ""
    var plugin: Plugin!
    var driver: AddressBookDriver!
    var serving: Task<Void, Never>!

    override func setUp() async throws {
        path = "/tmp/swiftbook-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
        driver = AddressBookDriver()
        plugin = try await Plugin.start(network: driver, on: .unix(path: path, group: nil))
        let plugin = self.plugin!
        serving = Task { await plugin.run() }
    }

    override func tearDown() async throws {
        await plugin.stop()
        serving.cancel()
    }

    let net = String(repeating: "a", count: 64)
    let ep = String(repeating: "b", count: 64)

    func testActivateAndCapabilities() throws {
        XCTAssertEqual(try post(path, "/Plugin.Activate").body, #"{"Implements":["NetworkDriver"]}"#)
        XCTAssertEqual(try post(path, "/NetworkDriver.GetCapabilities").body, #"{"Scope":"local","ConnectivityScope":"local"}"#)
        XCTAssertEqual(try post(path, "/IpamDriver.RequestPool", "{}").status, 404)
    }

    func testLifecycle() async throws {
        let create = #"{"NetworkID":"\#(net)","Options":{},"IPv4Data":[{"AddressSpace":"","Pool":"10.5.0.0/24","Gateway":"10.5.0.1/24"}],"IPv6Data":[]}"#
        XCTAssertEqual(try post(path, "/NetworkDriver.CreateNetwork", create).status, 200)
        let endpoint = #"{"NetworkID":"\#(net)","EndpointID":"\#(ep)","Interface":{"Address":"10.5.0.2/24"},"Options":{}}"#
        XCTAssertEqual(try post(path, "/NetworkDriver.CreateEndpoint", endpoint).body, "{}")
        let join = try post(path, "/NetworkDriver.Join", #"{"NetworkID":"\#(net)","EndpointID":"\#(ep)","SandboxKey":"/x"}"#)
        XCTAssertEqual(join.status, 200)
        XCTAssertEqual(join.body, #"{"InterfaceName":{"SrcName":"sdbbbbbbbbbbb","DstPrefix":"eth"},"Gateway":"10.5.0.1"}"#)
        let info = try post(path, "/NetworkDriver.EndpointOperInfo", #"{"NetworkID":"\#(net)","EndpointID":"\#(ep)"}"#)
        XCTAssertEqual(info.body, #"{"Value":{"address":"10.5.0.2/24"}}"#)
        let joined = await driver.endpoints[ep]?.joined
        XCTAssertEqual(joined, true)
        XCTAssertEqual(try post(path, "/NetworkDriver.Leave", #"{"NetworkID":"\#(net)","EndpointID":"\#(ep)"}"#).status, 200)
        XCTAssertEqual(try post(path, "/NetworkDriver.DeleteEndpoint", #"{"NetworkID":"\#(net)","EndpointID":"\#(ep)"}"#).status, 200)
        XCTAssertEqual(try post(path, "/NetworkDriver.DeleteNetwork", #"{"NetworkID":"\#(net)"}"#).status, 200)
        let gateways = await driver.gateways
        XCTAssertTrue(gateways.isEmpty)
    }

    func testErrorsReachDockerAsErr() throws {
        let reply = try post(path, "/NetworkDriver.CreateNetwork", #"{"NetworkID":"\#(net)","IPv4Data":[]}"#)
        XCTAssertEqual(reply.status, 500)
        XCTAssertEqual(reply.body, #"{"Err":"network aaaaaaaaaaaa has no IPv4 subnet: create it with --subnet"}"#)
    }

    func testRequestsAreCheckedBeforeTheDriverSeesThem() throws {
        let reply = try post(path, "/NetworkDriver.Join", #"{"NetworkID":"../etc","EndpointID":"x"}"#)
        XCTAssertEqual(reply.status, 400)
        XCTAssertTrue(reply.body.contains("NetworkID"))
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
