import NetplugCore

/// What `netplug-host status` shows, as one JSON object. The per-method numbers are read
/// from the very text Prometheus scrapes, so that `status` and a dashboard never disagree;
/// p50 and p99 are estimated from the histogram's buckets as PromQL's `histogram_quantile` does.
extension HostMetrics {
    package func status(_ report: BackendReport) -> JSON {
        let samples = MetricSample.parse(exposition(report))
        var methods: [String: (calls: Double, errors: Double, timeouts: Double, buckets: [(bound: Double, count: Double)])] = [:]
        for sample in samples {
            guard let method = sample.labels["method"] else { continue }
            switch sample.name {
            case "netplug_calls_total":
                methods[method, default: (0, 0, 0, [])].calls += sample.value
                switch sample.labels["outcome"] {
                case CallOutcome.timeout.rawValue: methods[method, default: (0, 0, 0, [])].timeouts += sample.value
                case CallOutcome.ok.rawValue: break
                default: methods[method, default: (0, 0, 0, [])].errors += sample.value
                }
            case HostMetrics.callDuration + "_bucket":
                let bound = sample.labels["le"] == "+Inf" ? Double.infinity : Double(sample.labels["le"] ?? "") ?? .infinity
                methods[method, default: (0, 0, 0, [])].buckets.append((bound, sample.value))
            default: break
            }
        }
        let perMethod = JSON.object()
        for (method, numbers) in methods.sorted(by: { $0.key < $1.key }) where numbers.calls > 0 {
            let buckets = numbers.buckets.sorted { $0.bound < $1.bound }
            perMethod.set(method, .object([
                "calls": .integer(Int(numbers.calls)), "errors": .integer(Int(numbers.errors)),
                "timeouts": .integer(Int(numbers.timeouts)),
                "p50_seconds": .real(HostMetrics.quantile(0.5, buckets)), "p99_seconds": .real(HostMetrics.quantile(0.99, buckets)),
            ]))
        }
        let tally = report.records ?? RecordTally()
        return .object([
            "version": .string(version),
            "uptime_seconds": .real(HookRunner.now() - startedAt),
            "hooks": report.hooks.map { JSON.string($0) } ?? .null,
            "methods": perMethod,
            "in_flight": .array(callsInFlight().map { call in
                .object(["method": .string(call.method), "network": call.network.map { JSON.string($0) } ?? .null,
                         "age_seconds": .real(call.age)])
            }),
            "resident": .array(report.resident.map { instance in
                .object(["family": .string(instance.family.rawValue), "pid": .integer(Int(instance.pid)),
                         "calls": .integer(instance.calls)])
            }),
            "records": .object(["network": .integer(tally.networks), "endpoint": .integer(tally.endpoints),
                                "damaged": .integer(tally.damaged)]),
        ])
    }

    /// The `q` quantile of a cumulative histogram, interpolated linearly inside the bucket it
    /// falls in (from 0 for the first); in the +Inf bucket, the highest finite bound.
    static func quantile(_ q: Double, _ buckets: [(bound: Double, count: Double)]) -> Double {
        guard let total = buckets.last?.count, total > 0 else { return 0 }
        let rank = q * total
        var lower = 0.0, below = 0.0
        for bucket in buckets {
            if bucket.count >= rank {
                guard bucket.bound.isFinite else { return lower }
                let inside = bucket.count - below
                return inside > 0 ? lower + (bucket.bound - lower) * (rank - below) / inside : bucket.bound
            }
            lower = bucket.bound
            below = bucket.count
        }
        return lower
    }
}

/// One line of Prometheus' text format: `name{label="value",...} value`.
struct MetricSample {
    var name: String
    var labels: [String: String]
    var value: Double

    static func parse(_ text: [UInt8]) -> [MetricSample] {
        String(decoding: text, as: UTF8.self).split(separator: "\n").compactMap { line in
            guard !line.hasPrefix("#"), let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
                return nil
            }
            let series = line[..<space]
            guard let open = series.firstIndex(of: "{") else { return MetricSample(name: String(series), labels: [:], value: value) }
            return MetricSample(name: String(series[..<open]), labels: labels(series[series.index(after: open)...].dropLast()), value: value)
        }
    }

    /// `a="x",b="y"`, with `\"` and `\\` inside values.
    private static func labels(_ text: Substring) -> [String: String] {
        var labels: [String: String] = [:]
        var rest = text[...]
        while let equals = rest.firstIndex(of: "=") {
            let name = String(rest[..<equals]).trimmingCharacters()
            var value = ""
            var index = rest.index(equals, offsetBy: 2, limitedBy: rest.endIndex) ?? rest.endIndex
            while index < rest.endIndex, rest[index] != "\"" {
                if rest[index] == "\\", rest.index(after: index) < rest.endIndex { index = rest.index(after: index) }
                value.append(rest[index])
                index = rest.index(after: index)
            }
            labels[name] = value
            rest = index < rest.endIndex ? rest[rest.index(after: index)...].drop { $0 == "," } : ""
        }
        return labels
    }
}
