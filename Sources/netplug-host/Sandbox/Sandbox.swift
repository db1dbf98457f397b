import CSpawn
import NetplugCore
import NetplugServer
#if canImport(Glibc)
import Glibc
#endif

/// The inside half of the sandbox (or, with `--on-host`, the machine itself): the namespace
/// hooks run in (the "host"), the simulated containers' namespaces, and the programs that play
/// Docker's side in them (`ip`, `nsenter`, `ping`).
final class Sandbox {
    /// The sandbox's folder (namespace files, the temporary state folder); nil on the host.
    let folder: String?
    let keep: Bool
    let ip: String
    let nsenter: String
    private(set) var containers: [Container] = []
    /// Containers made so far: names are never reused, also after one is removed.
    private var made = 0

    /// A simulated container: a network namespace held open by a process of ours.
    struct Container {
        var name: String
        var holder: pid_t
        /// Where Join is told the namespace will be (Docker's `SandboxKey`).
        var sandboxKey: String
        var namespace: String { "/proc/\(holder)/ns/net" }
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    var onHost: Bool { folder == nil }

    init(folder: String?, keep: Bool) throws {
        self.folder = folder
        self.keep = keep
        guard let ip = Shebang.onPath("ip").first else { throw Failure(description: "ip is not installed (Debian: iproute2); the sandbox needs it to play Docker's side") }
        guard let nsenter = Shebang.onPath("nsenter").first else { throw Failure(description: "nsenter is not installed (Debian: util-linux)") }
        self.ip = ip
        self.nsenter = nsenter
        if let folder {
            // The sandbox's host starts with nothing but loopback, up as on any machine.
            try run(ip, ["link", "set", "lo", "up"])
            mkdir(folder + "/ns", 0o755)
            // Processes hooks leave behind become ours (we are the PID namespace's first
            // process) and must be reaped.
            OrphanReaper.startIfPID1()
        }
    }

    /// The state folder the hooks get when none was given.
    var temporaryStateDir: String? { folder.map { $0 + "/state" } }

    /// A new container namespace, as Docker makes one per container; the namespace file at
    /// `sandboxKey` appears only after Join, as Docker's does.
    func makeContainer() throws -> Container {
        made += 1
        let name = "c\(made)"
        guard let unshare = Shebang.onPath("unshare").first, let sleep = Shebang.onPath("sleep").first else {
            throw Failure(description: "unshare and sleep are needed to make a container namespace (Debian: util-linux, coreutils)")
        }
        var pid: pid_t = 0
        let rc = withCStringArray([unshare, "--net", "--", sleep, "infinity"]) { argv in
            netplug_spawn_plain(unshare, argv, environ, -1, 1, &pid)
        }
        guard rc == 0 else { throw Failure(description: "cannot start a container namespace: \(errnoText(rc))") }
        // A moment after the start, the holder is in its new namespace (unshare makes it
        // before anything else); nothing can be moved there before that.
        let own = namespaceID("/proc/self/ns/net")
        for _ in 0..<2000 {
            if let id = namespaceID("/proc/\(pid)/ns/net"), id != own { break }
            usleep(1000)
        }
        let key = folder.map { "\($0)/ns/\(name)" } ?? "/var/run/docker/netns/" + String(randomHex(6))
        let container = Container(name: name, holder: pid, sandboxKey: key)
        containers.append(container)
        try run(nsenter, ["--net=\(container.namespace)", ip, "link", "set", "lo", "up"])
        return container
    }

    /// After Join, the namespace appears at the path Join was given (in the sandbox only: on
    /// the host the path is Docker's and nothing is made there).
    func publish(_ container: Container) {
        guard !onHost else { return }
        let fd = open(container.sandboxKey, O_CREAT | O_WRONLY, 0o644)
        if fd >= 0 { close(fd) }
        _ = HookRunner.runProgram("/bin/mount", ["--bind", container.namespace, container.sandboxKey], timeout: 10)
    }

    /// The container is gone, as when Docker removes a stopped container's sandbox (kept with --keep).
    func remove(_ container: Container) {
        guard !keep else { return }
        if !onHost { _ = HookRunner.runProgram("/bin/umount", [container.sandboxKey], timeout: 10) }
        kill(container.holder, SIGKILL)
        var status: Int32 = 0
        waitpid(container.holder, &status, 0)
        containers.removeAll { $0.holder == container.holder }
    }

    func removeAll() {
        for container in containers { remove(container) }
    }

    /// Runs `ip ARGS` in the host namespace, or in a container's.
    @discardableResult
    func ip(_ arguments: [String], in container: Container? = nil) throws -> String {
        if let container { return try run(nsenter, ["--net=\(container.namespace)", ip] + arguments) }
        return try run(ip, arguments)
    }

    /// `ip -j ...` parsed; an empty list where ip printed nothing.
    func ipJSON(_ arguments: [String], in container: Container? = nil) -> [JSON] {
        guard let text = try? ip(["-j"] + arguments, in: container), !text.trimmingCharacters().isEmpty,
              let parsed = try? JSON.parse(Array(text.utf8)) else { return [] }
        return parsed.elements
    }

    /// Ends the command with `code`. Without --keep every container goes (the sandbox itself
    /// goes when this process, the first of its PID namespace, exits). With --keep inside a
    /// sandbox, the launcher outside is told the code on fd 3, and this process stays, quietly,
    /// to hold the sandbox until it is killed.
    func finish(code: Int32) throws -> Never {
        fflush(nil)
        if keep, !onHost {
            var byte = UInt8(truncatingIfNeeded: code)
            _ = write(3, &byte, 1)
            close(3)
            let null = open("/dev/null", O_RDWR)
            for fd in Int32(0)...2 { dup2(null, fd) }
            while true { pause() }
        }
        removeAll()
        exit(code)
    }

    /// A program's stdout; a failure's message is its last stderr line.
    @discardableResult
    func run(_ program: String, _ arguments: [String]) throws -> String {
        let result = HookRunner.runProgram(program, arguments, timeout: 30)
        guard case .exited(0) = result.exit else {
            let line = String(decoding: result.stderr, as: UTF8.self).split(whereSeparator: \.isNewline).last.map(String.init)
            throw Failure(description: line ?? "\(baseName(program)) \(arguments.joined(separator: " ")): \(result.exit)")
        }
        return String(decoding: result.stdout, as: UTF8.self)
    }

    private func namespaceID(_ path: String) -> String? { try? RootfsBuilder.readLink(path) }
}

/// The last path component.
func baseName(_ path: String) -> String { path.split(separator: "/").last.map(String.init) ?? path }

func randomHex(_ bytes: Int) -> String {
    (0..<bytes).map { _ in
        let text = String(UInt8.random(in: 0...255), radix: 16)
        return text.count == 1 ? "0" + text : text
    }.joined()
}
