import ArgumentParser
import NetplugCore
import NetplugServer
#if canImport(Glibc)
import Glibc
#endif

/// `netplug-host bundle`: a managed (v2) plugin folder, config.json and rootfs/, made offline
/// from a hooks folder and what this machine has installed.
struct Bundle: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make a managed plugin folder (config.json + rootfs/) from a hooks folder.",
        discussion: """
        The rootfs holds this netplug-host (stripped), a POSIX /bin/sh, the basic utilities, the
        interpreters the hooks' #! lines name, each --tool with its libraries, and the hooks at /hooks.

        Example:
          netplug-host bundle --hooks examples/bridge --output /tmp/mybridge --name mybridge --tool ip --tool jq
          mkdir -p /var/lib/netplug/mybridge
          docker plugin create mybridge /tmp/mybridge && docker plugin enable mybridge
        """
    )

    @Option(help: ArgumentHelp("The hooks folder.", valueName: "dir"))
    var hooks: String

    @Option(help: ArgumentHelp("Where to write config.json and rootfs/ (made, or replaced if it holds an earlier bundle).", valueName: "dir"))
    var output: String

    @Option(help: "The plugin's name: its socket's file name and its default state folder.")
    var name: String = "netplug"

    @Option(name: .customLong("tool"), help: ArgumentHelp("A program the hooks run: a name from this machine's PATH, or an absolute path, bundled at that path (repeatable).", valueName: "program"))
    var tools: [String] = []

    @Option(name: .customLong("env"), help: ArgumentHelp("A variable users may set with `docker plugin set NAME KEY=VALUE` (repeatable).", valueName: "name[=default]"))
    var variables: [String] = []

    @Option(help: ArgumentHelp("The scope GetCapabilities reports when there is no hook for it.", valueName: "scope"))
    var scope: ScopeOption?

    @Option(help: ArgumentHelp("Seconds a hook may run.", valueName: "seconds"))
    var timeout: Double?

    @Option(help: ArgumentHelp("How many instances of a resident hook may run at once.", valueName: "n"))
    var residentInstances: Int?

    @Flag(help: "Bundle hooks that are writable by group or others (the copies are not).")
    var allowInsecureHooks = false

    @Flag(help: "Let the hooks set net.* sysctls (forwarding, proxy_arp on one interface, ...): /proc/sys is read-only in a plugin; this adds CAP_SYS_ADMIN and serve --writable-net-sysctls.")
    var sysctls = false

    @Option(help: ArgumentHelp("Serve Prometheus metrics on this TCP address (the plugin shares the host's network, so 127.0.0.1:9464 is the machine's loopback).", valueName: "host:port"))
    var metrics: String?

    @Option(name: .customLong("mount"), help: ArgumentHelp("A folder of this machine the plugin reads, mounted read-only at the same path; `docker plugin set PLUGIN NAME.source=DIR` points it elsewhere (repeatable).", valueName: "name=path"))
    var mounts: [String] = []

    @Option(name: .customLong("capability"), help: ArgumentHelp("A capability beyond CAP_NET_ADMIN, e.g. CAP_SYS_ADMIN (repeatable).", valueName: "name"))
    var capabilities: [String] = []

    func validate() throws {
        guard Identifier.isValid(name), name.count <= 64 else {
            throw ValidationError("--name \(name.debugDescription): use 1 to 64 letters, digits, '_', '.' or '-', starting with a letter or digit")
        }
        if let residentInstances { try ResidentInstancesOption.check(residentInstances) }
        if let metrics { _ = try Serve.parseHostPort(metrics, option: "--metrics") }
        if let timeout, !(timeout > 0 && timeout.isFinite) {
            throw ValidationError("--timeout \(timeout): give a number of seconds greater than 0")
        }
        for variable in variables {
            let key = variable.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            guard key.first.map({ $0 == "_" || $0.isLetter }) == true, key.allSatisfy({ $0 == "_" || $0.isLetter || $0.isNumber }),
                  key.allSatisfy(\.isASCII) else {
                throw ValidationError("--env \(variable.debugDescription): give NAME or NAME=DEFAULT, NAME of letters, digits and '_'")
            }
            guard !HookDriver.perCallVariables.contains(key) && key != "PATH" else {
                throw ValidationError("--env \(key): netplug-host sets that variable itself; pick another name")
            }
        }
        for mount in mounts {
            let parts = Bundle.mountParts(mount)
            guard parts.count == 2, Identifier.isValid(parts[0]), parts[0] != "state", parts[1].hasPrefix("/") else {
                throw ValidationError("--mount \(mount.debugDescription): give NAME=/absolute/path, NAME of letters, digits, '_', '.' or '-' (not \"state\")")
            }
        }
        for capability in capabilities where !(capability.hasPrefix("CAP_") && capability.dropFirst(4).allSatisfy({ $0.isUppercase || $0 == "_" })) {
            throw ValidationError("--capability \(capability.debugDescription): give a capability name such as CAP_SYS_ADMIN")
        }
    }

    func run() throws {
        let started = HookRunner.now()
        let source = absolute(hooks)
        // What serve would refuse about this folder, and every #! line naming what is not here.
        let folder = HookFolder(root: source, allowInsecure: allowInsecureHooks)
        let report = folder.check()
        let scripts = Bundle.executables(in: source)
        var problems = report.errors
        for file in scripts {
            if let problem = Check.interpreterProblem(file) { problems.append(problem) }
        }
        if !problems.isEmpty {
            for problem in problems { printError(problem) }
            throw ExitCode(1)
        }

        for (tool, files) in Bundle.programsLeftOut(of: source, given: Set(tools)) {
            let named = files.prefix(3).joined(separator: ", ") + (files.count > 3 ? ", ..." : "")
            printError("warning: the hooks run \(tool) (\(named)), which the plugin will not have: add --tool \(tool)")
        }

        var toolPaths: [(name: String, path: String)] = []
        for tool in tools {
            if tool.hasPrefix("/") {
                // Kept at its own path (CNI plugins are looked for in CNI_PATH, not PATH).
                guard access(tool, X_OK) == 0 else {
                    printError("--tool \(tool): not an executable file: \(errnoText())")
                    throw ExitCode(1)
                }
                toolPaths.append((tool, tool))
                continue
            }
            guard let path = RootfsBuilder.resolve(tool) else {
                printError("--tool \(tool): no such program on PATH (\(getenv("PATH").map { String(cString: $0) } ?? ""))")
                throw ExitCode(1)
            }
            toolPaths.append((tool, path))
        }

        // Built beside OUT and moved into place whole: a failure leaves OUT as it was.
        var out = absolute(output)
        while out.count > 1 && out.hasSuffix("/") { out.removeLast() }
        let staging = out + ".partial"
        let rootfs: RootfsBuilder
        let size: (bytes: Int, files: Int)
        do {
            try RootfsBuilder.checkReplaceable(out)
            try RootfsBuilder.removeTree(staging)
            rootfs = try RootfsBuilder(root: staging + "/rootfs")
            try rootfs.addHost()
            try rootfs.addShellAndUtilities()
            let programs = try interpreters(of: scripts) + toolPaths
            try rootfs.addPrograms(programs.map(\.path))
            for (name, path) in programs { try rootfs.linkOnPath(name, to: path) }
            try rootfs.addHooks(from: source, stateDir: stateDir)
            for mount in mounts { try Records.makeFolder(rootfs.root + Bundle.mountParts(mount)[1]) }
            try Records(stateDir: staging).writeText(config(ipam: folder.hasIpam).text + "\n", to: staging + "/config.json")
            try rootfs.finish()
            size = rootfs.measure()
            try RootfsBuilder.replace(out, with: staging)
        } catch {
            try? RootfsBuilder.removeTree(staging)
            printError("\(error)")
            throw ExitCode(1)
        }

        print("wrote \(out)/config.json and \(out)/rootfs (\(fixed(Double(size.bytes) / 1_000_000, 1)) MB, \(size.files) files) in \(fixed(HookRunner.now() - started, 1)) s")
        print("""

        Install it (the state folder must exist before Docker enables the plugin):
          mkdir -p \(stateDir)
          docker plugin create \(name) \(out)
          docker plugin enable \(name)
          docker network create -d \(name):latest ...\(folder.hasIpam ? " --ipam-driver \(name):latest" : "")

        Settings (while the plugin is disabled):
          docker plugin set \(name) state.source=/another/folder
          docker plugin set \(name) args="--log-level debug"
          docker plugin set \(name) args="--metrics 127.0.0.1:9464"

        What it does: netplug-host status --socket /run/docker/plugins/PLUGIN-ID/\(name).sock
        """)
        for variable in variables {
            let key = variable.split(separator: "=", maxSplits: 1).first.map(String.init) ?? variable
            print("  docker plugin set \(name) \(key)=VALUE")
        }
    }

    var stateDir: String { "/var/lib/netplug/\(name)" }

    /// `--mount NAME=PATH` as [NAME, PATH] (checked by `validate`).
    static func mountParts(_ mount: String) -> [String] {
        mount.split(separator: "=", maxSplits: 1).map(String.init)
    }

    /// Every executable file in the folder, links followed: hooks, and helpers they run.
    /// Programs a network driver commonly runs that the plugin only has when given as --tool.
    static let commonTools = [
        "ip", "jq", "iptables", "ip6tables", "iptables-save", "iptables-restore", "nft", "bridge", "tc", "ethtool",
        "sysctl", "ss", "brctl", "ovs-vsctl", "ovs-ofctl", "dnsmasq", "curl", "wget", "arping", "conntrack", "ipset",
        "modprobe", "ebtables", "nsenter", "unshare", "mount", "umount", "socat", "ping",
    ]

    /// Which of `commonTools` the folder's programs and scripts (executables, `.sh`, `.py`) name
    /// as a command (outside comments) without a --tool for it, and in which files: by text, so
    /// a warning, never a refusal.
    static func programsLeftOut(of folder: String, given: Set<String>) -> [(tool: String, files: [String])] {
        let wanted = commonTools.filter { !given.contains($0) && !RootfsBuilder.utilities.contains($0) }
        var found: [String: [String]] = [:]
        func scan(_ path: String, _ name: String) {
            guard let bytes = try? FileBytes.read(path, upTo: 1 << 20), !bytes.contains(0) else { return }
            let python = name.hasSuffix(".py") || bytes.prefix(64).starts(with: Array("#!".utf8)) && String(decoding: bytes.prefix(64), as: UTF8.self).contains("python")
            for raw in String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isNewline) {
                let line = raw.drop { $0 == " " || $0 == "\t" }
                if line.hasPrefix("#") { continue }
                for tool in wanted where found[tool]?.last != name && runs(tool, in: Substring(line), python: python) {
                    found[tool, default: []].append(name)
                }
            }
        }
        func walk(_ folder: String, _ prefix: String) {
            for name in FolderListing.fileNames(in: folder).sorted() where !name.hasPrefix(".") && name != "__pycache__" && !HookFolder.isLeftover(name) {
                let path = folder + "/" + name
                var info = stat()
                guard stat(path, &info) == 0 else { continue }
                if info.st_mode & S_IFMT == S_IFDIR {
                    walk(path, prefix + name + "/")
                } else if info.st_mode & S_IFMT == S_IFREG,
                          info.st_mode & 0o111 != 0 || [".sh", ".bash", ".py"].contains(where: { name.hasSuffix($0) }) {
                    scan(path, prefix + name)
                }
            }
        }
        walk(folder, "")
        return wanted.compactMap { tool in found[tool].map { (tool, $0) } }
    }

    /// Whether a line runs `tool`: as the first word of a shell command (after `;`, `|`, `&`,
    /// `$(`, a backquote, assignments and `if`/`then`/`do`/...), or as the first element of a
    /// Python argument list (`["ip", ...]`).
    static func runs(_ tool: String, in line: Substring, python: Bool) -> Bool {
        if python {
            return line.contains("[\"\(tool)\"") || line.contains("['\(tool)'") || line.contains("(\"\(tool)\"") || line.contains("('\(tool)'")
        }
        let keywords: Set<Substring> = ["if", "then", "else", "elif", "do", "while", "until", "!", "exec", "command", "time", "sudo", "{", "}"]
        for segment in line.split(whereSeparator: { ";|&()`".contains($0) }) {
            for word in segment.split(whereSeparator: { $0 == " " || $0 == "\t" }) {
                let bare = word.filter { $0 != "\"" && $0 != "'" }
                if keywords.contains(word) || (bare.contains("=") && !bare.hasPrefix("=")) || word == "$" { continue }
                if bare == tool { return true }
                break
            }
        }
        return false
    }

    static func executables(in folder: String, prefix: String = "") -> [HookFile] {
        var found: [HookFile] = []
        for name in FolderListing.fileNames(in: folder).sorted() where !name.hasPrefix(".") && name != "__pycache__" {
            let path = folder + "/" + name
            var info = stat()
            guard stat(path, &info) == 0 else { continue }
            if info.st_mode & S_IFMT == S_IFDIR {
                found += executables(in: path, prefix: prefix + name + "/")
            } else if info.st_mode & S_IFMT == S_IFREG && info.st_mode & 0o111 != 0 && !HookFolder.isLeftover(name) {
                found.append(HookFile(path: path, name: prefix + name))
            }
        }
        return found
    }

    /// The programs the hooks' #! lines start, by the name a hook uses and their path here:
    /// /usr/bin/env and the real program it finds (not a version manager's wrapper).
    func interpreters(of files: [HookFile]) throws -> [(name: String, path: String)] {
        var programs: [(name: String, path: String)] = []
        for file in files.sorted(by: { $0.name < $1.name }) {
            guard case .script(let interpreter, let program) = Shebang.of(file.path) else { continue }
            // The bundle's own shell is /bin/sh, whatever this machine's is.
            if interpreter == "/bin/sh" || interpreter == "/usr/bin/sh" { continue }
            programs.append((interpreter, interpreter))
            if let program {
                guard let real = RootfsBuilder.resolve(program) else {
                    throw RootfsBuilder.Failure(description: "hook \(file.name) runs \(program) through env, but no program \(program) is on PATH")
                }
                programs.append((program, real))
            }
        }
        return programs
    }

    /// What Docker reads to make the plugin: its socket, its privileges, what users may set.
    func config(ipam: Bool) -> JSON {
        // The log on stdout: dockerd records a plugin's stdout at info, its stderr at error.
        var entrypoint = ["/usr/bin/netplug-host", "serve", "--log-stream", "stdout", "--hooks", "/hooks", "--name", name,
                          "--socket", "/run/docker/plugins/\(name).sock", "--state-dir", stateDir]
        if let scope { entrypoint += ["--scope", scope.rawValue] }
        if let timeout { entrypoint += ["--timeout", fixed(timeout, 1)] }
        if let residentInstances { entrypoint += ["--resident-instances", String(residentInstances)] }
        if sysctls { entrypoint += ["--writable-net-sysctls"] }
        if let metrics { entrypoint += ["--metrics", metrics] }
        let types: [JSON] = [.string("docker.networkdriver/1.0")] + (ipam ? [.string("docker.ipamdriver/1.0")] : [])
        let env: [JSON] = variables.map { variable in
            let parts = variable.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            return .object([
                "name": .string(parts[0]),
                "description": .string("passed to the hooks as \(parts[0])"),
                "settable": .array([.string("value")]),
                "value": .string(parts.count > 1 ? parts[1] : ""),
            ])
        }
        return .object([
            "description": .string("netplug driver \(name): hooks served by netplug-host"),
            "entrypoint": .array(entrypoint.map { .string($0) }),
            "workdir": .string("/"),
            "interface": .object(["types": .array(types), "socket": .string("\(name).sock")]),
            "network": .object(["type": .string("host")]),
            "linux": .object(["capabilities": .array((["CAP_NET_ADMIN"] + capabilities + (sysctls && !capabilities.contains("CAP_SYS_ADMIN") ? ["CAP_SYS_ADMIN"] : [])).map { .string($0) })]),
            "mounts": .array([.object([
                "name": .string("state"),
                "description": .string("the state folder: records and the hooks' own state"),
                "source": .string(stateDir),
                "destination": .string(stateDir),
                "type": .string("bind"),
                "options": .array([.string("rbind"), .string("rw")]),
                "settable": .array([.string("source")]),
            ])] + mounts.map { mount -> JSON in
                let parts = Bundle.mountParts(mount)
                return .object([
                    "name": .string(parts[0]),
                    "description": .string("\(parts[1]) of the machine, read-only"),
                    "source": .string(parts[1]),
                    "destination": .string(parts[1]),
                    "type": .string("bind"),
                    "options": .array([.string("rbind"), .string("ro")]),
                    "settable": .array([.string("source")]),
                ])
            }),
            "env": .array(env),
            "args": .object([
                "name": .string("args"),
                "description": .string("more serve flags, e.g. --log-level debug"),
                "settable": .array([.string("value")]),
                "value": .array([]),
            ]),
        ])
    }
}

/// One decimal, without Foundation.
/// `value` with `places` decimals (12.3 MB, 0.45 s, 2.07 ms), without Foundation's formatter.
func fixed(_ value: Double, _ places: Int) -> String {
    var scale = 1
    for _ in 0..<places { scale *= 10 }
    let scaled = Int((value * Double(scale)).rounded())
    let fraction = String(abs(scaled % scale))
    return "\(scaled / scale)." + String(repeating: "0", count: places - fraction.count) + fraction
}
