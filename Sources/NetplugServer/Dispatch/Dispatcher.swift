import Logging
import NetplugCore

/// Path → method → checked request → per-network order → backend → answer, with one log
/// line per call. Everything a request can get wrong is answered here, before any driver runs.
package final class Dispatcher: Sendable {
    package let backend: any PluginBackend
    let logger: Logger
    /// `serve --record`: every request and answer kept for `replay`.
    let recorder: Recorder?
    package let metrics: HostMetrics
    let sequencer = NetworkSequencer()
    static let maxBody = 1 << 20

    package init(backend: any PluginBackend, logger: Logger, recorder: Recorder? = nil, metrics: HostMetrics = HostMetrics()) {
        self.backend = backend
        self.logger = logger
        self.recorder = recorder
        self.metrics = metrics
    }

    /// `GET /metrics`: Prometheus' text. Reads records: call it off the event loop.
    package func metricsPage() -> [UInt8] { metrics.exposition(backend.report()) }

    /// `GET /status`: what `netplug-host status` prints. Off the event loop too.
    package func statusPage() -> JSON { metrics.status(backend.report()) }

    /// Answers one request. `respond` is called exactly once: at once (on the caller's
    /// thread, the event loop) when nothing has to wait, else from the task that served it.
    package func handle(path: String, body: [UInt8], respond originalRespond: @escaping @Sendable (Answer) -> Void) {
        let started = HookRunner.now()
        let respond: @Sendable (Answer) -> Void
        if let recorder {
            respond = { answer in
                recorder.record(path: path, body: body, answer: answer)
                originalRespond(answer)
            }
        } else {
            respond = originalRespond
        }
        if path == Methods.activatePath {
            let families = backend.implements().map { JSON.string($0.rawValue) }
            metrics.ended(nil, method: "Plugin.Activate", handler: .default, outcome: .ok, seconds: HookRunner.now() - started)
            return respond(Answer(status: 200, body: .object(["Implements": .array(families)])))
        }
        // NetworkDriver is always served; only IPAM depends on the folder (a stat per call).
        guard let method = Methods.method(atPath: path),
              method.family == .networkDriver || backend.implements().contains(method.family) else {
            let shown = path.count > 100 ? String(path.prefix(100)) + "..." : path
            logger.warning("unknown path", metadata: ["http.path": "\(shown)", "http.status": "404"])
            // One label for every path that is no method: a scanner cannot grow the metrics.
            metrics.ended(nil, method: Methods.method(atPath: path)?.fullName ?? "unknown", handler: .none, outcome: .badRequest, seconds: HookRunner.now() - started)
            return respond(.error(404, "netplug-host does not serve \(shown): not implemented"))
        }
        let call: Call
        switch Dispatcher.check(method: method, body: body) {
        case .failure(let answer):
            logger.warning("\(method.fullName) refused", metadata: [
                "call.method": "\(method.fullName)", "http.status": "\(answer.status)",
                "error": "\(answer.errorText ?? "")",
            ])
            metrics.ended(nil, method: method.fullName, id: method.id, handler: .none, outcome: .badRequest, seconds: HookRunner.now() - started)
            return respond(answer)
        case .success(let checked, let unknownKeys):
            call = checked
            if !unknownKeys.isEmpty {
                logger.warning("\(method.fullName) request has unknown keys: \(unknownKeys.joined(separator: ", "))")
            }
        }

        // Arrival order is taken here, on the event loop, where requests are read in order.
        let turn = sequencer.arrive(call.networkID)
        let entry = metrics.began(method.fullName, network: call.networkID, at: started)
        // A default, a refusal, or a resident hook's call: answered from the event loops, no
        // thread waiting for it.
        if case .now = turn, backend.startWithoutBlocking(call, complete: { served in
            self.sequencer.leave(call.networkID)
            self.log(call, served, started: started, entry: entry)
            respond(served.answer)
        }) { return }
        Task(executorPreference: BlockingExecutor.shared) {
            if case .later(let ticket) = turn, let network = call.networkID {
                await self.sequencer.wait(ticket, on: network)
            }
            await self.backend.serve(call) { served in
                self.sequencer.leave(call.networkID)
                // Logged before answering: a one-shot caller (`call`) may exit as soon as it has the answer.
                self.log(call, served, started: started, entry: entry)
                // On a worker, once it counts as free: the client's next call finds it so.
                // Anywhere else (an event loop that read a resident's answer), at once.
                WorkerPool.afterThisJob { respond(served.answer) }
            }
        }
    }

    /// The async form, for callers that are tasks (tests, embedders).
    package func handle(path: String, body: [UInt8]) async -> Answer {
        await withCheckedContinuation { continuation in
            handle(path: path, body: body) { continuation.resume(returning: $0) }
        }
    }

    /// The call's log line and its count in the metrics.
    private func log(_ call: Call, _ served: Served, started: Double, entry: HostMetrics.Entry?) {
        let method = call.method
        let seconds = HookRunner.now() - started
        let outcome: CallOutcome = served.timedOut ? .timeout : served.answer.status == 200 ? .ok : .error
        metrics.ended(entry, method: method.fullName, id: method.id, handler: served.kind, outcome: outcome, seconds: seconds)
        let milliseconds = seconds * 1000
        var metadata: Logger.Metadata = [
            "call.method": "\(method.fullName)",
            "hook": "\(served.handler)",
            "http.status": "\(served.answer.status)",
            "call.duration_ms": "\(format3(milliseconds))",
        ]
        if let id = call.networkID { metadata["network"] = "\(id.prefix(12))" }
        if let id = call.endpointID { metadata["endpoint"] = "\(id.prefix(12))" }
        if served.answer.status != 200, let text = served.answer.errorText { metadata["error"] = "\(text)" }
        // A failed call is logged at warning, so that `--log-level warning` still shows it.
        logger.log(level: served.answer.status == 200 ? .info : .warning, "\(method.fullName)", metadata: metadata)
        if !served.stderr.isEmpty {
            for line in String(decoding: served.stderr, as: UTF8.self).split(whereSeparator: \.isNewline) {
                logger.info("\(line)", metadata: ["hook": "\(served.handler)", "hook.stream": "stderr"])
            }
        }
        if !served.answer.unknownKeys.isEmpty {
            logger.warning("\(served.handler) answered with unknown keys: \(served.answer.unknownKeys.joined(separator: ", "))",
                           metadata: ["call.method": "\(method.fullName)"])
        }
    }

    enum Checked {
        case success(Call, unknownKeys: [String])
        case failure(Answer)
    }

    /// The request checks the README describes: an object (or nothing, or null) that fits
    /// the method's schema, with well-formed IDs.
    static func check(method: Method, body: [UInt8]) -> Checked {
        if body.count > maxBody {
            return .failure(.error(413, "the \(method.fullName) request is larger than 1 MiB"))
        }
        var request: JSON
        var hookInput = body
        var bodyless = false
        if !body.contains(where: { !Outcome.isWhitespace($0) }) {
            request = .object()
            hookInput = Array("{}".utf8)
            bodyless = true
        } else {
            do {
                request = try JSON.parse(body)
            } catch {
                return .failure(.error(400, "the \(method.fullName) request is not valid JSON at \(error)"))
            }
            if request.isNull {
                request = .object()
                hookInput = Array("{}".utf8)
                bodyless = true
            }
        }
        let report = Schema.check(request, against: method.request, root: "the request")
        if let problem = report.problem {
            if bodyless {
                // Docker's plugin client resends a call without its body when it retries
                // after the plugin's socket went away (the plugin restarted mid-call).
                return .failure(.error(400, "the \(method.fullName) request has no body, so \(problem): no hook ran (Docker resends a call without its body when the plugin restarted during it; run the docker command again)"))
            }
            return .failure(.error(400, "bad \(method.fullName) request: \(problem)"))
        }
        let call = Call(method: method, request: request, body: hookInput,
                        networkID: request.member("NetworkID")?.string,
                        endpointID: request.member("EndpointID")?.string)
        return .success(call, unknownKeys: report.unknownKeys)
    }
}

func format3(_ value: Double) -> String {
    let thousandths = Int((value * 1000).rounded())
    let fraction = String(thousandths % 1000)
    return "\(thousandths / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
}
