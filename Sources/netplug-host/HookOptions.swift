import ArgumentParser
import Logging
import NetplugCore
import NetplugServer
#if canImport(Glibc)
import Glibc
#endif

/// What `call`, `exercise` and `replay` need to run hooks exactly as `serve` does.
struct HookOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The hooks folder.", valueName: "dir"))
    var hooks: String

    @Option(help: ArgumentHelp("Seconds a hook may run.", valueName: "seconds"))
    var timeout: Double = 30

    @Flag(help: "Run hooks even when they or their folder are writable by group or others.")
    var allowInsecureHooks = false

    @Option(help: ArgumentHelp("How many instances of a resident hook may run at once.", valueName: "n"))
    var residentInstances: Int = 1

    func validate() throws {
        try ResidentInstancesOption.check(residentInstances)
        guard timeout > 0, timeout.isFinite else {
            throw ValidationError("--timeout \(timeout): give a number of seconds greater than 0")
        }
    }

    /// A dispatcher over the hook driver, as the server builds it, without a socket; `finish`
    /// stops the resident hooks' instances it started.
    func dispatcher(name: String, stateDir: String, logger: Logger) throws -> (dispatcher: Dispatcher, finish: () -> Void) {
        let folder = HookFolder(root: absolute(hooks), allowInsecure: allowInsecureHooks)
        let report = folder.check()
        if let first = report.errors.first {
            throw ValidationError(first + (report.errors.count > 1 ? " (and \(report.errors.count - 1) more: run netplug-host check)" : ""))
        }
        do { try Records(stateDir: stateDir).prepare() } catch { throw ValidationError("\(error)") }
        let driver = HookDriver(settings: HookDriverSettings(hooks: folder, name: name, stateDir: stateDir, timeout: timeout,
                                                             residentInstances: residentInstances), logger: logger)
        return (Dispatcher(backend: driver, logger: logger), { _ = driver.stopResidents() })
    }
}

/// The state folder a one-shot subcommand uses: the one given, or a temporary one that
/// `cleanup` removes.
func stateFolder(_ given: String?, purpose: String) throws -> (path: String, cleanup: () -> Void) {
    if let given { return (absolute(given), {}) }
    var template = Array("/tmp/netplug-\(purpose)-XXXXXX".utf8CString)
    guard let made = mkdtemp(&template) else { throw ValidationError("cannot make a temporary folder: \(errnoText())") }
    let path = String(cString: made)
    return (path, { try? RootfsBuilder.removeTree(path) })
}

/// Logs for the one-shot subcommands: what hooks print on stderr, and warnings.
func bootstrapQuietLogging(level: Logger.Level = .warning) -> Logger {
    LoggingSystem.bootstrap { LineLogHandler(label: $0, level: level, format: .text) }
    return Logger(label: "netplug-host")
}
