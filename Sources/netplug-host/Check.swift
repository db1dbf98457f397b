import ArgumentParser
import NetplugCore
#if canImport(Glibc)
import Glibc
#endif

/// `netplug-host check --hooks DIR`: everything `serve` would refuse or warn about, and more.
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a hooks folder: what serve would refuse or warn about, and more.",
        discussion: """
        Errors: a hook that is not executable, has no #! line (and is not a compiled program) or
        names an interpreter that is not installed, two files for one method, files or folders
        writable by group or others. Warnings: names that are no method (with "did you mean").
        Also lists which hook serves each method, the resident hooks, and which methods answer a default.
        Exit status 1 when there is an error.

        Example:
          netplug-host check --hooks ./hooks
          netplug-host check --hooks ./hooks --json | jq .errors
        """
    )

    @Option(help: ArgumentHelp("The hooks folder.", valueName: "dir"))
    var hooks: String

    @Flag(help: "Folders and hooks writable by group or others are not errors.")
    var allowInsecureHooks = false

    @Flag(help: "One JSON document: errors, warnings, hooks, defaults.")
    var json = false

    func run() throws {
        let folder = HookFolder(root: absolute(hooks), allowInsecure: allowInsecureHooks)
        var report = folder.check()
        let residents = report.residents.sorted { $0.key.rawValue < $1.key.rawValue }
        for file in report.hooks.sorted(by: { $0.key < $1.key }).map(\.value) + residents.map(\.value) {
            if let problem = Check.interpreterProblem(file) { report.errors.append(problem) }
            if Shebang.hasTrailingBlanks(file.path) {
                report.warnings.append("hook \(file.name) has spaces or tabs at the end of its #! line; Linux ignores them, but remove them so that no other system reads them as part of the interpreter's name")
            }
        }
        let families: [Family] = folder.hasIpam ? [.networkDriver, .ipamDriver] : [.networkDriver]
        // A family with a resident hook sends it every method without a hook of its own.
        let defaults = Methods.all.filter {
            families.contains($0.family) && report.residents[$0.family] == nil && report.hooks[$0.fullName] == nil && !isRefused($0, report)
        }

        if json {
            let hooksObject = JSON.object()
            for (method, file) in report.hooks.sorted(by: { $0.key < $1.key }) { hooksObject.set(method, .string(file.name)) }
            let residentsObject = JSON.object()
            for (family, file) in residents { residentsObject.set(family.rawValue, .string(file.name)) }
            print(JSON.object([
                "folder": .string(folder.root),
                "errors": .array(report.errors.map { .string($0) }),
                "warnings": .array(report.warnings.map { .string($0) }),
                "notes": .array(report.notes.map { .string($0) }),
                "hooks": hooksObject,
                "residents": residentsObject,
                "defaults": .array(defaults.map { .string($0.fullName) }),
            ]).text)
        } else {
            for error in report.errors { print("error: \(error)") }
            for warning in report.warnings { print("warning: \(warning)") }
            for note in report.notes { print("not a hook: \(note)") }
            for (method, file) in report.hooks.sorted(by: { $0.key < $1.key }) { print("hook: \(method) runs \(file.name)") }
            for (family, file) in residents {
                print("resident: \(file.name) answers every \(family.rawValue) method without a hook of its own")
            }
            for method in defaults { print("default: \(method.fullName) answers \(Samples.defaultText(method))") }
            print("\(report.errors.count) error(s), \(report.warnings.count) warning(s), \(report.hooks.count) hook(s)")
        }
        if !report.errors.isEmpty { throw ExitCode(1) }
    }

    func isRefused(_ method: Method, _ report: FolderReport) -> Bool {
        report.errors.contains { $0.contains(method.fullName) || $0.contains("hook \(method.hookStem)") }
    }

    /// The #! line: present (or a compiled program), and naming an interpreter that exists.
    static func interpreterProblem(_ file: HookFile) -> String? {
        switch Shebang.of(file.path) {
        case nil, .compiled:
            return nil
        case .missing:
            return "hook \(file.name) has no #! line, so it cannot be started; add one such as #!/bin/sh"
        case .empty:
            return "hook \(file.name) has an empty #! line"
        case .byteOrderMark:
            return "hook \(file.name) starts with a byte order mark (UTF-8 BOM) before #!, so the kernel cannot start it; save it without the BOM"
        case .crlf:
            return "hook \(file.name) has Windows (CRLF) line endings: its #! line names an interpreter whose name ends in a carriage return, which is not installed; convert it with sed -i 's/\\r$//' \(file.name) (or dos2unix)"
        case .script(let interpreter, let program):
            guard access(interpreter, X_OK) == 0 else {
                return "hook \(file.name) names the interpreter \(interpreter), which is not installed (or not executable)"
            }
            if let program, Shebang.onPath(program).isEmpty {
                return "hook \(file.name) runs \(program) through env, but \(program) is not on PATH"
            }
            return nil
        }
    }
}
