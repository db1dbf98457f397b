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

/// What answered a call, as the metrics count it (`netplug_calls_total{handler}`).
package enum HandlerKind: String, Sendable, CaseIterable {
    /// A hook file run for the call.
    case hook
    /// The family's resident hook.
    case resident
    /// The host's own default answer (no hook for the method).
    case `default`
    /// An in-process Swift driver.
    case driver
    /// Nothing: the call was refused before any handler ran.
    case none
}

/// A driver's answer to one call, with what the call log and the metrics say of it.
package struct Served: Sendable {
    package var answer: Answer
    /// The hook's name, `default`, or the in-process driver's name.
    package var handler: String
    package var kind: HandlerKind
    /// The handler ran out of time (the answer is the timeout's error).
    package var timedOut: Bool
    /// The hook's stderr, logged line by line under the call.
    package var stderr: [UInt8] = []

    package init(answer: Answer, handler: String, kind: HandlerKind = .driver, timedOut: Bool = false, stderr: [UInt8] = []) {
        self.answer = answer
        self.handler = handler
        self.kind = kind
        self.timedOut = timedOut
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
    /// What `status` and the metrics report of the driver (records, resident instances).
    func report() -> BackendReport
    /// The same, answered through `complete`, which may come after this returns and from
    /// another thread (a resident instance's answer read on an event loop): the worker is
    /// free again as soon as nothing is left for it to wait on.
    func serve(_ call: Call, complete: @escaping @Sendable (Served) -> Void) async
}

/// What a backend tells `status` and `/metrics` about itself, read when they are asked.
package struct BackendReport: Sendable {
    /// The hooks folder, for a hook-running driver.
    package var hooks: String?
    package var records: RecordTally?
    package var resident: [ResidentReport] = []

    package init(hooks: String? = nil, records: RecordTally? = nil, resident: [ResidentReport] = []) {
        self.hooks = hooks
        self.records = records
        self.resident = resident
    }
}

/// One running resident instance: its family, its pid, and how many calls it has answered.
package struct ResidentReport: Sendable {
    package var family: Family
    package var pid: Int32
    package var calls: Int
}

extension PluginBackend {
    package func report() -> BackendReport { BackendReport() }
    package func serve(_ call: Call, complete: @escaping @Sendable (Served) -> Void) async { complete(await serve(call)) }
    package func startWithoutBlocking(_ call: Call, complete: @escaping @Sendable (Served) -> Void) -> Bool { false }
}
