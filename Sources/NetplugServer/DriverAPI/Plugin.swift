import Logging
import NetplugCore
#if canImport(Glibc)
import Glibc
#endif

/// Serving a Swift driver in a few lines:
///
///     let plugin = try await Plugin.start(network: MyDriver(), on: .unix(path: "/run/docker/plugins/my.sock", group: nil))
///     await plugin.run()
public final class Plugin: Sendable {
    package let server: HTTPServer
    /// Where it listens: the socket path, or `host:port`.
    public let address: String
    let socketPath: String?
    /// The spec file written for a TCP listener (`tcp://host:port`), removed by `stop`.
    package let specFile: String?

    /// Binds and returns; the socket accepts from here on. A TCP listener's spec file is
    /// written once the port is known, so that Docker finds the plugin by its name.
    public static func start(network: (any NetworkDriver)? = nil, ipam: (any IpamDriver)? = nil,
                             on listener: ListenerSpec, logger: Logger = Logger(label: "netplug")) async throws -> Plugin {
        try await start(backend: TypedDriver(network: network, ipam: ipam), on: listener, logger: logger)
    }

    /// The same for any backend, the hook-running driver included.
    package static func start(backend: any PluginBackend, on listener: ListenerSpec, logger: Logger,
                             idleTimeout: Double = 60, recorder: Recorder? = nil) async throws -> Plugin {
        try await start(dispatcher: Dispatcher(backend: backend, logger: logger, recorder: recorder), on: listener,
                        logger: logger, idleTimeout: idleTimeout)
    }

    /// The same for a dispatcher made beforehand (`serve` shares its metrics with `--metrics`).
    package static func start(dispatcher: Dispatcher, on listener: ListenerSpec, logger: Logger,
                             idleTimeout: Double = 60) async throws -> Plugin {
        let server = HTTPServer(dispatcher: dispatcher, logger: logger, idleTimeout: idleTimeout)
        var socketPath: String?
        var address: String
        if case .unix(let path, let group) = listener {
            try Listeners.prepareUnixPath(path)
            socketPath = path
            // Bound under a temporary name, given its mode and group, then renamed: a client
            // that finds the path finds a socket that is ready and already 0660.
            let staging = path + ".new"
            let direct = staging.utf8.count >= 104
            if !direct { try Listeners.prepareUnixPath(staging) }  // left by a start that crashed
            address = try await server.bind(.unix(path: direct ? path : staging, group: group))
            do {
                try Listeners.secureSocket(direct ? path : staging, group: group)
                if !direct { try Listeners.rename(staging, to: path) }
                address = path
            } catch {
                server.stopAccepting()
                Listeners.removeSocket(direct ? path : staging)
                throw error
            }
        } else {
            address = try await server.bind(listener)
        }
        var specFile: String?
        if case .tcp(_, _, let path) = listener {
            do {
                try Listeners.writeSpecFile(path, address: "tcp://\(address)")
            } catch {
                server.stopAccepting()
                throw error
            }
            specFile = path
        }
        return Plugin(server: server, address: address, socketPath: socketPath, specFile: specFile)
    }

    init(server: HTTPServer, address: String, socketPath: String?, specFile: String?) {
        self.server = server
        self.address = address
        self.socketPath = socketPath
        self.specFile = specFile
    }

    /// Serves until `stop()`.
    public func run() async { await server.serve() }

    /// Stops accepting, waits for calls in flight (up to `seconds`), removes the socket file
    /// (or the spec file).
    public func stop(waitingUpTo seconds: Double = 5) async {
        server.stopAccepting()
        _ = await server.waitForCalls(upTo: seconds)
        if let socketPath { Listeners.removeSocket(socketPath) }
        if let specFile { unlink(specFile) }
    }
}
