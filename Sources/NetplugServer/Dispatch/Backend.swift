import Dispatch
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

/// How a backend will answer a call: at once, or by work that may block (a process, a
/// record written with fsync), which the server runs on a worker thread.
package enum Plan: Sendable {
    case answer(Served)
    case run(@Sendable () -> Served)
}

/// What the server serves: the hook-running driver, or an in-process one (`TypedDriver`).
/// The server does the checks, the ordering and the logs; a backend only answers.
package protocol PluginBackend: Sendable {
    /// What `/Plugin.Activate` lists; asked on every activation.
    func implements() -> [Family]
    func serve(_ call: Call) async -> Served
    /// Called on the event loop when the call's network is free (else on a worker thread):
    /// an answer that needs no waiting is given at once, saving two thread hops.
    func plan(_ call: Call) -> Plan
}

extension PluginBackend {
    /// By default everything goes through `serve`, waited for on a worker thread.
    package func plan(_ call: Call) -> Plan {
        .run {
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
}

private final class ResultBox: @unchecked Sendable {
    // @unchecked: written once before the semaphore is signalled, read after the wait.
    var value: Served?
}
