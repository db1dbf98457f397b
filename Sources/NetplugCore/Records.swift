#if canImport(Glibc)
import Glibc
#endif

/// The records the host keeps for hooks (README, "Records"): one JSON file per network and
/// per endpoint under the state folder, each written atomically and durably.
package struct Records: Sendable {
    package let stateDir: String
    package var networksDir: String { stateDir + "/networks" }
    package var endpointsDir: String { stateDir + "/endpoints" }

    package init(stateDir: String) { self.stateDir = stateDir }

    package struct Failure: Error, CustomStringConvertible {
        package let description: String
    }

    package func networkPath(_ id: String) -> String { networksDir + "/" + id + ".json" }
    package func endpointPath(_ id: String) -> String { endpointsDir + "/" + id + ".json" }

    package func prepare() throws {
        for folder in [stateDir, networksDir, endpointsDir] {
            try Records.makeFolder(folder)
        }
        // Temporary files of writes a crash interrupted: the record they were for is intact.
        for folder in [networksDir, endpointsDir] {
            for name in FolderListing.fileNames(in: folder) where name.hasPrefix(".") && name.hasSuffix(".tmp") {
                unlink(folder + "/" + name)
            }
        }
    }

    /// Creates a folder and its parents (mode 0755), like `mkdir -p`.
    package static func makeFolder(_ path: String) throws {
        var built = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            built += "/" + part
            if mkdir(built, 0o755) != 0 && errno != EEXIST {
                throw Failure(description: "cannot create \(built): \(errnoText())")
            }
        }
    }

    package func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// The record at `path`, nil when there is none; a damaged record throws, naming the file.
    package func read(_ path: String) throws -> JSON? {
        let bytes: [UInt8]
        do {
            guard let read = try FileBytes.read(path) else { return nil }
            bytes = read
        } catch {
            throw Failure(description: "\(error)")
        }
        do {
            let value = try JSON.parse(bytes)
            guard value.isObject else { throw Failure(description: "\(path): damaged record: not a JSON object") }
            return value
        } catch let error as JSONParseError {
            throw Failure(description: "\(path): damaged record: \(error)")
        }
    }

    /// Temporary file, fsync, rename, fsync of the folder: a crash leaves the old record or the new one.
    package func write(_ record: JSON, to path: String) throws {
        var bytes = record.bytes
        bytes.append(0x0A)
        try writeAtomically(bytes, to: path)
    }

    package func writeText(_ text: String, to path: String) throws {
        try writeAtomically(Array(text.utf8), to: path)
    }

    func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        let folder = String(path[..<path.lastIndex(of: "/")!])
        let temporary = "\(folder)/.\(path.split(separator: "/").last!).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Failure(description: "cannot write \(temporary): \(errnoText())") }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, $0.count - written) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                let reason = errnoText()
                close(fd)
                unlink(temporary)
                throw Failure(description: "cannot write \(temporary): \(reason)")
            }
            written += n
        }
        guard fsync(fd) == 0 else {
            let reason = errnoText()
            close(fd)
            unlink(temporary)
            throw Failure(description: "cannot flush \(temporary) to disk: \(reason)")
        }
        close(fd)
        guard rename(temporary, path) == 0 else {
            let reason = errnoText()
            unlink(temporary)
            throw Failure(description: "cannot rename \(temporary) to \(path): \(reason)")
        }
        try Records.syncFolder(folder)
    }

    package func remove(_ path: String) throws {
        if unlink(path) != 0 && errno != ENOENT {
            throw Failure(description: "cannot remove \(path): \(errnoText())")
        }
        try Records.syncFolder(String(path[..<path.lastIndex(of: "/")!]))
    }

    /// Whether a successful call of `method` changes a record (such calls are never answered
    /// on an event loop: the change is written with fsync).
    package static func changesRecord(_ method: MethodID) -> Bool {
        switch method {
        case .createNetwork, .deleteNetwork, .createEndpoint, .join, .leave, .deleteEndpoint:
            return true
        case .getCapabilities, .allocateNetwork, .freeNetwork, .endpointOperInfo, .discoverNew, .discoverDelete,
             .programExternalConnectivity, .revokeExternalConnectivity, .gwAllocCheck, .ipamGetCapabilities,
             .getDefaultAddressSpaces, .requestPool, .releasePool, .requestAddress, .releaseAddress:
            return false
        }
    }

    /// After a successful call, the record changes it implies. Returns a warning worth a log
    /// line (a damaged record that was replaced); throws when a record cannot be kept.
    package func keep(after method: MethodID, network: String?, endpoint: String?, request: JSON, answer: JSON) throws -> String? {
        guard let network, Records.changesRecord(method) else { return nil }
        switch method {
        case .createNetwork:
            try write(.object(["NetworkID": .string(network), "Request": request, "Response": answer]), to: networkPath(network))
        case .deleteNetwork:
            try remove(networkPath(network))
            // Docker drops endpoints without DeleteEndpoint when it restarts while the plugin
            // is down; once their network is gone nothing else would ever remove them.
            try removeEndpoints(of: network)
        case .createEndpoint:
            guard let endpoint else { return nil }
            try write(.object(["NetworkID": .string(network), "EndpointID": .string(endpoint), "Request": request, "Response": answer]),
                      to: endpointPath(endpoint))
        case .join, .leave:
            guard let endpoint else { return nil }
            let path = endpointPath(endpoint)
            var warning: String?
            let record: JSON
            do {
                record = try read(path)?.copy() ?? .object(["NetworkID": .string(network), "EndpointID": .string(endpoint)])
            } catch {
                warning = "\(error); writing a new record"
                record = .object(["NetworkID": .string(network), "EndpointID": .string(endpoint)])
            }
            if method == .join {
                record.set("Join", .object(["Request": request, "Response": answer]))
            } else {
                guard record["Join"] != nil else { return warning }
                record.remove("Join")
                // Only Join had been recorded (CreateEndpoint ran before records existed): nothing is left.
                if record["Request"] == nil { try remove(path); return warning }
            }
            try write(record, to: path)
            return warning
        case .deleteEndpoint:
            guard let endpoint else { return nil }
            try remove(endpointPath(endpoint))
        case .getCapabilities, .allocateNetwork, .freeNetwork, .endpointOperInfo, .discoverNew, .discoverDelete,
             .programExternalConnectivity, .revokeExternalConnectivity, .gwAllocCheck, .ipamGetCapabilities,
             .getDefaultAddressSpaces, .requestPool, .releasePool, .requestAddress, .releaseAddress:
            return nil
        }
        return nil
    }

    /// Removes every endpoint record that names `network`; damaged records are left for `state`.
    package func removeEndpoints(of network: String) throws {
        for name in FolderListing.fileNames(in: endpointsDir) where name.hasSuffix(".json") && !name.hasPrefix(".") {
            let path = endpointsDir + "/" + name
            guard let record = try? read(path), record.member("NetworkID")?.string == network else { continue }
            try remove(path)
        }
    }

    /// One record as `state` and start-up see it.
    package struct Entry: Sendable {
        package let kind: String
        package let id: String
        package let path: String
        package let record: JSON?
        package let problem: String?
        /// An endpoint record whose network has no record.
        package var orphan = false
    }

    /// The record files, networks first: kind, id, path (temporary files left out).
    private func recordFiles() -> [(kind: String, id: String, path: String)] {
        [("network", networksDir), ("endpoint", endpointsDir)].flatMap { kind, folder in
            FolderListing.fileNames(in: folder).sorted().filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }
                .map { (kind, String($0.dropLast(5)), folder + "/" + $0) }
        }
    }

    /// Every record, damaged ones included (with the reason), networks first. An endpoint whose
    /// network has no record is an orphan: nothing will ever call DeleteEndpoint for it.
    package func list() -> [Entry] {
        var entries: [Entry] = []
        for (kind, id, path) in recordFiles() {
            do {
                entries.append(Entry(kind: kind, id: id, path: path, record: try read(path), problem: nil))
            } catch {
                entries.append(Entry(kind: kind, id: id, path: path, record: nil, problem: "\(error)"))
            }
        }
        let networks = Set(entries.filter { $0.kind == "network" }.map(\.id))
        return entries.map { entry in
            guard entry.kind == "endpoint", entry.problem == nil,
                  let network = entry.record?.member("NetworkID")?.string, !networks.contains(network) else { return entry }
            return Entry(kind: entry.kind, id: entry.id, path: entry.path, record: entry.record,
                         problem: "orphan: its network \(network.prefix(12)) has no record (the network is gone); remove \(entry.path)",
                         orphan: true)
        }
    }

    /// What `list` would say is wrong (damaged records, orphans), without keeping the records:
    /// each is read, checked and dropped, so that a host started over thousands of records
    /// holds no more memory than one over none.
    package func problems() -> [String] {
        var problems: [String] = []
        var networks = Set<String>()
        var endpointNetworks: [(path: String, network: String)] = []
        for (kind, id, path) in recordFiles() {
            do {
                let network = try read(path)?.member("NetworkID")?.string
                if kind == "network" { networks.insert(id) } else if let network { endpointNetworks.append((path, network)) }
            } catch {
                problems.append("\(error)")
            }
        }
        for (path, network) in endpointNetworks where !networks.contains(network) {
            problems.append("orphan: its network \(network.prefix(12)) has no record (the network is gone); remove \(path)")
        }
        return problems
    }

    /// How many records there are of each kind, and how many of them cannot be read (not JSON,
    /// not an object): what `status` and `/metrics` report. Each is read and dropped.
    package func tally() -> RecordTally {
        var tally = RecordTally()
        for (kind, _, path) in recordFiles() {
            if kind == "network" { tally.networks += 1 } else { tally.endpoints += 1 }
            do { _ = try read(path) } catch { tally.damaged += 1 }
        }
        return tally
    }

    static func syncFolder(_ folder: String) throws {
        let fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure(description: "cannot open \(folder): \(errnoText())") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw Failure(description: "cannot flush \(folder) to disk: \(errnoText())") }
    }
}

/// Counts of records: networks, endpoints, and those of them that cannot be read.
package struct RecordTally: Sendable, Equatable {
    package var networks = 0
    package var endpoints = 0
    package var damaged = 0

    package init(networks: Int = 0, endpoints: Int = 0, damaged: Int = 0) {
        self.networks = networks
        self.endpoints = endpoints
        self.damaged = damaged
    }
}
