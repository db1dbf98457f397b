import XCTest
@testable import NetplugCore

/// Every row of the README's "What the hook answers" table, without a process.
final class OutcomeTests: XCTestCase {
    let join = Methods.named("NetworkDriver.Join")!
    let requestPool = Methods.named("IpamDriver.RequestPool")!

    func run(_ exit: HookExit, out: String = "", err: String = "", overflow: Bool = false) -> Answer {
        run(join, exit, out: out, err: err, overflow: overflow)
    }

    func run(_ method: Method, _ exit: HookExit, out: String = "", err: String = "", overflow: Bool = false) -> Answer {
        Outcome.answer(for: method, hook: "Join.sh",
                       result: HookResult(exit: exit, stdout: Array(out.utf8), stdoutOverflowed: overflow, stderr: Array(err.utf8)),
                       context: DefaultContext())
    }

    func testEmptyOutputGivesTheDefault() {
        let answer = run(.exited(0), out: " \n\t")
        XCTAssertEqual(answer.status, 200)
        XCTAssertEqual(answer.body.text, "{}")
        let info = run(Methods.named("NetworkDriver.EndpointOperInfo")!, .exited(0))
        XCTAssertEqual(info.body.text, #"{"Value":{}}"#)
    }

    func testAValidObjectPassesThrough() {
        let answer = run(.exited(0), out: #"{"Gateway":"10.0.0.1"}"#)
        XCTAssertEqual(answer.status, 200)
        XCTAssertEqual(answer.body.text, #"{"Gateway":"10.0.0.1"}"#)
    }

    func testErrInTheObjectIsA500() {
        XCTAssertEqual(run(.exited(0), out: #"{"Err":"no bridge br9"}"#).errorText, "no bridge br9")
        XCTAssertEqual(run(.exited(0), out: #"{"Err":"no bridge br9"}"#).status, 500)
        XCTAssertEqual(run(.exited(0), out: #"{"Err":""}"#).status, 200)
    }

    func testIpamErrorFieldCounts() {
        let answer = run(requestPool, .exited(0), out: #"{"Error":"pool exhausted"}"#)
        XCTAssertEqual(answer.status, 500)
        XCTAssertEqual(answer.errorText, "pool exhausted")
        XCTAssertEqual(run(.exited(0), out: #"{"Error":"ignored for network drivers"}"#).status, 200)
    }

    func testNonZeroExitPrefersErrThenStderrThenStatus() {
        XCTAssertEqual(run(.exited(3), out: #"{"Err":"from stdout"}"#, err: "from stderr\n").errorText, "from stdout")
        XCTAssertEqual(run(.exited(3), out: "garbage", err: "first\nlast line here\n\n  \n").errorText, "last line here")
        XCTAssertEqual(run(.exited(3)).errorText, "hook Join.sh exited with status 3")
        XCTAssertEqual(run(.exited(3)).status, 500)
    }

    func testSignalsAndTimeouts() {
        XCTAssertEqual(run(.signaled(9)).errorText, "hook Join.sh killed by signal 9")
        XCTAssertEqual(run(.timedOut(seconds: 2)).errorText, "hook Join.sh timed out after 2 s")
        XCTAssertEqual(run(.timedOut(seconds: 0.5)).errorText, "hook Join.sh timed out after 0.5 s")
    }

    func testBadOutput() {
        let invalid = run(.exited(0), out: "{\"Gateway\": }")
        XCTAssertEqual(invalid.status, 500)
        XCTAssertTrue(invalid.errorText!.hasPrefix("hook Join.sh printed invalid JSON at line 1, column"), invalid.errorText!)
        XCTAssertTrue(run(.exited(0), out: "[1]").errorText!.contains("must be a JSON object"))
        XCTAssertTrue(run(.exited(0), out: #"{"a":1}{"b":2}"#).errorText!.contains("invalid JSON"))
        XCTAssertTrue(run(.exited(0), out: #"{"a":1,"a":2}"#).errorText!.contains("duplicate"))
        let schema = run(.exited(0), out: #"{"Gateway":"nope"}"#)
        XCTAssertEqual(schema.status, 500)
        XCTAssertTrue(schema.errorText!.contains("hook Join.sh answered badly: Gateway"), schema.errorText!)
        let huge = run(.signaled(9), overflow: true)
        XCTAssertTrue(huge.errorText!.contains("more than 1 MiB"))
    }

    func testIpamHookThatPrintsNothingWhereFieldsAreNeeded() {
        let answer = run(requestPool, .exited(0))
        XCTAssertEqual(answer.status, 500)
        XCTAssertTrue(answer.errorText!.contains("PoolID and Pool"), answer.errorText!)
        XCTAssertEqual(run(Methods.named("IpamDriver.ReleasePool")!, .exited(0)).status, 200)
    }
}
