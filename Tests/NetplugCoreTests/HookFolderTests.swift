import XCTest
@testable import NetplugCore
#if canImport(Glibc)
import Glibc
#endif

final class HookFolderTests: XCTestCase {
    var root = ""

    override func setUp() {
        var template = Array("/tmp/netplug-folder-XXXXXX".utf8CString)
        root = String(cString: mkdtemp(&template)!)
        chmod(root, 0o755)
    }

    override func tearDown() {
        _ = root.withCString { system("rm -rf '\(String(cString: $0))'") }
    }

    func write(_ name: String, mode: mode_t = 0o755) {
        let path = root + "/" + name
        let file = fopen(path, "w")!
        fputs("#!/bin/sh\necho '{}'\n", file)
        fclose(file)
        chmod(path, mode)
    }

    func testFindsTheHookWithOrWithoutExtension() {
        write("Join.sh")
        write("Leave")
        let folder = HookFolder(root: root)
        XCTAssertEqual(folder.lookup(Methods.named("NetworkDriver.Join")!), .hook(HookFile(path: root + "/Join.sh", name: "Join.sh")))
        XCTAssertEqual(folder.lookup(Methods.named("NetworkDriver.Leave")!), .hook(HookFile(path: root + "/Leave", name: "Leave")))
        XCTAssertEqual(folder.lookup(Methods.named("NetworkDriver.CreateNetwork")!), .none)
        XCTAssertTrue(folder.check().errors.isEmpty)
    }

    func testRefusesTwoClaimsNonExecutableAndInsecure() {
        write("Join")
        write("Join.sh")
        write("Leave.sh", mode: 0o644)
        write("CreateNetwork", mode: 0o777)
        let errors = HookFolder(root: root).check().errors
        XCTAssertTrue(errors.contains { $0.contains("two hooks claim NetworkDriver.Join: Join and Join.sh") }, "\(errors)")
        XCTAssertTrue(errors.contains { $0.contains("hook Leave.sh is not executable") }, "\(errors)")
        XCTAssertTrue(errors.contains { $0.contains("/CreateNetwork is writable by group or others") }, "\(errors)")
        XCTAssertFalse(HookFolder(root: root, allowInsecure: true).check().errors.contains { $0.contains("writable") })
    }

    func testInsecureFolderIsRefused() {
        write("Join")
        chmod(root, 0o777)
        XCTAssertTrue(HookFolder(root: root).check().errors.contains { $0.contains("\(root) is writable by group or others") })
    }

    func testUnknownNamesAreWarnedWithSuggestions() {
        write("Jion.sh")
        write("README.md", mode: 0o644)
        write("notes.txt", mode: 0o644)
        write(".hidden")
        let report = HookFolder(root: root).check()
        XCTAssertTrue(report.errors.isEmpty, "\(report.errors)")
        XCTAssertTrue(report.warnings.contains { $0.contains("Jion.sh") && $0.contains("did you mean Join?") }, "\(report.warnings)")
        XCTAssertTrue(report.warnings.contains { $0.contains("README.md") })
        XCTAssertTrue(report.warnings.contains { $0.contains("notes.txt") })
        XCTAssertFalse(report.warnings.contains { $0.contains(".hidden") })
    }

    func testIpamSubfolder() {
        mkdir(root + "/ipam", 0o755)
        write("ipam/RequestPool.py")
        let folder = HookFolder(root: root)
        XCTAssertTrue(folder.hasIpam)
        XCTAssertEqual(folder.lookup(Methods.named("IpamDriver.RequestPool")!),
                       .hook(HookFile(path: root + "/ipam/RequestPool.py", name: "ipam/RequestPool.py")))
        XCTAssertTrue(folder.check().errors.isEmpty)
    }

    func testMissingFolder() {
        XCTAssertTrue(HookFolder(root: root + "/nope").check().errors[0].contains("does not exist"))
    }
}
