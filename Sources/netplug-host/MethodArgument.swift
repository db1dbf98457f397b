import ArgumentParser
import NetplugCore

/// A method as people type it: `Join`, `NetworkDriver.Join`, `IpamDriver.RequestPool` or
/// `ipam/RequestPool`. A bare name means the NetworkDriver method when both families have it.
func findMethod(_ text: String) throws -> Method {
    var name = text
    if name.hasPrefix("/") { name.removeFirst() }
    if name.hasPrefix("ipam/") { name = "IpamDriver." + name.dropFirst(5) }
    if let method = Methods.named(name) { return method }
    if let method = Methods.named("NetworkDriver." + name) ?? Methods.named("IpamDriver." + name) { return method }
    let all = Methods.all.map(\.fullName) + Methods.all.map(\.name)
    let hint = Suggest.closest(to: name, among: all).map { "; did you mean \($0)?" } ?? ""
    throw ValidationError("\(text.debugDescription) is not a method\(hint) (see netplug-host schema)")
}
