@testable import NetplugServer
import XCTest

/// Shutdown's wait for calls in flight: woken by the last one to leave, bounded by a deadline.
final class InFlightTests: XCTestCase {
    func testIdleAtOnceWhenNothingRuns() async {
        let idle = await InFlight().waitUntilIdle(upTo: 0)
        XCTAssertTrue(idle)
    }

    func testTheLastToLeaveWakesTheWaiter() async {
        let calls = InFlight()
        calls.enter()
        calls.enter()
        let waiting = Task { await calls.waitUntilIdle(upTo: 600) }
        calls.leave()
        XCTAssertEqual(calls.count, 1)
        calls.leave()
        let idle = await waiting.value
        XCTAssertTrue(idle)
    }

    func testTheDeadlineEndsTheWaitWhenCallsStayBusy() async {
        let calls = InFlight()
        calls.enter()
        let idle = await calls.waitUntilIdle(upTo: 0.05)
        XCTAssertFalse(idle)
        XCTAssertEqual(calls.count, 1)
    }
}
