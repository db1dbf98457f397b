#if canImport(Glibc)
import Glibc
#endif

/// An IPv4 or IPv6 pool as `docker network create --subnet` gives it, and the addresses
/// Docker's default IPAM hands out of it: the first for the gateway, the next ones for
/// containers, in order.
struct Subnet: CustomStringConvertible {
    let isIPv6: Bool
    /// The network address, big-endian bytes (4 or 16).
    let network: [UInt8]
    let prefix: Int

    init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let prefix = Int(parts[1]) else { return nil }
        let ipv6 = parts[0].contains(":")
        var bytes = [UInt8](repeating: 0, count: ipv6 ? 16 : 4)
        let parsed = String(parts[0]).withCString { inet_pton(ipv6 ? AF_INET6 : AF_INET, $0, &bytes) }
        // At least two host addresses (a gateway and a container) must fit.
        guard parsed == 1, prefix >= 0, prefix <= (ipv6 ? 126 : 30) else { return nil }
        for bit in prefix..<(bytes.count * 8) { bytes[bit / 8] &= ~(UInt8(0x80) >> UInt8(bit % 8)) }
        isIPv6 = ipv6
        network = bytes
        self.prefix = prefix
    }

    var description: String { "\(Subnet.text(network, ipv6: isIPv6))/\(prefix)" }

    /// The `index`th address after the network's own (1: the gateway), or nil past the pool.
    func address(_ index: Int) -> String? {
        let hostBits = network.count * 8 - prefix
        if hostBits < 62 && index >= (1 << hostBits) - (isIPv6 ? 0 : 1) { return nil }
        var bytes = network
        var carry = index
        var position = bytes.count - 1
        while carry > 0 && position >= 0 {
            let sum = Int(bytes[position]) + (carry & 0xff)
            bytes[position] = UInt8(sum & 0xff)
            carry = (carry >> 8) + (sum >> 8)
            position -= 1
        }
        return Subnet.text(bytes, ipv6: isIPv6)
    }

    /// `address(index)` with the pool's prefix, as Docker gives endpoint addresses.
    func cidr(_ index: Int) -> String? { address(index).map { "\($0)/\(prefix)" } }

    static func text(_ bytes: [UInt8], ipv6: Bool) -> String {
        var buffer = [CChar](repeating: 0, count: 64)
        _ = inet_ntop(ipv6 ? AF_INET6 : AF_INET, bytes, &buffer, socklen_t(buffer.count))
        return String(cString: buffer)
    }
}
