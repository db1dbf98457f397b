import Logging
import NetplugCore
@testable import NetplugServer
import XCTest

/// A call's progress opens only when the test says so.
actor Gate {
    private var opened = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func wait() async {
        if opened { return }
        await withCheckedContinuation { waiters.append($0) }
    }

    func open() {
        opened = true
        for waiter in waiters { waiter.resume() }
        waiters = []
    }
}

/// A backend whose calls report when they start and end, and end only when their gate opens.
struct GatedBackend: PluginBackend {
    let gates: [String: Gate]
    let events: AsyncStream<String>.Continuation

    func implements() -> [Family] { [.networkDriver] }

    func serve(_ call: Call) async -> Served {
        let name = call.endpointID ?? "?"
        events.yield("start \(name)")
        await gates[name]?.wait()
        events.yield("end \(name)")
        return Served(answer: Answer(status: 200, body: .object()), handler: "gated")
    }
}

final class DispatcherTests: XCTestCase {
    let quiet = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
    let netA = String(repeating: "a", count: 64)
    let netB = String(repeating: "b", count: 64)

    func leave(_ network: String, _ endpoint: String) -> [UInt8] {
        Array(#"{"NetworkID":"\#(network)","EndpointID":"\#(endpoint)"}"#.utf8)
    }

    /// Calls on one network run one at a time in arrival order; another network's call runs meanwhile.
    func testOneNetworkAtATimeInOrderOthersInParallel() async throws {
        let (events, sink) = AsyncStream.makeStream(of: String.self)
        let gates = ["first": Gate(), "second": Gate(), "other": Gate()]
        let dispatcher = Dispatcher(backend: GatedBackend(gates: gates, events: sink), logger: quiet)
        var seen = events.makeAsyncIterator()

        let (firstBody, secondBody, otherBody) = (leave(netA, "first"), leave(netA, "second"), leave(netB, "other"))
        let first = Task { await dispatcher.handle(path: "/NetworkDriver.Leave", body: firstBody) }
        let next = await seen.next()
        XCTAssertEqual(next, "start first")
        let second = Task { await dispatcher.handle(path: "/NetworkDriver.Leave", body: secondBody) }
        let other = Task { await dispatcher.handle(path: "/NetworkDriver.Leave", body: otherBody) }
        // The other network's call starts while "first" holds network A; "second" waits behind it.
        let afterOther = await seen.next()
        XCTAssertEqual(afterOther, "start other")
        await gates["other"]!.open()
        _ = await other.value
        let otherEnded = await seen.next()
        XCTAssertEqual(otherEnded, "end other")

        await gates["first"]!.open()
        _ = await first.value
        var rest: [String] = []
        await gates["second"]!.open()
        _ = await second.value
        sink.finish()
        while let event = await seen.next() { rest.append(event) }
        XCTAssertEqual(rest, ["end first", "start second", "end second"])
    }

    func testBadRequestsNeverReachTheBackend() async {
        let (events, sink) = AsyncStream.makeStream(of: String.self)
        let dispatcher = Dispatcher(backend: GatedBackend(gates: [:], events: sink), logger: quiet)
        let badID = await dispatcher.handle(path: "/NetworkDriver.Leave", body: Array(#"{"NetworkID":"../x","EndpointID":"e"}"#.utf8))
        XCTAssertEqual(badID.status, 400)
        let notJSON = await dispatcher.handle(path: "/NetworkDriver.Leave", body: Array("{".utf8))
        XCTAssertEqual(notJSON.status, 400)
        let unknown = await dispatcher.handle(path: "/NetworkDriver.Nope", body: [])
        XCTAssertEqual(unknown.status, 404)
        let activate = await dispatcher.handle(path: "/Plugin.Activate", body: [])
        XCTAssertEqual(activate.body.text, #"{"Implements":["NetworkDriver"]}"#)
        sink.finish()
        var reached: [String] = []
        for await event in events { reached.append(event) }
        XCTAssertEqual(reached, [])
    }
}
