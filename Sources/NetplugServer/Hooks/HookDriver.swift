import Logging
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

    package init(hooks: HookFolder, name: String, stateDir: String, timeout: Double = 30, scope: String = "local") {
        self.hooks = hooks
        self.name = name
        self.stateDir = stateDir
        self.timeout = timeout
        self.scope = scope
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

    package static let perCallVariables: Set<String> = [
        "NETPLUG_METHOD", "NETPLUG_PLUGIN", "NETPLUG_STATE_DIR", "NETPLUG_NETWORK_ID", "NETPLUG_ENDPOINT_ID",
        "NETPLUG_NETWORK_FILE", "NETPLUG_ENDPOINT_FILE",
    ]

    package init(settings: HookDriverSettings, logger: Logger) {
        self.settings = settings
        self.records = Records(stateDir: settings.stateDir)
        self.logger = logger
        self.baseEnvironment = CStrings(CStrings.environmentStrings().filter { entry in
            let name = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? entry
            return !HookDriver.perCallVariables.contains(name)
        })
    }

    package func implements() -> [Family] {
        settings.hooks.hasIpam ? [.networkDriver, .ipamDriver] : [.networkDriver]
    }

    /// A refusal, or a default that keeps no record: answered on the event loop.
    package func immediateAnswer(_ call: Call) -> Served? {
        answerWithoutWaiting(call, settings.hooks.lookup(call.method))
    }

    /// Runs on the blocking executor (see Dispatcher): the hook's process is waited for, and
    /// records are written with fsync, on this thread.
    package func serve(_ call: Call) async -> Served {
        let lookup = settings.hooks.lookup(call.method)
        if let served = answerWithoutWaiting(call, lookup) { return served }
        if case .hook(let file) = lookup { return runHook(file, call) }
        // A default is a success like any other: the next hook may rely on its record.
        let answer = defaultAnswer(call.method)
        let failure = keepRecord(call, answer: answer)
        return Served(answer: failure.map { .error(500, $0) } ?? answer, handler: "default")
    }

    /// Refusals and defaults that keep no record; nil for a hook, or a default with a record to keep.
    private func answerWithoutWaiting(_ call: Call, _ lookup: HookLookup) -> Served? {
        switch lookup {
        case .unusable(let problem):
            return Served(answer: .error(500, problem), handler: "refused")
        case .none:
            let answer = defaultAnswer(call.method)
            guard answer.status == 200, Records.changesRecord(call.method.id) else {
                return Served(answer: answer, handler: "default")
            }
            return nil
        case .hook:
            return nil
        }
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
        return Served(answer: answer, handler: file.name, stderr: result.stderr)
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
        var environment: [String] = []
        environment.append("NETPLUG_METHOD=\(call.method.fullName)")
        environment.append("NETPLUG_PLUGIN=\(settings.name)")
        environment.append("NETPLUG_STATE_DIR=\(settings.stateDir)")
        // IDs were checked against Docker's format before any hook could see them.
        if let id = call.networkID {
            environment.append("NETPLUG_NETWORK_ID=\(id)")
            let path = records.networkPath(id)
            if records.exists(path) { environment.append("NETPLUG_NETWORK_FILE=\(path)") }
        }
        if let id = call.endpointID {
            environment.append("NETPLUG_ENDPOINT_ID=\(id)")
            let path = records.endpointPath(id)
            if records.exists(path) { environment.append("NETPLUG_ENDPOINT_FILE=\(path)") }
        }
        return HookEnvironment(base: baseEnvironment, extra: environment)
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
