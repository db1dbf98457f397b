import ArgumentParser
import CSpawn
import NetplugCore
import NetplugServer
#if canImport(Glibc)
import Glibc
#endif

/// Where `call`, `exercise` and `replay` run hooks: a throwaway sandbox (the default) or the
/// machine itself (`--on-host`).
struct SandboxOptions: ParsableArguments {
    @Flag(help: "Run the hooks in this machine's own namespaces, as Docker's calls do, instead of a throwaway sandbox.")
    var onHost = false

    @Flag(help: "Leave the sandbox (namespaces and state folder) when done, and print how to enter it.")
    var keep = false

    /// Set by the launcher on the copy of the command it starts inside the namespaces: the
    /// sandbox's folder. Not for people.
    @Option(help: .hidden)
    var insideSandbox: String?

    /// The command runs here, in this process, rather than starting itself in a sandbox.
    var runsHere: Bool { onHost || insideSandbox != nil }
}

/// A command that runs hooks in the sandbox unless told `--on-host`.
protocol SandboxedCommand {
    var sandbox: SandboxOptions { get }
}

/// The outside half of the sandbox: starts this same command as the first process of new
/// namespaces, then waits for it (or for the user's Ctrl-C, which takes the sandbox down).
///
/// Inside: a new network namespace (the sandbox's host: only `lo`), a new mount namespace
/// (so namespace files and the fresh /proc stay private), and a new PID namespace whose first
/// process is the command itself, so every process a hook leaves behind dies with it. Not
/// root: a user namespace too, where the kernel allows one.
enum SandboxLauncher {
    /// Never returns: the exit status is the inside command's.
    static func run(purpose: String, keep: Bool, json: Bool, stateDir: String?) -> Never {
        var template = Array("/tmp/netplug-\(purpose)-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { fail("cannot make a temporary folder in /tmp: \(errnoText())") }
        let folder = String(cString: made)
        // Readable by the sandbox's root, which is another user when the sandbox has a user namespace.
        chmod(folder, 0o755)
        guard let executable = try? RootfsBuilder.readLink("/proc/self/exe") else { fail("cannot find this program's own file") }
        let signals = netplug_stop_signals_fd()

        // The inside command reports on fd 3 when it keeps the sandbox; end of file otherwise.
        var status: [Int32] = [-1, -1]
        guard netplug_pipe_cloexec(&status) == 0 else { fail("cannot make a pipe: \(errnoText())") }
        let arguments = [executable] + Array(CommandLine.arguments.dropFirst()) + ["--inside-sandbox", folder]
        // Root makes the namespaces directly; anyone else (or a root without the capability, in
        // a container) needs a user namespace, where the kernel allows them.
        var pid: pid_t = 0
        var rc: Int32 = EPERM
        var user = false
        for withUser in geteuid() == 0 ? [false, true] : [true] {
            user = withUser
            rc = withCStringArray(arguments) { argv in
                netplug_spawn_sandbox(executable, argv, environ, withUser ? 1 : 0, status[1], &pid)
            }
            if rc == 0 { break }
        }
        close(status[1])
        guard rc == 0 else {
            removeFolder(folder)
            refuse(errnoText(rc))
        }

        var fds = [pollfd(fd: status[0], events: Int16(POLLIN), revents: 0), pollfd(fd: signals, events: Int16(POLLIN), revents: 0)]
        while poll(&fds, nfds_t(fds.count), -1) < 0 && errno == EINTR {}
        if fds[0].revents == 0 && fds[1].revents != 0 {
            // Ctrl-C: the sandbox goes at once, with everything in it (killing the PID
            // namespace's first process kills every other one).
            kill(pid, SIGKILL)
            var ignored: Int32 = 0
            waitpid(pid, &ignored, 0)
            removeFolder(folder)
            exit(130)
        }
        var byte: UInt8 = 0
        if read(status[0], &byte, 1) == 1 {
            printKept(pid: pid, folder: folder, user: user, stateDir: stateDir ?? folder + "/state", toStderr: json)
            exit(Int32(byte))
        }
        var code: Int32 = 0
        while waitpid(pid, &code, 0) < 0 && errno == EINTR {}
        removeFolder(folder)
        if netplug_wifsignaled(code) != 0 { exit(128 + netplug_wtermsig(code)) }
        exit(netplug_wexitstatus(code))
    }

    /// No namespace can be made: say so, and name the way to run on the machine instead.
    static func refuse(_ reason: String) -> Never {
        printError("cannot make a sandbox (\(reason)); run as root, allow user namespaces, or pass --on-host to run the hooks on this machine")
        exit(2)
    }

    /// The sandbox's folder, once its namespaces are gone (its namespace files are plain
    /// files again outside the sandbox's private mounts).
    static func removeFolder(_ folder: String) {
        try? RootfsBuilder.removeTree(folder)
    }

    /// How to look inside a kept sandbox, and how to remove it.
    static func printKept(pid: pid_t, folder: String, user: Bool, stateDir: String, toStderr: Bool) {
        let enter = user ? "nsenter --preserve-credentials --user=/proc/\(pid)/ns/user " : "nsenter "
        var lines = ["sandbox kept: enter its host with: \(enter)--net=/proc/\(pid)/ns/net"]
        for name in FolderListing.fileNames(in: "/proc/\(pid)/root\(folder)/ns").sorted() {
            lines.append("  container \(name): \(enter)--net=/proc/\(pid)/root\(folder)/ns/\(name)")
        }
        lines.append("state folder: \(stateDir)")
        lines.append("remove it with: kill -KILL \(pid); rm -rf \(folder)")
        let text = lines.joined(separator: "\n") + "\n"
        _ = text.withCString { write(toStderr ? STDERR_FILENO : STDOUT_FILENO, $0, strlen($0)) }
    }
}
