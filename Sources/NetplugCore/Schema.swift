/// The shapes Docker's Go decoder accepts, one level finer where Docker later parses a
/// string (CIDR addresses, IPs, MACs, scopes). `null` is accepted everywhere, as in Go.
package indirect enum Shape: Sendable {
    case any
    case string
    case bool
    case integer
    /// A NetworkID or EndpointID: these name record files and reach the hooks' environment.
    case identifier
    case cidr
    case ip
    case mac
    case scope
    case routeType
    case object([Field], rule: (@Sendable (JSON) -> String?)? = nil)
    case map(Shape)
    case array(Shape)
}

package struct Field: Sendable {
    package let name: String
    package let shape: Shape
    /// Required fields must be present and not empty (only IPAM answers have them).
    package let required: Bool

    package init(_ name: String, _ shape: Shape, required: Bool = false) {
        self.name = name
        self.shape = shape
        self.required = required
    }
}

/// What a check found: the first violation (if any) and keys no field matched.
package struct SchemaReport: Sendable {
    package var problem: String?
    package var unknownKeys: [String] = []
}

package enum Schema {
    /// Checks `value` against `shape`; paths in messages read like `Interface.Address`, and
    /// the whole value is called `root` ("the answer", "the request").
    package static func check(_ value: JSON, against shape: Shape, root: String = "the answer") -> SchemaReport {
        var report = SchemaReport()
        report.problem = check(value, shape, path: "", root: root, report: &report)
        return report
    }

    private static func check(_ value: JSON, _ shape: Shape, path: String, root: String, report: inout SchemaReport) -> String? {
        if value.isNull { return nil }
        let at = path.isEmpty ? root : path
        switch shape {
        case .any:
            return nil
        case .string:
            return value.string == nil ? "\(at) must be a string, not \(describe(value))" : nil
        case .bool:
            return value.bool == nil ? "\(at) must be true or false, not \(describe(value))" : nil
        case .integer:
            return value.integer == nil ? "\(at) must be an integer, not \(describe(value))" : nil
        case .identifier:
            guard let text = value.string else { return "\(at) must be a string, not \(describe(value))" }
            return Identifier.isValid(text) ? nil : "\(at) \(quote(text)) is not a valid ID: it must be 1 to 128 letters, digits, '_', '.' or '-', starting with a letter or digit"
        case .cidr:
            guard let text = value.string else { return "\(at) must be a string, not \(describe(value))" }
            return text.isEmpty || Address.isCIDR(text) ? nil : "\(at) \(quote(text)) is not an address in CIDR form (like 10.0.0.2/24)"
        case .ip:
            guard let text = value.string else { return "\(at) must be a string, not \(describe(value))" }
            return text.isEmpty || Address.isIP(text) ? nil : "\(at) \(quote(text)) is not a plain IP address (like 10.0.0.1, without a prefix length)"
        case .mac:
            guard let text = value.string else { return "\(at) must be a string, not \(describe(value))" }
            return text.isEmpty || Address.isMAC(text) ? nil : "\(at) \(quote(text)) is not a MAC address (like 02:42:ac:11:00:02)"
        case .scope:
            guard let text = value.string else { return "\(at) must be a string, not \(describe(value))" }
            return text == "local" || text == "global" || text.isEmpty ? nil : "\(at) \(quote(text)) must be \"local\" or \"global\""
        case .routeType:
            guard let number = value.integer else { return "\(at) must be an integer, not \(describe(value))" }
            return number == 0 || number == 1 ? nil : "\(at) \(number) must be 0 (through NextHop) or 1 (connected)"
        case .array(let element):
            guard value.kind == .array else { return "\(at) must be an array, not \(describe(value))" }
            for (index, item) in value.elements.enumerated() {
                if let problem = check(item, element, path: "\(path)[\(index)]", root: root, report: &report) { return problem }
            }
            return nil
        case .map(let element):
            guard value.isObject else { return "\(at) must be an object, not \(describe(value))" }
            for (key, item) in value.members {
                if let problem = check(item, element, path: join(path, key), root: root, report: &report) { return problem }
            }
            return nil
        case .object(let fields, let rule):
            guard value.isObject else { return "\(at) must be an object, not \(describe(value))" }
            let members = value.members
            for (key, item) in members {
                guard let field = match(key, in: fields) else {
                    let suggestion = Suggest.closest(to: key, among: fields.map(\.name)).map { " (did you mean \($0)?)" } ?? ""
                    report.unknownKeys.append(join(path, key) + suggestion)
                    continue
                }
                if let problem = check(item, field.shape, path: join(path, field.name), root: root, report: &report) { return problem }
            }
            for field in fields where field.required {
                let present = value.member(field.name)
                if present == nil || present!.isNull || present!.string == "" {
                    return "\(join(path, field.name)) is required"
                }
            }
            if let rule, let problem = rule(value) { return path.isEmpty ? problem : "\(path): \(problem)" }
            return nil
        }
    }

    /// Go's decoder: the exact name first, then a case-insensitive match.
    static func match(_ key: String, in fields: [Field]) -> Field? {
        if let exact = fields.first(where: { $0.name == key }) { return exact }
        let folded = key.lowercased()
        return fields.first { $0.name.lowercased() == folded }
    }

    private static func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    static func describe(_ value: JSON) -> String {
        switch value.kind {
        case .object: return "an object"
        case .array: return "an array"
        case .string: return "the string \(quote(value.string ?? ""))"
        case .integer, .real: return "the number \(value.text)"
        case .true, .false: return value.text
        case .null: return "null"
        }
    }

    static func quote(_ text: String) -> String {
        let shown = text.count > 80 ? String(text.prefix(80)) + "..." : text
        return "\"\(shown)\""
    }
}

/// Docker's IDs are 64 hex digits; we accept a little more, but never a path or a shell word.
package enum Identifier {
    package static func isValid(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard (1...128).contains(bytes.count), isAlphanumeric(bytes[0]) else { return false }
        return bytes.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
    }

    static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
    }
}

/// The address forms Docker parses with Go's net package.
package enum Address {
    package static func isCIDR(_ text: String) -> Bool {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let bits = Int(parts[1]), parts[1].allSatisfy(\.isASCII) else { return false }
        let address = String(parts[0])
        if isIPv4(address) { return (0...32).contains(bits) }
        if isIPv6(address) { return (0...128).contains(bits) }
        return false
    }

    package static func isIP(_ text: String) -> Bool { isIPv4(text) || isIPv6(text) }

    package static func isIPv4(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return false }
        return parts.allSatisfy { part in
            guard (1...3).contains(part.count), part.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(part) else { return false }
            // Go rejects leading zeros ("010") since 1.17.
            return value <= 255 && (part.count == 1 || part.first != "0")
        }
    }

    package static func isIPv6(_ text: String) -> Bool {
        guard text.contains(":"), !text.contains(":::") else { return false }
        var body = Substring(text)
        var groupsNeeded = 8
        // An embedded IPv4 tail (::ffff:1.2.3.4) counts as two groups.
        if let lastColon = body.lastIndex(of: ":"), body[body.index(after: lastColon)...].contains(".") {
            guard isIPv4(String(body[body.index(after: lastColon)...])) else { return false }
            body = body[...lastColon]
            if body.hasSuffix(":") && !body.hasSuffix("::") { body = body.dropLast() }
            groupsNeeded = 6
        }
        let halves = body.components(separatedBy: "::")
        guard halves.count <= 2 else { return false }
        func groups(_ half: String) -> [Substring]? {
            if half.isEmpty { return [] }
            let parts = half.split(separator: ":", omittingEmptySubsequences: false)
            return parts.allSatisfy { (1...4).contains($0.count) && $0.allSatisfy(\.isHexDigit) } ? parts : nil
        }
        guard let first = groups(halves[0]) else { return false }
        if halves.count == 2 {
            guard let second = groups(halves[1]) else { return false }
            return first.count + second.count < groupsNeeded
        }
        return first.count == groupsNeeded
    }

    package static func isMAC(_ text: String) -> Bool {
        // Go's net.ParseMAC: 6 (or 8, 20) groups of two hex digits split by ':' or '-'.
        for separator in [":", "-"] as [Character] {
            let parts = text.split(separator: separator, omittingEmptySubsequences: false)
            if [6, 8, 20].contains(parts.count), parts.allSatisfy({ $0.count == 2 && $0.allSatisfy(\.isHexDigit) }) {
                return true
            }
        }
        return false
    }
}

private extension StringProtocol {
    func components(separatedBy separator: String) -> [String] {
        var result: [String] = []
        var rest = Substring(self)
        while let range = rest.range(of: separator) {
            result.append(String(rest[..<range.lowerBound]))
            rest = rest[range.upperBound...]
        }
        result.append(String(rest))
        return result
    }
}

private extension Substring {
    func range(of needle: String) -> Range<Index>? {
        let target = Array(needle)
        var index = startIndex
        while index < endIndex {
            if self[index...].starts(with: target) {
                return index..<self.index(index, offsetBy: target.count)
            }
            index = self.index(after: index)
        }
        return nil
    }
}

/// "Did you mean" for names: the closest candidate within a small edit distance.
package enum Suggest {
    package static func closest(to word: String, among candidates: [String]) -> String? {
        let folded = word.lowercased()
        var best: (String, Int)?
        for candidate in candidates {
            let distance = editDistance(folded, candidate.lowercased())
            let limit = max(2, candidate.count / 3)
            if distance <= limit, best == nil || distance < best!.1 { best = (candidate, distance) }
        }
        return best?.0
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = previous
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = Swift.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
