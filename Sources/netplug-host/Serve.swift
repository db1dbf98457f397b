import ArgumentParser
import CSpawn
import Dispatch
import Synchronization
import Logging
import NetplugCore
import NetplugServer
#if canImport(Glibc)
import Glibc
#endif

/// Options `serve` and `state` share.
struct PluginOptions: ParsableArguments {
    @Option(help: "The driver name: users give it to `docker network create -d NAME`; also the socket's file name.")
    var name: String = "netplug"

    @Option(help: ArgumentHelp("Where records and hook state live (default /var/lib/netplug/NAME).", valueName: "dir"))
    var stateDir: String?

    var resolvedStateDir: String { stateDir ?? "/var/lib/netplug/\(name)" }

    func validate() throws {
        guard Identifier.isValid(name), name.count <= 64 else {
            throw ValidationError("--name \(name.debugDescription): use 1 to 64 letters, digits, '_', '.' or '-', starting with a letter or digit")
        }
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the hooks folder to Docker (the default subcommand).",
        discussion: """
        Example:
          netplug-host serve --hooks /etc/netplug/hooks --name mynet --timeout 10
        """
    )

    @Option(help: ArgumentHelp("The hooks folder: one executable per method (Join, CreateNetwork.sh, ipam/RequestPool.py, ...).", valueName: "dir"))
    var hooks: String

    @OptionGroup var plugin: PluginOptions

    @Option(help: ArgumentHelp("Listen on this Unix socket instead of /run/docker/plugins/NAME.sock.", valueName: "path"))
    var socket: String?

    @Option(help: ArgumentHelp("Listen on TCP instead, and write SPECDIR/NAME.spec for Docker.", valueName: "host:port"))
    var tcp: String?

    @Option(help: ArgumentHelp("Where --tcp writes its spec file.", valueName: "dir"))
    var specDir: String = "/etc/docker/plugins"

    @Option(help: ArgumentHelp("The socket's group (a name or a gid), e.g. the group Docker runs in.", valueName: "group"))
    var group: String?

    @Option(help: ArgumentHelp("Seconds a hook may run before it is stopped (SIGTERM, then SIGKILL 2 s later).", valueName: "seconds"))
    var timeout: Double = 30

    @Option(help: ArgumentHelp("The scope GetCapabilities reports when there is no hook for it.", valueName: "scope"))
    var scope: ScopeOption = .local

    @Option(help: ArgumentHelp("How much to log.", valueName: "level"))
    var logLevel: LogLevelOption = .info

    @Option(help: ArgumentHelp("A line of text, or a JSON object, per log line.", valueName: "format"))
    var logFormat: LogFormatOption = .text

    @Flag(help: "Make /proc/sys/net writable where it is mounted read-only (inside a managed plugin; needs CAP_SYS_ADMIN), so hooks can set net.* sysctls.")
    var writableNetSysctls = false

    @Option(help: ArgumentHelp("Where the log goes: stderr, or stdout (bundle's plugins use stdout, which dockerd records at info; it records a plugin's stderr as errors).", valueName: "stream"))
    var logStream: LogStreamOption = .stderr

    @Option(help: ArgumentHelp("Close a connection that completes no request for this many seconds (no call in flight).", valueName: "seconds"))
    var idleTimeout: Double = 60

    @Option(help: ArgumentHelp("Keep every request and answer as numbered JSON files here (see replay).", valueName: "dir"))
    var record: String?

    @Flag(help: "Run hooks even when they or their folder are writable by group or others.")
    var allowInsecureHooks = false

    @Option(help: ArgumentHelp("How many instances of a resident hook may run at once (1: one process sees every call).", valueName: "n"))
    var residentInstances: Int = 1

    @Option(help: ArgumentHelp("Also answer GET /metrics (Prometheus) on this TCP address; the plugin socket always does.", valueName: "host:port"))
    var metrics: String?

    @Flag(help: "Count nothing: GET /metrics and GET /status answer 404 (for measuring what counting costs).")
    var noMetrics = false

    func validate() throws {
        try ResidentInstancesOption.check(residentInstances)
        guard timeout > 0, timeout.isFinite else {
            throw ValidationError("--timeout \(timeout): give a number of seconds greater than 0")
        }
        guard idleTimeout > 0, idleTimeout.isFinite else {
            throw ValidationError("--idle-timeout \(idleTimeout): give a number of seconds greater than 0")
        }
        if socket != nil && tcp != nil {
            throw ValidationError("--socket and --tcp cannot be used together: choose one")
        }
        if let tcp { _ = try Serve.parseHostPort(tcp, option: "--tcp") }
        if let metrics { _ = try Serve.parseHostPort(metrics, option: "--metrics") }
        if metrics != nil && noMetrics {
            throw ValidationError("--metrics and --no-metrics cannot be used together: choose one")
        }
        if let group, Listeners.groupID(group) == nil {
            throw ValidationError("--group \(group): no such group")
        }
    }

    static func parseHostPort(_ text: String, option: String) throws -> (String, Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw ValidationError("\(option) \(text.debugDescription): use HOST:PORT, like 127.0.0.1:9000")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw ValidationError("\(option) \(text.debugDescription): the host is missing, like 127.0.0.1:9000") }
        return (host, port)
    }

    func run() async throws {
        let format = logFormat.format
        let level = logLevel.level
        let fd: Int32 = logStream == .stdout ? 1 : 2
        LoggingSystem.bootstrap { LineLogHandler(label: $0, level: level, format: format, fd: fd) }
        let logger = Logger(label: "netplug-host")
        let systemd = SystemdNotifier.fromEnvironment()

        // SIGTERM and SIGINT are blocked since `main` (see Entry) and taken from here on: a stop
        // that comes while the host is starting (an activated socket may already be served)
        // waits for these handlers instead of killing the host half-way.
        let grace = timeout + 3
        let stop = StopState()
        let signals = [Int32(SIGTERM), Int32(SIGINT)].map { (number: Int32) -> DispatchSourceSignal in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: stop.queue)
            source.setEventHandler {
                if let problem = systemd.send("STOPPING=1") { logger.warning("\(problem)") }
                guard let server = stop.serving.withLock({ $0 }) else {
                    logger.info("stopped before serving")
                    Glibc.exit(0)
                }
                logger.info("stopping: waiting for running calls (up to \(Outcome.formatSeconds(grace)) s)")
                // `serve` below returns once the listener is closed, and finishes the stop.
                server.stopAccepting()
            }
            source.resume()
            return source
        }

        // Everything that can refuse the start happens before the socket exists.
        if writableNetSysctls {
            let rc = netplug_make_proc_sys_net_writable()
            guard rc == 0 else {
                throw ValidationError("--writable-net-sysctls: cannot make /proc/sys/net writable (\(errnoText(rc))); it needs CAP_SYS_ADMIN (bundle --sysctls gives the plugin that)")
            }
        }
        let folder = HookFolder(root: absolute(hooks), allowInsecure: allowInsecureHooks)
        let report = folder.check()
        for warning in report.warnings { logger.warning("\(warning)") }
        for note in report.notes { logger.info("not a hook: \(note)") }
        if !report.errors.isEmpty {
            for error in report.errors { printError(error) }
            throw ExitCode(1)
        }
        let stateDir = absolute(plugin.resolvedStateDir)
        let records = Records(stateDir: stateDir)
        do { try records.prepare() } catch { fail("\(error)") }
        for problem in records.problems() {
            logger.warning("\(problem)")
        }
        for leftover in HookRunner.stopLeftovers(plugin: plugin.name, stateDir: stateDir) {
            logger.warning("stopped \(leftover), a hook left running by an earlier host of \(plugin.name) that did not stop cleanly")
        }

        await Scheduling.batchEventLoops()
        let spec: ListenerSpec
        if let fd = Listeners.activatedSocket() {
            spec = .activated(fd: fd)
        } else if let tcp {
            let (host, port) = try Serve.parseHostPort(tcp, option: "--tcp")
            spec = .tcp(host: host, port: port, specFile: "\(specDir)/\(plugin.name).spec")
        } else {
            let path = socket.map(absolute) ?? "/run/docker/plugins/\(plugin.name).sock"
            spec = .unix(path: path, group: group)
        }

        let hostMetrics = HostMetrics(enabled: !noMetrics)
        let driver = HookDriver(settings: HookDriverSettings(hooks: folder, name: plugin.name, stateDir: stateDir,
                                                             timeout: timeout, scope: scope.rawValue,
                                                             residentInstances: residentInstances), logger: logger,
                                metrics: hostMetrics)
        // A resident hook answers from the first call on, or the host does not start.
        // Waiting for processes blocks a thread: on the blocking executor, as calls do.
        if let failure = await withTaskExecutorPreference(BlockingExecutor.shared, operation: { driver.startResidents() }) {
            printError(failure.reason)
            for line in failure.stderr.suffix(10) { printError("  stderr: \(line)") }
            _ = driver.stopResidents()
            throw ExitCode(1)
        }
        let served: Plugin
        let recorder: Recorder?
        do { recorder = try record.map { try Recorder(folder: absolute($0)) } } catch { fail("--record: \(error)") }
        let dispatcher = Dispatcher(backend: driver, logger: logger, recorder: recorder, metrics: hostMetrics)
        var metricsServer: HTTPServer?
        var metricsAddress = ""
        if let metrics {
            let (host, port) = try Serve.parseHostPort(metrics, option: "--metrics")
            let server = HTTPServer(dispatcher: dispatcher, logger: logger, idleTimeout: idleTimeout, role: .metricsOnly)
            do {
                metricsAddress = try await server.bind(.tcp(host: host, port: port, specFile: ""))
            } catch {
                _ = driver.stopResidents()
                fail("--metrics \(metrics): cannot listen there: \(error)")
            }
            metricsServer = server
        }
        var cleanup: [String] = []
        do {
            served = try await Plugin.start(dispatcher: dispatcher, on: spec, logger: logger, idleTimeout: idleTimeout)
            if case .unix(let path, _) = spec { cleanup.append(path) }
            if let specFile = served.specFile { cleanup.append(specFile) }
        } catch {
            metricsServer?.stopAccepting()
            fail(error is ListenerError ? "\(error)" : "cannot listen on \(describe(spec)): \(error)")
        }
        let server = served.server
        let address = served.address
        let toRemove = cleanup
        stop.serving.withLock { $0 = server }

        OrphanReaper.startIfPID1()
        var serving: Logger.Metadata = ["hooks": "\(folder.root)", "name": "\(plugin.name)", "listen": "\(describe(spec))",
                                        "address": "\(address)", "state": "\(stateDir)",
                                          "hooks.found": "\(report.hooks.keys.sorted().joined(separator: ","))",
                                        "hooks.resident": "\(report.residents.values.map(\.name).sorted().joined(separator: ","))"]
        if metricsServer != nil { serving["metrics"] = "\(metricsAddress)" }
        logger.info("serving", metadata: serving)
        // Calls are answered from here on: systemd may start what comes after the service.
        if let problem = systemd.send("READY=1") { logger.warning("\(problem)") }
        await server.serve()
        if !server.isStopping {
            logger.error("the listener closed by itself; stopping")
        }
        metricsServer?.stopAccepting()
        let drained = await server.waitForCalls(upTo: grace)
        await recorder?.waitUntilWritten(upTo: 5)
        if !(await withTaskExecutorPreference(BlockingExecutor.shared, operation: { driver.stopResidents() })) {
            logger.warning("a resident hook instance was still running after SIGKILL")
        }
        for path in toRemove { unlink(path) }
        logger.info(drained ? "stopped" : "stopped with calls still running")
        withExtendedLifetime(signals) {}
    }

    func describe(_ spec: ListenerSpec) -> String {
        switch spec {
        case .unix(let path, _): return path
        case .tcp(let host, let port, _): return "tcp \(host):\(port)"
        case .activated(let fd): return "the socket systemd passed (fd \(fd))"
        }
    }
}

func absolute(_ path: String) -> String {
    if path.hasPrefix("/") { return path }
    guard let current = getcwd(nil, 0) else { return path }
    defer { free(current) }
    let cwd = String(cString: current)
    let trimmed = path.hasPrefix("./") ? String(path.dropFirst(2)) : path
    return trimmed == "." ? cwd : cwd + "/" + trimmed
}

func fail(_ message: String) -> Never {
    printError(message)
    exit(1)
}

/// One line on stderr, `netplug-host: ` first, written whole.
func printError(_ message: String) {
    let line = Array("netplug-host: \(message)\n".utf8)
    var written = 0
    while written < line.count {
        let n = line.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress! + written, $0.count - written) }
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else { return }
        written += n
    }
}

/// What a stop signal needs once the host serves. The signal handlers run on `queue`.
private final class StopState: Sendable {
    let queue = DispatchQueue(label: "netplug-host.stop")
    let serving = Mutex<HTTPServer?>(nil)
}
