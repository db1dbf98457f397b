import Dispatch
import NetplugCore

/// One checked call, ready for a driver: the method, the request, and the IDs it names.
public struct Call: Sendable {
    public let method: Method
    /// The request object (`{}` when Docker sent no body or `null`).
    public let request: JSON
    /// The body exactly as Docker sent it, or `{}` when it sent none.
    public let body: [UInt8]
    public let networkID: String?
    public let endpointID: String?
}

/// A driver's answer to one call, with what the call log says of it.
public struct Served: Sendable {
    public var answer: Answer
    /// The hook's name, `default`, or the in-process driver's name.
    public var handler: String
    /// The hook's stderr, logged line by line under the call.
    public var stderr: [UInt8] = []

    public init(answer: Answer, handler: String, stderr: [UInt8] = []) {
        self.answer = answer
        self.handler = handler
        self.stderr = stderr
    }
}

/// What the server serves: the hook-running driver, or an in-process one (`TypedDriver`).
/// The server does the checks, the ordering and the logs; a backend only answers.
public protocol PluginBackend: Sendable {
    /// What `/Plugin.Activate` lists; asked on every activation.
    func implements() -> [Family]
    func serve(_ call: Call) async -> Served
    /// An answer that needs no waiting (no process, no disk write), given on the event loop
    /// to save two thread hops; nil sends the call the usual way.
    func immediateAnswer(_ call: Call) -> Served?
    /// Called on a worker thread, which may block.
    func serveBlocking(_ call: Call) -> Served
}

extension PluginBackend {
    public func immediateAnswer(_ call: Call) -> Served? { nil }

    public func serveBlocking(_ call: Call) -> Served {
        let box = ResultBox()
        let done = DispatchSemaphore(value: 0)
        Task {
            box.value = await serve(call)
            done.signal()
        }
        // A worker thread, never the cooperative pool: waiting here starves nothing.
        done.wait()
        return box.value!
    }
}

private final class ResultBox: @unchecked Sendable {
    // @unchecked: written once before the semaphore is signalled, read after the wait.
    var value: Served?
}
