import CJansson

/// Where jansson stopped reading, and why.
package struct JSONParseError: Error, CustomStringConvertible, Sendable {
    package let line: Int
    package let column: Int
    package let text: String
    package var description: String { "line \(line), column \(column): \(text)" }
}

/// The one owner of jansson's `json_t*`: every wire value is parsed, read and written
/// through this type, and released when the last Swift reference goes.
package final class JSON: @unchecked Sendable {
    // @unchecked: jansson's reference counts are atomic (2.14), and a JSON is never
    // mutated after it has been handed to another task.
    let raw: UnsafeMutablePointer<json_t>

    package enum Kind: String, Sendable {
        case object, array, string, integer, real, `true`, `false`, null
    }

    /// Takes over a new reference (jansson's "_new" convention).
    init(owning raw: UnsafeMutablePointer<json_t>) { self.raw = raw }

    /// Keeps a borrowed reference alive for as long as this value lives.
    init(borrowing raw: UnsafeMutablePointer<json_t>) {
        self.raw = raw
        json_incref(raw)
    }

    deinit { json_decref(raw) }

    // MARK: Parsing and writing

    /// Parses exactly one JSON value; duplicate keys and anything after the value are errors.
    package static func parse<Bytes: Collection>(_ bytes: Bytes) throws -> JSON where Bytes.Element == UInt8 {
        var error = json_error_t()
        let value: UnsafeMutablePointer<json_t>? = bytes.withContiguousStorageIfAvailable { buffer in
            json_loadb(buffer.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) },
                       buffer.count, netplug_json_load_flags(), &error)
        } ?? Array(bytes).withUnsafeBufferPointer { buffer in
            json_loadb(buffer.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) },
                       buffer.count, netplug_json_load_flags(), &error)
        }
        guard let value else {
            let text = withUnsafePointer(to: &error) { String(cString: netplug_json_error_text($0)) }
            throw JSONParseError(line: Int(error.line), column: Int(error.column), text: text)
        }
        return JSON(owning: value)
    }

    package static func parse(_ text: String) throws -> JSON { try parse(Array(text.utf8)) }

    /// The compact encoding.
    package var bytes: [UInt8] {
        let flags = netplug_json_dump_flags()
        let size = json_dumpb(raw, nil, 0, flags)
        guard size > 0 else { return [] }
        return [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            count = json_dumpb(raw, UnsafeMutableRawPointer(buffer.baseAddress!).assumingMemoryBound(to: CChar.self), size, flags)
        }
    }

    package var text: String { String(decoding: bytes, as: UTF8.self) }

    // MARK: Reading

    package var kind: Kind {
        switch netplug_json_type(raw) {
        case Int32(JSON_OBJECT.rawValue): return .object
        case Int32(JSON_ARRAY.rawValue): return .array
        case Int32(JSON_STRING.rawValue): return .string
        case Int32(JSON_INTEGER.rawValue): return .integer
        case Int32(JSON_REAL.rawValue): return .real
        case Int32(JSON_TRUE.rawValue): return .true
        case Int32(JSON_FALSE.rawValue): return .false
        default: return .null
        }
    }

    package var isNull: Bool { kind == .null }
    package var isObject: Bool { kind == .object }

    package var string: String? {
        guard kind == .string, let chars = json_string_value(raw) else { return nil }
        let length = json_string_length(raw)
        return String(decoding: UnsafeRawBufferPointer(start: chars, count: length), as: UTF8.self)
    }

    package var bool: Bool? {
        switch kind {
        case .true: return true
        case .false: return false
        default: return nil
        }
    }

    package var integer: Int? { kind == .integer ? Int(json_integer_value(raw)) : nil }

    /// An integer or a real, as a Double.
    package var number: Double? { kind == .integer || kind == .real ? json_number_value(raw) : nil }

    /// The object's members in jansson's order (insertion order).
    package var members: [(key: String, value: JSON)] {
        guard kind == .object else { return [] }
        var result: [(key: String, value: JSON)] = []
        var iterator = json_object_iter(raw)
        while let current = iterator {
            let key = String(cString: json_object_iter_key(current))
            if let value = json_object_iter_value(current) {
                result.append((key, JSON(borrowing: value)))
            }
            iterator = json_object_iter_next(raw, current)
        }
        return result
    }

    package var elements: [JSON] {
        guard kind == .array else { return [] }
        return (0..<json_array_size(raw)).compactMap { json_array_get(raw, $0).map { JSON(borrowing: $0) } }
    }

    /// A member by its exact key.
    package subscript(key: String) -> JSON? {
        guard kind == .object, let value = json_object_get(raw, key) else { return nil }
        return JSON(borrowing: value)
    }

    /// A member as Docker's Go decoder finds it: the exact key first, then any case.
    package func member(_ key: String) -> JSON? {
        if let exact = self[key] { return exact }
        let folded = key.lowercased()
        return members.first { $0.key.lowercased() == folded }?.value
    }

    // MARK: Building

    package static func object(_ members: KeyValuePairs<String, JSON> = [:]) -> JSON {
        let value = JSON(owning: json_object())
        for (key, member) in members { value.set(key, member) }
        return value
    }

    package static func string(_ text: String) -> JSON {
        JSON(owning: json_stringn(text, text.utf8.count) ?? json_null())
    }

    package static func bool(_ flag: Bool) -> JSON { JSON(owning: flag ? json_true() : json_false()) }
    package static func integer(_ number: Int) -> JSON { JSON(owning: json_integer(json_int_t(number))) }
    package static func real(_ number: Double) -> JSON { JSON(owning: json_real(number)) }
    package static var null: JSON { JSON(owning: json_null()) }

    package static func array(_ elements: [JSON]) -> JSON {
        let value = JSON(owning: json_array())
        for element in elements { json_array_append(value.raw, element.raw) }
        return value
    }

    /// Sets a member of an object (a value that is not an object is left as it is).
    package func set(_ key: String, _ member: JSON) {
        json_object_set(raw, key, member.raw)
    }

    package func remove(_ key: String) {
        json_object_del(raw, key)
    }

    /// A deep copy, so that a default answer handed out can be changed by its receiver.
    package func copy() -> JSON { JSON(owning: json_deep_copy(raw)) }
}
