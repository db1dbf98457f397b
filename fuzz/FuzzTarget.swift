// Compiled together with NetplugCore's sources into one module (see fuzz/run).

/// libFuzzer entry: the first byte picks a method of the table, the rest is a wire body.
/// It goes through everything untrusted bytes meet in netplug-host: jansson parsing, the
/// request schema (IDs included), and the hook-answer rules (schema, Err, defaults).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let method = Methods.all[Int(data[0]) % Methods.all.count]
    let body = UnsafeBufferPointer(start: data + 1, count: size - 1)

    if let request = try? JSON.parse(body) {
        _ = Schema.check(request, against: method.request)
        _ = request.bytes
        if let id = request.member("NetworkID")?.string { _ = Identifier.isValid(id) }
    }
    for exit in [HookExit.exited(0), .exited(1)] {
        let result = HookResult(exit: exit, stdout: Array(body), stderr: Array(body.suffix(64)))
        let answer = Outcome.answer(for: method, hook: "Fuzz.sh", result: result, context: DefaultContext())
        _ = answer.body.bytes
    }
    if let text = String(validating: body, as: UTF8.self) {
        _ = Address.isCIDR(text)
        _ = Address.isIP(text)
        _ = Address.isMAC(text)
    }
    return 0
}
