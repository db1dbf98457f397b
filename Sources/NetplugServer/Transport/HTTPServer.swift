import Logging
import Synchronization
import NIOCore
import NIOHTTP1
import NIOPosix
import NetplugCore
#if canImport(Glibc)
import Glibc
#endif

/// Docker's plugin protocol over HTTP/1.1: any method on `/Family.Method`, JSON both ways,
/// keep-alive, many connections. One connection's failure only closes that connection.
/// `GET /metrics` and `GET /status` are pages of their own (Docker only ever POSTs).
package final class HTTPServer: Sendable {
    /// What a listener answers: the plugin socket serves calls and both pages; the
    /// `--metrics` listener serves `GET /metrics` alone.
    package enum Role: Sendable {
        case plugin
        case metricsOnly
    }

    let dispatcher: Dispatcher
    let role: Role
    let logger: Logger
    let group: MultiThreadedEventLoopGroup
    /// A connection with no call in flight that completes no request for this long is closed:
    /// idle peers, silent ones and ones that send a byte now and then alike.
    let idleTimeout: TimeAmount
    let state = Mutex(State())

    struct State {
        var serverChannel: Channel?
        var stopping = false
    }
    let calls = InFlight()

    static let contentType = "application/vnd.docker.plugins.v1.1+json"
    /// A body over 1 MiB is answered 413; past this much we stop reading and close.
    static let discardLimit = 16 << 20

    package init(dispatcher: Dispatcher, logger: Logger, idleTimeout: Double = 60,
                group: MultiThreadedEventLoopGroup = .singleton, role: Role = .plugin) {
        self.role = role
        self.idleTimeout = .nanoseconds(Int64(idleTimeout * 1e9))
        self.dispatcher = dispatcher
        self.logger = logger
        self.group = group
    }

    /// Binds: the socket accepts from here on. Returns where it listens (`host:port` for TCP).
    @discardableResult
    package func bind(_ spec: ListenerSpec) async throws -> String {
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    // Outbound header validation is off: every header the host sends is a fixed
                    // ASCII name with a number or a constant value (HTTPHandler.write).
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                        withErrorHandling: true, withOutboundHeaderValidation: false)
                    try channel.pipeline.syncOperations.addHandler(HTTPHandler(server: self))
                }
            }
        let channel: Channel
        switch spec {
        case .unix(let path, _):
            // Created 0777 & ~umask: start it private, then open it to the group (secureSocket).
            let previous = umask(0o177)
            defer { umask(previous) }
            channel = try await bootstrap.bind(unixDomainSocketPath: path).get()
        case .tcp(let host, let port, _):
            channel = try await bootstrap.bind(host: host, port: port).get()
        case .activated(let fd):
            channel = try await bootstrap.withBoundSocket(fd).get()
        }
        state.withLock { $0.serverChannel = channel }
        guard let address = channel.localAddress else { return "\(spec)" }
        if case .tcp(let host, _, _) = spec, let port = address.port { return "\(host):\(port)" }
        return "\(address)"
    }

    /// Returns once the listener is closed (`stopAccepting()`).
    package func serve() async {
        guard let channel = state.withLock({ $0.serverChannel }) else { return }
        try? await channel.closeFuture.get()
    }

    /// Stops accepting; calls already running go on.
    package func stopAccepting() {
        let channel = state.withLock { state -> Channel? in
            state.stopping = true
            return state.serverChannel
        }
        channel?.close(promise: nil)
    }

    package var isStopping: Bool { state.withLock { $0.stopping } }

    /// Waits until no call is in flight, or `seconds` have passed; true when none is left.
    package func waitForCalls(upTo seconds: Double) async -> Bool {
        await calls.waitUntilIdle(upTo: seconds)
    }

    func callStarted() { calls.enter() }
    func callEnded() { calls.leave() }
}

/// One connection: gathers a request, hands it to the dispatcher, writes the answer back on
/// the connection's event loop. NIO's pipelining handler keeps one request at a time.
/// A plain handler rather than NIOAsyncChannel: an answer that needs no waiting is written
/// without leaving the event loop, which saves two thread hops per call.
final class HTTPHandler: ChannelInboundHandler, @unchecked Sendable {
    // @unchecked: all state is touched on the channel's event loop only.
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let server: HTTPServer
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()
    private var received = 0
    private var busy = false
    private var idleTimer: Scheduled<Void>?

    init(server: HTTPServer) { self.server = server }

    func handlerAdded(context: ChannelHandlerContext) { armIdleTimer(context) }

    func handlerRemoved(context: ChannelHandlerContext) { idleTimer?.cancel() }

    /// From the connection's start and after each answer: the next request must be complete
    /// within the idle timeout, or the connection goes.
    private func armIdleTimer(_ context: ChannelHandlerContext) {
        idleTimer?.cancel()
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        idleTimer = context.eventLoop.scheduleTask(in: server.idleTimeout) {
            let (handler, context) = bound.value
            if !handler.busy { context.close(promise: nil) }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let next):
            head = next
            body.clear()
            received = 0
        case .body(var chunk):
            guard head != nil else { return }  // a request already answered 413
            received += chunk.readableBytes
            if received > HTTPServer.discardLimit {
                write(.error(413, "the request is larger than 1 MiB"), keepAlive: false, context: context)
                head = nil
                return
            }
            if received <= Dispatcher.maxBody { body.writeBuffer(&chunk) }
        case .end:
            guard let request = head else { return }
            head = nil
            busy = true
            idleTimer?.cancel()
            server.callStarted()
            if received > Dispatcher.maxBody {
                return finish(.error(413, "the request is larger than 1 MiB"), request: request, context: context)
            }
            if let page = Page(request, role: server.role) {
                return serve(page, request: request, context: context)
            }
            let loop = context.eventLoop
            let bound = NIOLoopBound((self, context), eventLoop: loop)
            let bytes = Array(body.readableBytesView)
            server.dispatcher.handle(path: request.uri, body: bytes) { answer in
                if loop.inEventLoop {
                    let (handler, context) = bound.value
                    handler.finish(answer, request: request, context: context)
                } else {
                    loop.execute {
                        let (handler, context) = bound.value
                        handler.finish(answer, request: request, context: context)
                    }
                }
            }
        }
    }

    /// What a GET may ask for besides calls. The metrics-only listener answers anything else 404.
    private enum Page {
        case metrics, status, notFound

        init?(_ request: HTTPRequestHead, role: HTTPServer.Role) {
            // Docker's calls are POSTs: they pay for one comparison here, nothing more.
            if request.method != .GET && role == .plugin { return nil }
            let path = request.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? request.uri
            switch (request.method, path, role) {
            case (.GET, "/metrics", _): self = .metrics
            case (.GET, "/status", .plugin): self = .status
            case (_, _, .metricsOnly): self = .notFound
            default: return nil
            }
        }
    }

    /// The pages read records and /proc: made on a worker, written back on the event loop.
    private func serve(_ page: Page, request: HTTPRequestHead, context: ChannelHandlerContext) {
        let loop = context.eventLoop
        let bound = NIOLoopBound((self, context), eventLoop: loop)
        let dispatcher = server.dispatcher
        WorkerPool.shared.submit {
            let (status, contentType, bytes): (Int, String, [UInt8])
            switch page {
            case .notFound:
                (status, contentType, bytes) = (404, "text/plain; charset=utf-8", Array("only GET /metrics is served here\n".utf8))
            case .metrics where dispatcher.metrics.enabled:
                (status, contentType, bytes) = (200, "text/plain; version=0.0.4; charset=utf-8", dispatcher.metricsPage())
            case .status where dispatcher.metrics.enabled:
                (status, contentType, bytes) = (200, "application/json", dispatcher.statusPage().bytes)
            case .metrics, .status:
                (status, contentType, bytes) = (404, "text/plain; charset=utf-8",
                                                Array("this host counts nothing: it was started with --no-metrics\n".utf8))
            }
            loop.execute {
                let (handler, context) = bound.value
                handler.finish(status: status, contentType: contentType, bytes: bytes, request: request, context: context)
            }
        }
    }

    private func finish(_ answer: Answer, request: HTTPRequestHead, context: ChannelHandlerContext) {
        finish(status: answer.status, contentType: HTTPServer.contentType, bytes: answer.body.bytes, request: request, context: context)
    }

    private func finish(status: Int, contentType: String, bytes: [UInt8], request: HTTPRequestHead, context: ChannelHandlerContext) {
        let keepAlive = request.isKeepAlive && !server.isStopping
        write(status: status, contentType: contentType, bytes: bytes, keepAlive: keepAlive, context: context)
        busy = false
        if keepAlive { armIdleTimer(context) }
        server.callEnded()
    }

    private func write(_ answer: Answer, keepAlive: Bool, context: ChannelHandlerContext) {
        write(status: answer.status, contentType: HTTPServer.contentType, bytes: answer.body.bytes, keepAlive: keepAlive, context: context)
    }

    private func write(status: Int, contentType: String, bytes: [UInt8], keepAlive: Bool, context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "Content-Length", value: String(bytes.count))
        // NIO does not close for us: say so, and close once written.
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        let head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: status), headers: headers)
        var buffer = context.channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        guard !keepAlive else { return context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil) }
        let channel = context.channel
        context.writeAndFlushPromise(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        server.logger.debug("connection closed: \(error)")
        context.close(promise: nil)
    }
}

extension ChannelHandlerContext {
    fileprivate func writeAndFlushPromise(_ data: NIOAny) -> EventLoopFuture<Void> {
        let promise = eventLoop.makePromise(of: Void.self)
        writeAndFlush(data, promise: promise)
        return promise.futureResult
    }
}
