import NetplugServer
import SwiftDriverExample

/// swift-driver [SOCKET]: serves AddressBookDriver (default /run/docker/plugins/swiftbook.sock).
@main
enum SwiftDriver {
    static func main() async throws {
        let path = CommandLine.arguments.dropFirst().first ?? "/run/docker/plugins/swiftbook.sock"
        let plugin = try await Plugin.start(network: AddressBookDriver(), on: .unix(path: path, group: nil))
        print("serving AddressBookDriver on \(plugin.address)")
        await plugin.run()
    }
}
