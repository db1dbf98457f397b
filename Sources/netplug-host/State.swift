import ArgumentParser
import NetplugCore
#if canImport(Glibc)
import Glibc
#endif

/// `netplug-host state`: the records the host keeps, for people or for scripts.
struct State: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the network and endpoint records the host keeps for hooks.",
        discussion: """
        Example:
          netplug-host state --name mynet
          netplug-host state --state-dir /var/lib/netplug/mynet --json | jq .
        """
    )

    @OptionGroup var plugin: PluginOptions

    @Flag(help: "One JSON document: {\"records\": [...]}, damaged records with their problem.")
    var json = false

    func run() throws {
        let records = Records(stateDir: plugin.resolvedStateDir)
        let entries = records.list()
        if json {
            let list = entries.map { entry -> JSON in
                let item = JSON.object(["kind": .string(entry.kind), "id": .string(entry.id), "path": .string(entry.path)])
                if let record = entry.record { item.set("record", record) }
                if let problem = entry.problem { item.set("problem", .string(problem)) }
                if entry.orphan { item.set("orphan", .bool(true)) }
                return item
            }
            print(JSON.object(["stateDir": .string(records.stateDir), "records": .array(list)]).text)
        } else {
            if entries.isEmpty { print("no records in \(records.stateDir)") }
            print(pad("KIND", 9) + pad("ID", 14) + pad("NETWORK", 14) + pad("JOINED", 8) + "DETAIL")
            for entry in entries {
                let network = entry.record?.member("NetworkID")?.string ?? ""
                let joined = entry.kind == "endpoint" ? (entry.record?["Join"] != nil ? "yes" : "no") : ""
                let detail = entry.problem ?? summary(entry)
                print(pad(entry.kind, 9) + pad(String(entry.id.prefix(12)), 14) + pad(String(network.prefix(12)), 14) + pad(joined, 8) + detail)
            }
        }
        if entries.contains(where: { $0.problem != nil }) { throw ExitCode(1) }
    }

    func summary(_ entry: Records.Entry) -> String {
        guard let request = entry.record?["Request"] else { return entry.path }
        if entry.kind == "network" {
            let pools = (request.member("IPv4Data")?.elements ?? []).compactMap { $0.member("Pool")?.string }
            return pools.isEmpty ? entry.path : "pools " + pools.joined(separator: ",")
        }
        let address = entry.record?["Response"]?.member("Interface")?.member("Address")?.string
            ?? request.member("Interface")?.member("Address")?.string
        return address.map { "address \($0)" } ?? entry.path
    }
}
