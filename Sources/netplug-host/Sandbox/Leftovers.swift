import NetplugCore
import NetplugServer
#if canImport(Glibc)
import Glibc
#endif

/// One thing a network's life left behind.
struct Leftover: Hashable {
    /// link, address, route, neighbour, rule, sysctl or process.
    var kind: String
    var name: String
    var detail: String
}

/// What the host namespace holds: taken before CreateNetwork and after the last delete, so
/// that everything a driver made and did not remove can be named.
struct NamespaceSnapshot {
    var items: Set<Leftover> = []
    /// sysctls under net., by path, to tell changed values.
    var sysctls: [String: String] = [:]

    /// Reads the namespace the command runs in. `processFilter` says which processes count
    /// (in the sandbox: every one we did not start; on the host: those a hook started).
    static func take(_ sandbox: Sandbox, ignoringProcesses ignored: Set<pid_t>, onlyHookProcesses: Bool, plugin: String, stateDir: String) -> NamespaceSnapshot {
        var snapshot = NamespaceSnapshot()
        for link in sandbox.ipJSON(["-d", "link", "show"]) {
            guard let name = link.member("ifname")?.string else { continue }
            let kind = link.member("linkinfo")?.member("info_kind")?.string ?? link.member("link_type")?.string ?? "link"
            snapshot.items.insert(Leftover(kind: "link", name: name, detail: kind))
        }
        for link in sandbox.ipJSON(["addr", "show"]) {
            let device = link.member("ifname")?.string ?? "?"
            for address in link.member("addr_info")?.elements ?? [] {
                guard let local = address.member("local")?.string, let prefix = address.member("prefixlen")?.integer else { continue }
                // Link-local IPv6 addresses come and go with their links, which are named.
                if local.hasPrefix("fe80:") { continue }
                snapshot.items.insert(Leftover(kind: "address", name: "\(local)/\(prefix)", detail: "on \(device)"))
            }
        }
        for family in ["-4", "-6"] {
            for route in sandbox.ipJSON([family, "route", "show", "table", "all"]) {
                let destination = route.member("dst")?.string ?? "?"
                let table = route.member("table")?.string ?? "main"
                let device = route.member("dev")?.string
                // The kernel's own routes for links and their addresses (local, broadcast,
                // multicast, link-local) follow what is named above.
                if table == "local" || destination.hasPrefix("fe80::") || destination.hasPrefix("ff00::") { continue }
                var detail = [String]()
                if let gateway = route.member("gateway")?.string { detail.append("via \(gateway)") }
                if let device { detail.append("dev \(device)") }
                if table != "main" { detail.append("table \(table)") }
                snapshot.items.insert(Leftover(kind: "route", name: destination, detail: detail.joined(separator: " ")))
            }
        }
        for neighbour in sandbox.ipJSON(["neigh", "show", "nud", "permanent"]) {
            guard let address = neighbour.member("dst")?.string else { continue }
            snapshot.items.insert(Leftover(kind: "neighbour", name: address, detail: "on \(neighbour.member("dev")?.string ?? "?")"))
        }
        for rule in firewallRules(sandbox) {
            snapshot.items.insert(Leftover(kind: "rule", name: rule.name, detail: rule.detail))
        }
        snapshot.sysctls = netSysctls()
        for process in processes(ignoring: ignored, onlyHookProcesses: onlyHookProcesses, plugin: plugin, stateDir: stateDir) {
            snapshot.items.insert(process)
        }
        return snapshot
    }

    /// What is here now and was not before, in a stable order.
    func leftovers(since before: NamespaceSnapshot) -> [Leftover] {
        var found = items.subtracting(before.items).sorted {
            ($0.kind, $0.name, $0.detail) < ($1.kind, $1.name, $1.detail)
        }
        for (path, value) in sysctls.sorted(by: { $0.key < $1.key }) {
            if let old = before.sysctls[path], old != value {
                found.append(Leftover(kind: "sysctl", name: path, detail: "\(old) -> \(value)"))
            }
        }
        return found
    }

    /// Firewall rules, one per line: nftables' ruleset (which holds iptables-nft's rules too),
    /// and the legacy iptables tables where that tool exists.
    static func firewallRules(_ sandbox: Sandbox) -> [(name: String, detail: String)] {
        var rules: [(String, String)] = []
        if let nft = Shebang.onPath("nft").first, let text = try? sandbox.run(nft, ["-s", "list", "ruleset"]) {
            var table = "", chain = ""
            for raw in text.split(whereSeparator: \.isNewline) {
                let line = raw.trimmingCharacters()
                if line.hasPrefix("table ") { table = String(line.dropLast(2)); continue }
                if line.hasPrefix("chain ") { chain = String(line.dropLast(2)); continue }
                if line.isEmpty || line == "}" || line.hasPrefix("type ") || line.hasPrefix("policy ") { continue }
                guard !chain.isEmpty else { continue }
                rules.append((line, "nftables \(table) \(chain)"))
            }
        }
        for tool in ["iptables-legacy-save", "ip6tables-legacy-save"] {
            guard let save = Shebang.onPath(tool).first, let text = try? sandbox.run(save, []) else { continue }
            var table = ""
            for raw in text.split(whereSeparator: \.isNewline) {
                let line = String(raw)
                if line.hasPrefix("*") { table = String(line.dropFirst()) }
                if line.hasPrefix("-A ") { rules.append((line, "\(tool.hasPrefix("ip6") ? "ip6tables" : "iptables") legacy table \(table)")) }
            }
        }
        return rules
    }

    /// Values under /proc/sys/net, except each link's own folders (they go with the link) and
    /// counters that move by themselves.
    static func netSysctls() -> [String: String] {
        var values: [String: String] = [:]
        func walk(_ path: String) {
            for name in FolderListing.fileNames(in: path) {
                let child = path + "/" + name
                var info = stat()
                guard lstat(child, &info) == 0 else { continue }
                if info.st_mode & S_IFMT == S_IFDIR {
                    let parent = baseName(path)
                    if (parent == "conf" || parent == "neigh") && name != "all" && name != "default" { continue }
                    walk(child)
                } else if info.st_mode & 0o444 != 0, !name.hasSuffix("_count"), name != "flush",
                          let bytes = try? FileBytes.read(child, upTo: 4096) {
                    values[String(child.dropFirst("/proc/sys/".count).map { $0 == "/" ? "." : $0 })] =
                        String(decoding: bytes, as: UTF8.self).trimmingCharacters()
                }
            }
        }
        walk("/proc/sys/net")
        return values
    }

    /// Processes: in the sandbox, every one but ours and the resident hooks' instances (they
    /// belong to the host, not to a network); on the machine, only those a hook started
    /// (they carry the hook's environment).
    static func processes(ignoring ignored: Set<pid_t>, onlyHookProcesses: Bool, plugin: String, stateDir: String) -> [Leftover] {
        var found: [Leftover] = []
        let own = getpid()
        // Zombies are on their way out; kernel threads have no command line.
        for process in ProcessEntry.all() where process.pid != own && !ignored.contains(process.pid) && process.state != "Z" {
            let command = process.commandLine()
            guard !command.isEmpty else { continue }
            let environment = process.environment()
            if environment.contains("NETPLUG_RESIDENT=1") { continue }
            if onlyHookProcesses && !ProcessEntry.startedFor(plugin: plugin, stateDir: stateDir, in: environment) { continue }
            found.append(Leftover(kind: "process", name: process.name, detail: "pid \(process.pid): \(command)"))
        }
        return found
    }
}
