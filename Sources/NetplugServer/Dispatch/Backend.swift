import NetplugCore

/// One checked call, ready for a driver: the method, the request, and the IDs it names.
package struct Call: Sendable {
    package let method: Method
    /// The request object (`{}` when Docker sent no body or `null`).
    package let request: JSON
    /// The body exactly as Docker sent it, or `{}` when it sent none.
    package let body: [UInt8]
    package let networkID: String?
    package let endpointID: String?
}

/// A driver's answer to one call, with what the call log says of it.
package struct Served: Sendable {
    package var answer: Answer
    /// The hook's name, `default`, or the in-process driver's name.
    package var handler: String
    /// The hook's stderr, logged line by line under the call.
    package var stderr: [UInt8] = []

    package init(answer: Answer, handler: String, stderr: [UInt8] = []) {
        self.answer = answer
        self.handler = handler
        self.stderr = stderr
    }
}

/// What the server serves: the hook-running driver, or an in-process one (`TypedDriver`).
/// The server does the checks, the ordering and the logs; a backend only answers.
package protocol PluginBackend: Sendable {
    /// What `/Plugin.Activate` lists; asked on every activation.
    func implements() -> [Family]
    /// On the event loop, when the call's network is free: a call that needs no thread, either
    /// answered at once (no process, no disk: `complete` before returning) or answered later
    /// with no thread waiting for it (a resident hook's instance: `complete` exactly once, on
    /// some event loop). False sends the call to `serve`.
    func startWithoutBlocking(_ call: Call, complete: @escaping @Sendable (Served) -> Void) -> Bool
    /// Every other call, in a task on the `BlockingExecutor`: it may block a thread.
    func serve(_ call: Call) async -> Served
    /// The same, answered through `complete`, which may come after this returns and from
    /// another thread (a resident instance's answer read on an event loop): the worker is
    /// free again as soon as nothing is left for it to wait on.
    func serve(_ call: Call, complete: @escaping @Sendable (Served) -> Void) async
}

extension PluginBackend {
    package func serve(_ call: Call, complete: @escaping @Sendable (Served) -> Void) async { complete(await serve(call)) }
    package func startWithoutBlocking(_ call: Call, complete: @escaping @Sendable (Served) -> Void) -> Bool { false }
}
