import NetplugCore
import NetplugServer

/// Whether each simulated container reaches the others and its gateway: `ping` run inside
/// the container's namespace, a few echo requests within two seconds per address.
enum Pings {
    struct Target {
        var container: Sandbox.Container
        var ipv4: String?
        var ipv6: String?
        var gateway: String?
    }

    static func run(_ targets: [Target], sandbox: Sandbox) throws -> [Report.Ping] {
        guard let ping = Shebang.onPath("ping").first else {
            throw Sandbox.Failure(description: "ping is not installed (Debian: iputils-ping); exercise needs it to check that containers can talk")
        }
        func reaches(_ from: Sandbox.Container, _ address: String) -> Bool {
            let result = HookRunner.runProgram(sandbox.nsenter, ["--net=\(from.namespace)", ping, "-n", "-q", "-c", "1", "-i", "0.2", "-w", "2", address], timeout: 10)
            if case .exited(0) = result.exit { return true }
            return false
        }
        var pings: [Report.Ping] = []
        for from in targets {
            for to in targets where to.container.holder != from.container.holder {
                for address in [to.ipv4, to.ipv6].compactMap({ $0 }) {
                    pings.append(Report.Ping(from: from.container.name, to: to.container.name, address: address, ok: reaches(from.container, address)))
                }
            }
            if let gateway = from.gateway {
                pings.append(Report.Ping(from: from.container.name, to: "gateway", address: gateway, ok: reaches(from.container, gateway)))
            }
        }
        return pings
    }

    /// The address part of a CIDR address.
    static func plain(_ cidr: String?) -> String? {
        guard let cidr, !cidr.isEmpty else { return nil }
        return String(cidr.split(separator: "/")[0])
    }
}
