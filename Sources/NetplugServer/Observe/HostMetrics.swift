import Atomics
import CoreMetrics
import NetplugCore
import Prometheus
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// How a call ended, as `netplug_calls_total{outcome}` says.
package enum CallOutcome: String, Sendable, CaseIterable {
    case ok
    /// The answer carried an error.
    case error
    /// The handler ran out of time.
    case timeout
    /// The host refused the request before any handler ran.
    case badRequest = "bad_request"
}

/// What a running host counts, named once through swift-metrics and kept in a Prometheus
/// registry of its own (no global state: each server has its numbers). Calls are counted as
/// they end; what is a level (in flight, resident instances, records, process) is read when
/// `/metrics` or `/status` is asked.
package final class HostMetrics: Sendable {
    package static let callDuration = "netplug_call_duration_seconds"
    /// 100 µs to 30 s: a compiled hook answers in about a millisecond, a stuck one meets the timeout.
    static let buckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .microseconds(2500),
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30),
    ]

    let registry = PrometheusCollectorRegistry()
    let factory: PrometheusMetricsFactory
    /// Monotonic seconds at start, for `uptime_seconds`.
    let startedAt = HookRunner.now()

    /// Per method: its duration histogram and its calls, by handler and outcome.
    private final class MethodInstruments: Sendable {
        let duration: CoreMetrics.Timer
        /// Index: handler × outcome, made the first time a combination happens. Read without
        /// a lock: every call reads these, from every event loop.
        let calls = (0..<(HandlerKind.allCases.count * CallOutcome.allCases.count)).map { _ in
            ManagedAtomicLazyReference<CoreMetrics.Counter>()
        }
        init(duration: CoreMetrics.Timer) { self.duration = duration }
    }
    /// The methods of the table, by `MethodID`'s order, made on their first call.
    private let methods = HostMetrics.methodOrder.map { _ in ManagedAtomicLazyReference<MethodInstruments>() }
    /// Other labels (`Plugin.Activate`, `unknown`).
    private let otherMethods = Mutex<[String: MethodInstruments]>([:])

    /// The calls being answered now, for `status`: method, network, when it began. Sharded by
    /// the thread a call begins on (its event loop), so that two loops counting calls do not
    /// take turns on one lock: only `status` and `/metrics` read them all.
    private final class Running: Sendable {
        struct Table {
            var next = 0
            var calls: [Int: (method: String, network: String?, began: Double)] = [:]
        }
        let table = Mutex(Table())
    }
    private let running = (0..<HostMetrics.shards).map { _ in Running() }
    /// A power of two: the shard is the top 4 bits of the mixed thread handle.
    static let shards = 16

    /// A call's place in the in-flight tables.
    package struct Entry: Sendable {
        let shard: Int
        let id: Int
    }

    private let inFlight: CoreMetrics.Gauge
    private let residentInstances: [Family: CoreMetrics.Gauge]
    private let residentStarts: [Family: CoreMetrics.Counter]
    private let records: (network: CoreMetrics.Gauge, endpoint: CoreMetrics.Gauge)
    private let damagedRecords: CoreMetrics.Gauge
    private let residentMemory: CoreMetrics.Gauge
    private let openFDs: CoreMetrics.Gauge
    private let startTime: CoreMetrics.Gauge

    /// False with `serve --no-metrics`: nothing is counted, and the pages are not served.
    package let enabled: Bool

    package init(version: String = NetplugVersion.current, enabled: Bool = true) {
        self.enabled = enabled
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets = [HostMetrics.callDuration: HostMetrics.buckets]
        self.factory = factory
        inFlight = Gauge(label: "netplug_calls_in_flight", factory: factory)
        residentInstances = Dictionary(uniqueKeysWithValues: Family.allCases.map {
            ($0, Gauge(label: "netplug_resident_instances", dimensions: [("family", $0.rawValue)], factory: factory))
        })
        residentStarts = Dictionary(uniqueKeysWithValues: Family.allCases.map {
            ($0, Counter(label: "netplug_resident_starts_total", dimensions: [("family", $0.rawValue)], factory: factory))
        })
        records = (Gauge(label: "netplug_records", dimensions: [("kind", "network")], factory: factory),
                   Gauge(label: "netplug_records", dimensions: [("kind", "endpoint")], factory: factory))
        damagedRecords = Gauge(label: "netplug_records_damaged", factory: factory)
        residentMemory = Gauge(label: "process_resident_memory_bytes", factory: factory)
        openFDs = Gauge(label: "process_open_fds", factory: factory)
        startTime = Gauge(label: "process_start_time_seconds", factory: factory)
        Gauge(label: "netplug_build_info", dimensions: [("version", version)], factory: factory).record(1)
        self.version = version
    }

    package let version: String

    /// A checked call begins: it is in flight until `ended`. Returns its place in the table.
    func began(_ method: String, network: String?, at time: Double) -> Entry? {
        guard enabled else { return nil }
        // Thread handles are far apart and alike in their low bits: mix them (Fibonacci hashing).
        let shard = Int((UInt(pthread_self()) &* 0x9E37_79B9_7F4A_7C15) >> 60)
        let id = running[shard].table.withLock { table in
            table.next += 1
            table.calls[table.next] = (method, network, time)
            return table.next
        }
        return Entry(shard: shard, id: id)
    }

    /// Any answered call, refused ones included (with no `entry`): counted and timed.
    func ended(_ entry: Entry?, method: String, id: MethodID? = nil, handler: HandlerKind, outcome: CallOutcome, seconds: Double) {
        guard enabled else { return }
        if let entry { _ = running[entry.shard].table.withLock { $0.calls.removeValue(forKey: entry.id) } }
        let instruments: MethodInstruments
        if let id, let index = HostMetrics.methodOrder.firstIndex(of: id) {
            // Two threads may both make one the first time: the registry gives both the same series.
            instruments = methods[index].load() ?? methods[index].storeIfNilThenLoad(makeInstruments(method))
        } else {
            instruments = otherMethods.withLock { table in
                if let known = table[method] { return known }
                let made = makeInstruments(method)
                table[method] = made
                return made
            }
        }
        instruments.duration.recordNanoseconds(Int64(max(0, seconds) * 1e9))
        let slot = instruments.calls[HostMetrics.index(handler, outcome)]
        let counter = slot.load() ?? slot.storeIfNilThenLoad(Counter(
            label: "netplug_calls_total", dimensions: [("method", method), ("handler", handler.rawValue), ("outcome", outcome.rawValue)],
            factory: factory))
        counter.increment()
    }

    private func makeInstruments(_ method: String) -> MethodInstruments {
        MethodInstruments(duration: Timer(label: HostMetrics.callDuration, dimensions: [("method", method)], factory: factory))
    }

    private static func index(_ handler: HandlerKind, _ outcome: CallOutcome) -> Int {
        handlerOrder.firstIndex(of: handler)! * outcomeOrder.count + outcomeOrder.firstIndex(of: outcome)!
    }

    // `allCases` makes a new array each time it is read: read once, here.
    private static let methodOrder = MethodID.allCases
    private static let handlerOrder = HandlerKind.allCases
    private static let outcomeOrder = CallOutcome.allCases

    /// An instance of a family's resident hook was started.
    func residentStarted(_ family: Family) {
        residentStarts[family]?.increment()
    }

    /// The calls in flight now: method, network, seconds since they began; oldest first.
    func callsInFlight() -> [(method: String, network: String?, age: Double)] {
        let now = HookRunner.now()
        return running.flatMap { shard in shard.table.withLock { Array($0.calls.values) } }
            .sorted { $0.began < $1.began }.map { ($0.method, $0.network, now - $0.began) }
    }

    /// The text Prometheus scrapes, with the levels read now. Reads the records: off the event loop.
    package func exposition(_ report: BackendReport) -> [UInt8] {
        inFlight.record(running.reduce(0) { count, shard in count + shard.table.withLock { $0.calls.count } })
        for family in Family.allCases {
            residentInstances[family]?.record(report.resident.filter { $0.family == family }.count)
        }
        let tally = report.records ?? RecordTally()
        records.network.record(tally.networks)
        records.endpoint.record(tally.endpoints)
        damagedRecords.record(tally.damaged)
        let process = ProcessStats.read()
        residentMemory.record(process.residentBytes)
        openFDs.record(process.openFDs)
        startTime.record(process.startTimeSeconds)
        return registry.emitToBuffer()
    }
}
