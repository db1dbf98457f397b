import Logging
import Synchronization
import NetplugCore
#if canImport(Glibc)
import Glibc
#endif

/// The settings of the hook-running driver.
package struct HookDriverSettings: Sendable {
    package var hooks: HookFolder
    package var name: String
    package var stateDir: String
    package var timeout: Double
    package var scope: String
    /// How many instances of a resident hook may run at once.
    package var residentInstances: Int

    package init(hooks: HookFolder, name: String, stateDir: String, timeout: Double = 30, scope: String = "local",
                 residentInstances: Int = 1) {
        self.hooks = hooks
        self.name = name
        self.stateDir = stateDir
        self.timeout = timeout
        self.scope = scope
        self.residentInstances = residentInstances
    }
}

/// The driver whose methods are executables in a folder: each call runs the method's hook
/// (or answers the default), and the records hooks need are kept here.
package final class HookDriver: PluginBackend {
    package let settings: HookDriverSettings
    let records: Records
    let logger: Logger
    /// The host's environment without the variables set per call, so that none leaks from one
    /// call to the next; every other variable (NETPLUG_IPAM_CONFIG, what `docker plugin set`
    /// gives a managed plugin) is how a user configures a driver, and reaches the hooks.
    let baseEnvironment: CStrings
    let residents: ResidentHooks

    package static let perCallVariables: Set<String> = [
        "NETPLUG_METHOD", "NETPLUG_PLUGIN", "NETPLUG_STATE_DIR", "NETPLUG_NETWORK_ID", "NETPLUG_ENDPOINT_ID",
        "NETPLUG_NETWORK_FILE", "NETPLUG_ENDPOINT_FILE",
    ]

    package init(settings: HookDriverSettings, logger: Logger, metrics: HostMetrics? = nil) {
        self.settings = settings
        self.records = Records(stateDir: settings.stateDir)
        self.logger = logger
        self.baseEnvironment = CStrings(CStrings.environmentStrings().filter { entry in
            let name = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? entry
            return !HookDriver.perCallVariables.contains(name)
        })
        let residentEnvironment = HookEnvironment(base: baseEnvironment, extra: [
            "NETPLUG_PLUGIN=\(settings.name)", "NETPLUG_STATE_DIR=\(settings.stateDir)", "NETPLUG_RESIDENT=1",
        ])
        self.residents = ResidentHooks(launch: ResidentLaunch(workingDirectory: settings.hooks.root, environment: residentEnvironment,
                                                              timeout: settings.timeout, instances: settings.residentInstances,
                                                              logger: logger,
                                                              started: { metrics?.residentStarted($0) }))
    }

    /// The hooks folder, the records, and the resident instances running now.
    package func report() -> BackendReport {
        BackendReport(hooks: settings.hooks.root, records: records.tally(), resident: residents.running())
    }

    /// Which file answers a method: its own hook, else the family's resident hook, else the default.
    enum Route {
        case hook(HookFile)
        case resident(HookFile)
        case none
        case unusable(String)
    }

    func route(_ method: Method) -> Route {
        switch settings.hooks.lookup(method) {
        case .hook(let file): return .hook(file)
        case .unusable(let problem): return .unusable(problem)
        case .none: break
        }
        switch settings.hooks.resident(method.family) {
        case .hook(let file): return .resident(file)
        case .unusable(let problem): return .unusable(problem)
        case .none:
            residents.fileGone(method.family)
            return .none
        }
    }

    /// Starts one instance of each resident hook and waits until it is ready; the reason the
    /// first one could not be, with its last stderr lines. `serve` calls it before it listens.
    package func startResidents() -> (reason: String, stderr: [String])? {
        for family in implements() {
            guard case .hook(let file) = settings.hooks.resident(family) else { continue }
            if let failure = residents.pool(family, file: file).startFirst() { return (failure.reason, failure.stderr) }
        }
        return nil
    }

    /// Stops every resident instance (end of file, SIGTERM 2 s later, SIGKILL 2 s after) and
    /// waits until none is left; false if some still ran after `seconds`.
    package func stopResidents(upTo seconds: Double = 10) -> Bool {
        residents.stopAll(upTo: seconds)
    }

    package func implements() -> [Family] {
        settings.hooks.hasIpam ? [.networkDriver, .ipamDriver] : [.networkDriver]
    }

    /// Runs on the blocking executor (see Dispatcher): the hook's process is waited for, and
    /// records are written with fsync, on this thread.
    package func serve(_ call: Call) async -> Served {
        serve(call, route(call.method))
    }

    private func serve(_ call: Call, _ route: Route) -> Served {
        if let served = answerWithoutWaiting(call, route) { return served }
        switch route {
        case .hook(let file): return runHook(file, call)
        case .resident(let file): return runResident(file, call)
        case .none, .unusable: return servedDefault(call, handler: "default")
        }
    }

    /// A default is a success like any other: the next hook may rely on its record.
    func servedDefault(_ call: Call, handler: String, kind: HandlerKind = .default, stderr: [UInt8] = []) -> Served {
        let answer = defaultAnswer(call.method)
        let failure = answer.status == 200 ? keepRecord(call, answer: answer) : nil
        return Served(answer: failure.map { .error(500, $0) } ?? answer, handler: handler, kind: kind, stderr: stderr)
    }

    /// Refusals and defaults that keep no record; nil for a hook, or a default with a record to keep.
    private func answerWithoutWaiting(_ call: Call, _ route: Route) -> Served? {
        switch route {
        case .unusable(let problem):
            return Served(answer: .error(500, problem), handler: "refused", kind: .none)
        case .none:
            let answer = defaultAnswer(call.method)
            guard answer.status == 200, Records.changesRecord(call.method.id) else {
                return Served(answer: answer, handler: "default", kind: .default)
            }
            return nil
        case .hook, .resident:
            return nil
        }
    }

    /// On the event loop, with the folder looked at once: a refusal or a default that keeps no
    /// record is answered at once (`complete` before returning); a resident hook's call whose
    /// answer changes no record (no fsync) is begun here and answered from the instance's
    /// event loop, no thread waiting for it. False: the call goes the waiting way (`serve`).
    package func startWithoutBlocking(_ call: Call, complete: @escaping @Sendable (Served) -> Void) -> Bool {
        let route = route(call.method)
        if let served = answerWithoutWaiting(call, route) {
            complete(served)
            return true
        }
        guard case .resident(let file) = route, !Records.changesRecord(call.method.id) else { return false }
        let pool = residents.pool(call.method.family, file: file)
        let begin = beginning(call)
        let deadline = HookRunner.now() + settings.timeout
        if let lease = pool.tryAcquireIdle(file, begin: begin) {
            lease.instance.finish(deadline: deadline) { reply in
                complete(self.served(reply, lease: lease, pool: pool, file: file, call: call))
            }
            return true
        }
        // Every instance busy: the call waits in line without a thread, and the release that
        // hands it an instance begins it.
        return pool.waitWithoutThread(file, deadline: deadline, begin: begin) { turn in
            switch turn {
            case .lease(let lease):
                lease.instance.finish(deadline: deadline) { reply in
                    complete(self.served(reply, lease: lease, pool: pool, file: file, call: call))
                }
            case .timedOut:
                complete(Served(answer: self.timedOutAnswer(file), handler: file.name, kind: .resident, timedOut: true))
            case .waitOnAThread:
                WorkerPool.shared.submit { self.runResident(file, call, deadline: deadline, complete: complete) }
            }
        }
    }

    /// On a worker, with the answer given through `complete`: a resident hook's call waits here
    /// for an instance only; its answer is read on the instance's event loop, and this worker
    /// is free once the call line is out.
    package func serve(_ call: Call, complete: @escaping @Sendable (Served) -> Void) async {
        let route = route(call.method)
        guard case .resident(let file) = route else { return complete(serve(call, route)) }
        runResident(file, call, deadline: HookRunner.now() + settings.timeout, complete: complete)
    }

    /// One call to the family's resident hook, through the same answer rules and records as
    /// a hook's, for a caller that may wait (for an instance, for the answer).
    func runResident(_ file: HookFile, _ call: Call) -> Served {
        waitForCallback { runResident(file, call, deadline: HookRunner.now() + settings.timeout, complete: $0) }
    }

    /// Waits for an instance (on a worker), begins the call on it, and answers through
    /// `complete` when the instance's answer is read; an answer that changes a record is kept
    /// (with its fsync) on a worker.
    private func runResident(_ file: HookFile, _ call: Call, deadline: Double, complete: @escaping @Sendable (Served) -> Void) {
        let pool = residents.pool(call.method.family, file: file)
        let lease: ResidentPool.Lease
        switch pool.acquire(file, deadline: deadline, begin: beginning(call)) {
        case .lease(let acquired): lease = acquired
        case .failed(let reason): return complete(Served(answer: .error(500, reason), handler: file.name, kind: .resident))
        case .timedOut: return complete(Served(answer: timedOutAnswer(file), handler: file.name, kind: .resident, timedOut: true))
        }
        let keepsRecord = Records.changesRecord(call.method.id)
        lease.instance.finish(deadline: deadline) { reply in
            guard keepsRecord else { return complete(self.served(reply, lease: lease, pool: pool, file: file, call: call)) }
            WorkerPool.shared.submit { complete(self.served(reply, lease: lease, pool: pool, file: file, call: call)) }
        }
    }

    /// How the call starts on the instance it gets: its line, with the per-call variables.
    private func beginning(_ call: Call) -> ResidentPool.Begin {
        let environment = perCallVariables(call)
        return { $0.begin(method: call.method.fullName, request: call.request, environment: environment) }
    }

    private func timedOutAnswer(_ file: HookFile) -> Answer {
        .error(500, "resident hook \(file.name) timed out after \(Outcome.formatSeconds(settings.timeout)) s")
    }

    /// What an instance's reply makes of the call. The instance goes back to its pool first,
    /// before the answer is checked: a call waiting for it gets its line sent at once.
    private func served(_ reply: ResidentReply, lease: ResidentPool.Lease, pool: ResidentPool, file: HookFile, call: Call) -> Served {
        let stderr = lease.instance.endCall()
        switch reply {
        case .failed, .timedOut: pool.release(lease, healthy: false)
        case .answer, .error, .useDefault: pool.release(lease, healthy: true)
        }
        var answer: Answer
        switch reply {
        case .answer(let object):
            answer = Outcome.answer(for: call.method, hook: file.name, object: object)
        case .error(let text):
            answer = .error(500, text)
        case .useDefault:
            if case .notImplemented = call.method.defaultAnswer {
                let message = "resident hook \(file.name) answered no \(call.method.fullName), which has no default: IPAM cannot invent pools or addresses, so the hook must answer"
                return Served(answer: .error(500, message), handler: file.name, kind: .resident, stderr: stderr)
            }
            return servedDefault(call, handler: file.name, kind: .resident, stderr: stderr)
        case .failed(let reason):
            answer = .error(500, reason)
        case .timedOut:
            answer = timedOutAnswer(file)
        }
        if answer.status == 200, let failure = keepRecord(call, answer: answer) {
            answer = .error(500, failure)
        }
        let timedOut = if case .timedOut = reply { true } else { false }
        return Served(answer: answer, handler: file.name, kind: .resident, timedOut: timedOut, stderr: stderr)
    }

    func runHook(_ file: HookFile, _ call: Call) -> Served {
        let method = call.method
        let launch = HookLaunch(file: file, methodName: method.fullName, workingDirectory: settings.hooks.root,
                                environment: environment(for: call), timeout: settings.timeout)
        let result = HookRunner.runBlocking(launch, stdin: call.body)
        var answer = Outcome.answer(for: method, hook: file.name, result: result, context: context(for: method))
        if answer.status == 200, let failure = keepRecord(call, answer: answer) {
            answer = .error(500, failure)
        }
        let timedOut = if case .timedOut = result.exit { true } else { false }
        return Served(answer: answer, handler: file.name, kind: .hook, timedOut: timedOut, stderr: result.stderr)
    }

    /// Only GetCapabilities' default depends on the folder beyond the method's own hook.
    func context(for method: Method) -> DefaultContext {
        var context = DefaultContext(scope: settings.scope)
        guard method.id == .getCapabilities else { return context }
        if case .hook = settings.hooks.lookup(Methods[.gwAllocCheck]) {
            context.hasGwAllocCheckHook = true
        }
        return context
    }

    func defaultAnswer(_ method: Method) -> Answer {
        switch method.defaultAnswer {
        case .json(let make):
            return Answer(status: 200, body: make(context(for: method)))
        case .notImplemented:
            return .error(404, "no hook serves \(method.fullName): add \(method.hookStem) to the hooks folder, since IPAM cannot invent pools or addresses")
        }
    }

    func environment(for call: Call) -> HookEnvironment {
        HookEnvironment(base: baseEnvironment, extra: perCallVariables(call).map { "\($0.name)=\($0.value)" })
    }

    /// The variables set per call: a hook's environment, a resident call's `env`.
    func perCallVariables(_ call: Call) -> [(name: String, value: String)] {
        var variables: [(name: String, value: String)] = [
            ("NETPLUG_METHOD", call.method.fullName), ("NETPLUG_PLUGIN", settings.name), ("NETPLUG_STATE_DIR", settings.stateDir),
        ]
        // IDs were checked against Docker's format before any hook could see them.
        if let id = call.networkID {
            variables.append(("NETPLUG_NETWORK_ID", id))
            let path = records.networkPath(id)
            if records.exists(path) { variables.append(("NETPLUG_NETWORK_FILE", path)) }
        }
        if let id = call.endpointID {
            variables.append(("NETPLUG_ENDPOINT_ID", id))
            let path = records.endpointPath(id)
            if records.exists(path) { variables.append(("NETPLUG_ENDPOINT_FILE", path)) }
        }
        return variables
    }

    /// The record changes a successful call implies. A record that cannot be saved fails the
    /// call, because the next hook would miss what it relies on.
    func keepRecord(_ call: Call, answer: Answer) -> String? {
        do {
            if let warning = try records.keep(after: call.method.id, network: call.networkID, endpoint: call.endpointID,
                                              request: call.request, answer: answer.body) {
                logger.warning("\(warning)")
            }
            return nil
        } catch {
            return "\(call.method.fullName) succeeded, but netplug-host could not keep its record: \(error)"
        }
    }
}
