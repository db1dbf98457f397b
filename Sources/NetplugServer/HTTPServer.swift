import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NetplugCore
#if canImport(Glibc)
import Glibc
#endif

/// Docker's plugin protocol over HTTP/1.1: any method on `/Family.Method`, JSON both ways,
/// keep-alive, one task per connection so that one bad client never stops the server.
public final class HTTPServer: Sendable {
    typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

    let dispatcher: Dispatcher
    let logger: Logger
    let group: MultiThreadedEventLoopGroup
    private let state = NIOLockedValueBox(State())

    struct State {
        var serverChannel: Channel?
        var listener: NIOAsyncChannel<Connection, Never>?
        var inFlight = 0
        var stopping = false
    }

    static let contentType = "application/vnd.docker.plugins.v1.1+json"
    /// A body over 1 MiB is answered 413; past this much we stop reading and close.
    static let discardLimit = 16 << 20

    public init(dispatcher: Dispatcher, logger: Logger, group: MultiThreadedEventLoopGroup = .singleton) {
        self.dispatcher = dispatcher
        self.logger = logger
        self.group = group
    }

    /// Binds: the socket accepts from here on. Returns where it listens (`host:port` for TCP).
    @discardableResult
    public func bind(_ spec: ListenerSpec) async throws -> String {
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: false)
        let initializer: @Sendable (Channel) -> EventLoopFuture<Connection> = { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                return try Connection(wrappingChannelSynchronously: channel)
            }
        }
        let server: NIOAsyncChannel<Connection, Never>
        switch spec {
        case .unix(let path, _):
            // Created 0777 & ~umask: start it private, then open it to the group (secureSocket).
            let previous = umask(0o177)
            defer { umask(previous) }
            server = try await bootstrap.bind(unixDomainSocketPath: path, childChannelInitializer: initializer)
        case .tcp(let host, let port, _):
            server = try await bootstrap.bind(host: host, port: port, childChannelInitializer: initializer)
        case .activated(let fd):
            server = try await bootstrap.bind(fd, childChannelInitializer: initializer)
        }
        state.withLockedValue {
            $0.serverChannel = server.channel
            $0.listener = server
        }
        guard let address = server.channel.localAddress else { return "\(spec)" }
        if case .tcp(let host, _, _) = spec, let port = address.port { return "\(host):\(port)" }
        return "\(address)"
    }

    /// Serves until `stopAccepting()`; each connection in its own task.
    public func serve() async {
        guard let server = state.withLockedValue({ $0.listener }) else { return }
        await withDiscardingTaskGroup { tasks in
            do {
                try await server.executeThenClose { connections in
                    for try await connection in connections {
                        tasks.addTask { await self.handle(connection) }
                    }
                }
            } catch {
                if !state.withLockedValue({ $0.stopping }) {
                    logger.error("the listener failed: \(error)")
                }
            }
            // Open connections are not cancelled: a call in flight is answered, and the
            // process exits once none is left (waitForCalls), idle peers or not.
        }
    }

    /// Stops accepting; calls already running go on.
    public func stopAccepting() {
        let channel = state.withLockedValue { state -> Channel? in
            state.stopping = true
            return state.serverChannel
        }
        channel?.close(promise: nil)
    }

    /// Waits until no call is in flight, or `seconds` have passed; true when none is left.
    public func waitForCalls(upTo seconds: Double) async -> Bool {
        let end = HookRunner.now() + seconds
        while HookRunner.now() < end {
            if state.withLockedValue({ $0.inFlight }) == 0 { return true }
            try? await Task.sleep(nanoseconds: 10_000_000)
        }
        return state.withLockedValue { $0.inFlight } == 0
    }

    private func handle(_ connection: Connection) async {
        do {
            try await connection.executeThenClose { inbound, outbound in
                var head: HTTPRequestHead?
                var body = ByteBuffer()
                var received = 0
                for try await part in inbound {
                    switch part {
                    case .head(let next):
                        head = next
                        body.clear()
                        received = 0
                    case .body(var chunk):
                        received += chunk.readableBytes
                        if received > HTTPServer.discardLimit {
                            try await write(.error(413, "the request is larger than 1 MiB"), keepAlive: false, to: outbound)
                            return
                        }
                        if received <= Dispatcher.maxBody { body.writeBuffer(&chunk) }
                    case .end:
                        guard let request = head else { continue }
                        state.withLockedValue { $0.inFlight += 1 }
                        let answer: Answer
                        if received > Dispatcher.maxBody {
                            answer = .error(413, "the request is larger than 1 MiB")
                        } else {
                            answer = await dispatcher.handle(path: request.uri, body: Array(body.readableBytesView))
                        }
                        let keepAlive = request.isKeepAlive && !state.withLockedValue { $0.stopping }
                        defer { state.withLockedValue { $0.inFlight -= 1 } }
                        try await write(answer, keepAlive: keepAlive, to: outbound)
                        if !keepAlive { return }
                        head = nil
                    }
                }
            }
        } catch {
            logger.debug("connection closed: \(error)")
        }
    }

    private func write(_ answer: Answer, keepAlive: Bool, to outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>) async throws {
        let bytes = answer.body.bytes
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: HTTPServer.contentType)
        headers.add(name: "Content-Length", value: String(bytes.count))
        // NIO does not close for us: say so, and return after writing.
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        let head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: answer.status), headers: headers)
        var buffer = ByteBufferAllocator().buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        try await outbound.write(contentsOf: [.head(head), .body(.byteBuffer(buffer)), .end(nil)])
    }
}
