import Logging
import NetplugCore
#if canImport(Glibc)
import Glibc
#endif

/// The settings of the hook-running driver.
public struct HookDriverSettings: Sendable {
    public var hooks: HookFolder
    public var name: String
    public var stateDir: String
    public var timeout: Double
    public var scope: String

    public init(hooks: HookFolder, name: String, stateDir: String, timeout: Double = 30, scope: String = "local") {
        self.hooks = hooks
        self.name = name
        self.stateDir = stateDir
        self.timeout = timeout
        self.scope = scope
    }
}

/// The driver whose methods are executables in a folder: each call runs the method's hook
/// (or answers the default), and the records hooks need are kept here.
public final class HookDriver: PluginBackend {
    public let settings: HookDriverSettings
    let records: Records
    let logger: Logger
    /// The host's environment without the variables set per call, so that none leaks from one
    /// call to the next; every other variable (NETPLUG_IPAM_CONFIG, what `docker plugin set`
    /// gives a managed plugin) is how a user configures a driver, and reaches the hooks.
    let baseEnvironment: CStrings

    public static let perCallVariables: Set<String> = [
        "NETPLUG_METHOD", "NETPLUG_PLUGIN", "NETPLUG_STATE_DIR", "NETPLUG_NETWORK_ID", "NETPLUG_ENDPOINT_ID",
        "NETPLUG_NETWORK_FILE", "NETPLUG_ENDPOINT_FILE",
    ]

    public init(settings: HookDriverSettings, logger: Logger) {
        self.settings = settings
        self.records = Records(stateDir: settings.stateDir)
        self.logger = logger
        self.baseEnvironment = CStrings(CStrings.environmentStrings().filter { entry in
            let name = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? entry
            return !HookDriver.perCallVariables.contains(name)
        })
    }

    public func implements() -> [Family] {
        settings.hooks.hasIpam ? [.networkDriver, .ipamDriver] : [.networkDriver]
    }

    public func serve(_ call: Call) async -> Served {
        switch plan(call) {
        case .answer(let served):
            return served
        case .run(let work):
            return await withCheckedContinuation { continuation in
                WorkerPool.shared.submitAnswering {
                    let served = work()
                    return { continuation.resume(returning: served) }
                }
            }
        }
    }

    /// Methods whose success changes a record: never answered on the event loop (fsync).
    static let recordMethods: Set<String> = ["CreateNetwork", "DeleteNetwork", "CreateEndpoint", "Join", "Leave", "DeleteEndpoint"]

    /// One look at the folder per call: a default for a method that keeps no record is given
    /// at once; a hook, or a record to write, is work for a worker thread.
    public func plan(_ call: Call) -> Plan {
        let method = call.method
        switch settings.hooks.lookup(method) {
        case .unusable(let problem):
            return .answer(Served(answer: .error(500, problem), handler: "refused"))
        case .none:
            let answer = defaultAnswer(method)
            guard answer.status == 200, method.family == .networkDriver, HookDriver.recordMethods.contains(method.name) else {
                return .answer(Served(answer: answer, handler: "default"))
            }
            // A default is a success like any other: the next hook may rely on its record.
            return .run {
                let failure = self.keepRecord(call, answer: answer)
                return Served(answer: failure.map { .error(500, $0) } ?? answer, handler: "default")
            }
        case .hook(let file):
            return .run { self.runHook(file, call) }
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
        guard method.family == .networkDriver && method.name == "GetCapabilities" else { return context }
        if case .hook = settings.hooks.lookup(Methods.named("NetworkDriver.GwAllocCheck")!) {
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

    /// Section 8: after a successful call, the record changes it implies. A record that cannot
    /// be saved fails the call, because the next hook would miss what it relies on.
    func keepRecord(_ call: Call, answer: Answer) -> String? {
        guard call.method.family == .networkDriver, let network = call.networkID else { return nil }
        do {
            switch call.method.name {
            case "CreateNetwork":
                try records.write(.object(["NetworkID": .string(network), "Request": call.request, "Response": answer.body]),
                                  to: records.networkPath(network))
            case "DeleteNetwork":
                try records.remove(records.networkPath(network))
                // Docker drops endpoints without DeleteEndpoint when it restarts while the plugin
                // is down; once their network is gone nothing else would ever remove them.
                try records.removeEndpoints(of: network)
            case "CreateEndpoint":
                guard let endpoint = call.endpointID else { return nil }
                try records.write(.object(["NetworkID": .string(network), "EndpointID": .string(endpoint),
                                           "Request": call.request, "Response": answer.body]),
                                  to: records.endpointPath(endpoint))
            case "Join", "Leave":
                guard let endpoint = call.endpointID else { return nil }
                let path = records.endpointPath(endpoint)
                let record: JSON
                do {
                    record = try records.read(path)?.copy()
                        ?? .object(["NetworkID": .string(network), "EndpointID": .string(endpoint)])
                } catch {
                    logger.warning("\(error); writing a new record")
                    record = .object(["NetworkID": .string(network), "EndpointID": .string(endpoint)])
                }
                if call.method.name == "Join" {
                    record.set("Join", .object(["Request": call.request, "Response": answer.body]))
                } else {
                    guard record["Join"] != nil else { return nil }
                    record.remove("Join")
                    // Only Join had been recorded (CreateEndpoint ran before records existed): nothing is left.
                    if record["Request"] == nil { try records.remove(path); return nil }
                }
                try records.write(record, to: path)
            case "DeleteEndpoint":
                guard let endpoint = call.endpointID else { return nil }
                try records.remove(records.endpointPath(endpoint))
            default:
                return nil
            }
        } catch {
            return "\(call.method.fullName) succeeded, but netplug-host could not keep its record: \(error)"
        }
        return nil
    }
}
