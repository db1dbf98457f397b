import Synchronization
import NetplugCore

/// `serve --record DIR`: every request and its answer as a numbered JSON file, for `replay`.
/// Files are written by worker threads, never the event loop, atomically like records.
package final class Recorder: Sendable {
    let folder: String
    private let counter = Mutex(0)
    private let pending = InFlight()

    package init(folder: String) throws {
        self.folder = folder
        try Records.makeFolder(folder)
        counter.withLock { $0 = Recorder.lastNumber(in: folder) }
    }

    /// `000042-NetworkDriver.Join.json`: {"Path", "Request", "Status", "Response"}. A request
    /// body that is not JSON is kept as a string under "RequestText".
    func record(path: String, body: [UInt8], answer: Answer) {
        let number = counter.withLock { value -> Int in
            value += 1
            return value
        }
        pending.enter()
        WorkerPool.shared.submit {
            defer { self.pending.leave() }
            let entry = JSON.object(["Path": .string(path), "Status": .integer(answer.status), "Response": answer.body])
            if let request = try? JSON.parse(body) {
                entry.set("Request", request)
            } else {
                entry.set("RequestText", .string(String(decoding: body, as: UTF8.self)))
            }
            let digits = String(number)
            let name = String(repeating: "0", count: max(0, 6 - digits.count)) + digits + "-"
                + path.filter { $0.isLetter || $0.isNumber || $0 == "." } + ".json"
            try? Records(stateDir: self.folder).write(entry, to: self.folder + "/" + name)
        }
    }

    /// At shutdown: the files of calls already answered are written before the host exits.
    package func waitUntilWritten(upTo seconds: Double) async {
        _ = await pending.waitUntilIdle(upTo: seconds)
    }

    static func lastNumber(in folder: String) -> Int {
        FolderListing.fileNames(in: folder).compactMap { Int($0.prefix(while: \.isNumber)) }.max() ?? 0
    }
}
