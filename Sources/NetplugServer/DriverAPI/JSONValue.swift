import NetplugCore

/// A JSON value a Swift driver can read, build and compare: what Docker sends as
/// `map[string]interface{}` (network and endpoint options, discovery data). A plain value,
/// unlike the jansson-backed `JSON` the server checks requests with.
public enum JSONValue: Sendable, Equatable {
    /// JSON `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// A number (JSON has one kind; integers fit exactly up to 2^53).
    case number(Double)
    /// A string.
    case string(String)
    /// An array.
    case array([JSONValue])
    /// An object, by key.
    case object([String: JSONValue])

    /// A member of an object; nil for a missing key or a value that is not an object.
    public subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    /// The text of a string; nil for any other value.
    public var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    init(_ json: JSON) {
        switch json.kind {
        case .object: self = .object(Dictionary(json.members.map { ($0.key, JSONValue($0.value)) }, uniquingKeysWith: { _, last in last }))
        case .array: self = .array(json.elements.map(JSONValue.init))
        case .string: self = .string(json.string ?? "")
        case .integer, .real: self = .number(json.number ?? 0)
        case .true: self = .bool(true)
        case .false: self = .bool(false)
        case .null: self = .null
        }
    }

    var json: JSON {
        switch self {
        case .null: return .null
        case .bool(let flag): return .bool(flag)
        case .number(let number):
            // Whole numbers go back as integers, as Go's encoder writes them.
            if number.rounded() == number, abs(number) < 9e15 { return .integer(Int(number)) }
            return .real(number)
        case .string(let text): return .string(text)
        case .array(let elements): return .array(elements.map(\.json))
        case .object(let members):
            let value = JSON.object()
            for key in members.keys.sorted() { value.set(key, members[key]!.json) }
            return value
        }
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral {
    /// `"text"` as a JSON string.
    public init(stringLiteral value: String) { self = .string(value) }
    /// `true` as a JSON boolean.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    /// `1500` as a JSON number.
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    /// `0.5` as a JSON number.
    public init(floatLiteral value: Double) { self = .number(value) }
    /// `[...]` as a JSON array.
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    /// `["key": value]` as a JSON object.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}
