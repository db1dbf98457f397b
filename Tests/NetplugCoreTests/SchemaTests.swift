import XCTest
@testable import NetplugCore

final class SchemaTests: XCTestCase {
    func answer(_ method: String, _ text: String) throws -> SchemaReport {
        Schema.check(try JSON.parse(text), against: Methods.named(method)!.answer)
    }

    func request(_ method: String, _ text: String) throws -> SchemaReport {
        Schema.check(try JSON.parse(text), against: Methods.named(method)!.request)
    }

    func testAddresses() {
        for good in ["10.0.0.1/24", "0.0.0.0/0", "fe80::1/64", "::/0", "2001:db8::/32", "::ffff:10.0.0.1/128"] {
            XCTAssertTrue(Address.isCIDR(good), good)
        }
        for bad in ["10.0.0.1", "10.0.0.256/24", "10.0.0.1/33", "10.0.0/24", "fe80::1/129", "x/1", "010.0.0.1/8", "1:2:3:4:5:6:7:8:9/64"] {
            XCTAssertFalse(Address.isCIDR(bad), bad)
        }
        for good in ["10.0.0.1", "::1", "fe80::a:b", "1:2:3:4:5:6:7:8"] { XCTAssertTrue(Address.isIP(good), good) }
        for bad in ["10.0.0.1/24", "1.2.3", "::1::", "g::1", ""] { XCTAssertFalse(Address.isIP(bad), bad) }
        XCTAssertTrue(Address.isMAC("02:42:ac:11:00:02"))
        XCTAssertTrue(Address.isMAC("02-42-AC-11-00-02"))
        XCTAssertFalse(Address.isMAC("02:42:ac:11:00"))
        XCTAssertFalse(Address.isMAC("02:42:ac:11:00:zz"))
    }

    func testIdentifiers() {
        XCTAssertTrue(Identifier.isValid(String(repeating: "ab", count: 32)))
        XCTAssertTrue(Identifier.isValid("net-1_a.b"))
        for bad in ["", "-x", ".x", "../x", "a/b", "a b", "a;b", "$(x)", String(repeating: "a", count: 129)] {
            XCTAssertFalse(Identifier.isValid(bad), bad)
        }
    }

    func testJoinAnswerNamesTheBadField() throws {
        XCTAssertNil(try answer("NetworkDriver.Join", #"{"InterfaceName":{"SrcName":"v","DstPrefix":"eth"},"Gateway":"10.0.0.1"}"#).problem)
        let bad = try answer("NetworkDriver.Join", #"{"Gateway":"10.0.0.1/24"}"#).problem
        XCTAssertEqual(bad, #"Gateway "10.0.0.1/24" is not a plain IP address (like 10.0.0.1, without a prefix length)"#)
        XCTAssertTrue(try answer("NetworkDriver.Join", #"{"StaticRoutes":[{"Destination":"10.1.0.0/16","RouteType":0}]}"#).problem!.contains("NextHop"))
        XCTAssertNil(try answer("NetworkDriver.Join", #"{"StaticRoutes":[{"Destination":"10.1.0.0/16","RouteType":0,"NextHop":"10.0.0.9"}]}"#).problem)
        XCTAssertTrue(try answer("NetworkDriver.Join", #"{"StaticRoutes":[{"Destination":"10.1.0.0/16","RouteType":2}]}"#).problem!.contains("StaticRoutes[0].RouteType"))
    }

    func testCreateEndpointAnswerChecksCIDRAndMAC() throws {
        XCTAssertTrue(try answer("NetworkDriver.CreateEndpoint", #"{"Interface":{"Address":"10.0.0.2"}}"#).problem!.contains("Interface.Address"))
        XCTAssertTrue(try answer("NetworkDriver.CreateEndpoint", #"{"Interface":{"MacAddress":"nope"}}"#).problem!.contains("Interface.MacAddress"))
        XCTAssertNil(try answer("NetworkDriver.CreateEndpoint", #"{"Interface":{"Address":"10.0.0.2/24","MacAddress":"02:42:ac:11:00:02"}}"#).problem)
    }

    func testScopesAndTypes() throws {
        XCTAssertNil(try answer("NetworkDriver.GetCapabilities", #"{"Scope":"local","ConnectivityScope":"global"}"#).problem)
        XCTAssertTrue(try answer("NetworkDriver.GetCapabilities", #"{"Scope":"planet"}"#).problem!.contains("Scope"))
        XCTAssertTrue(try answer("NetworkDriver.GwAllocCheck", #"{"SkipIPv4":"yes"}"#).problem!.contains("SkipIPv4 must be true or false"))
    }

    func testKeysMatchCaseInsensitivelyAndUnknownKeysAreSuggested() throws {
        XCTAssertNil(try answer("NetworkDriver.Join", #"{"gateway":"10.0.0.1/24"}"#).problem == nil ? "accepted" : nil)
        let report = try answer("NetworkDriver.Join", #"{"Gatway":"10.0.0.1"}"#)
        XCTAssertNil(report.problem)
        XCTAssertEqual(report.unknownKeys, ["Gatway (did you mean Gateway?)"])
    }

    func testNullIsAcceptedAsGoDoes() throws {
        XCTAssertNil(try request("NetworkDriver.CreateNetwork", #"{"NetworkID":"n1","Options":null,"IPv4Data":null,"IPv6Data":[]}"#).problem)
    }

    func testRequestTypesAndIDs() throws {
        XCTAssertTrue(try request("NetworkDriver.CreateNetwork", #"{"NetworkID":5}"#).problem!.contains("NetworkID must be a string"))
        XCTAssertTrue(try request("NetworkDriver.Join", #"{"NetworkID":"n","EndpointID":"a/b"}"#).problem!.contains("EndpointID"))
        XCTAssertTrue(try request("NetworkDriver.CreateNetwork", #"{"IPv4Data":{}}"#).problem!.contains("IPv4Data must be an array"))
    }

    func testIpamRequiredFields() throws {
        XCTAssertEqual(try answer("IpamDriver.RequestPool", #"{"PoolID":"p"}"#).problem, "Pool is required")
        XCTAssertNil(try answer("IpamDriver.RequestPool", #"{"PoolID":"p","Pool":"10.1.0.0/16"}"#).problem)
    }

    func testSuggestions() {
        XCTAssertEqual(Suggest.closest(to: "Jion", among: ["Join", "Leave"]), "Join")
        XCTAssertEqual(Suggest.closest(to: "createnetwork", among: ["CreateNetwork"]), "CreateNetwork")
        XCTAssertNil(Suggest.closest(to: "README", among: ["Join", "Leave"]))
    }
}
