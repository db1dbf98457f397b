import ArgumentParser
import NetplugCore
import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// `netplug-host`: serve a folder of hooks to Docker as a network (and IPAM) plugin.
struct NetplugHost: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "netplug-host",
        abstract: "Serve Docker's network-plugin protocol from a folder of executable hooks.",
        discussion: """
        Each call from Docker runs the hook named after its method (HOOKS/Join, HOOKS/CreateNetwork.sh, ...)
        with the request JSON on stdin; the hook prints the answer JSON on stdout.

        Example:
          netplug-host --hooks ./hooks --name mynet
          docker network create -d mynet mynetwork
        """,
        version: "netplug-host \(NetplugVersion.current)",
        subcommands: [Serve.self, Init.self, Check.self, CallCommand.self, Exercise.self, Replay.self, Status.self, ShowSchema.self, State.self, Bundle.self, Systemd.self],
        defaultSubcommand: Serve.self
    )
}

/// The entry point: usage errors are one line on stderr, never a stack trace or a usage dump.
@main
enum Entry {
    static func main() {
        // SIGCHLD stays blocked in every thread, so after the first hook it is simply pending
        // and each later exit costs nothing. An async main would park this thread in
        // sigsuspend with no signal blocked, and every hook's exit would wake it (and the
        // signalfd behind the SIGTERM source) for nothing. Hooks start with an empty mask.
        var blocked = sigset_t()
        sigemptyset(&blocked)
        sigaddset(&blocked, SIGCHLD)
        let command: ParsableCommand
        do {
            command = try NetplugHost.parseAsRoot()
        } catch {
            fail(with: error)
        }
        if command is Serve {
            // `serve` takes these through signal sources; blocked before any thread exists,
            // one that comes during start-up waits for them (see Serve.run).
            sigaddset(&blocked, SIGTERM)
            sigaddset(&blocked, SIGINT)
        } else if launchesSandbox(command) {
            // The launcher reads these through a signalfd to take the sandbox down with it.
            sigaddset(&blocked, SIGTERM)
            sigaddset(&blocked, SIGINT)
            sigaddset(&blocked, SIGHUP)
        }
        pthread_sigmask(SIG_BLOCK, &blocked, nil)
        let finished = DispatchSemaphore(value: 0)
        Task.detached {
            await run(command)
            finished.signal()
        }
        finished.wait()
    }

    /// `call`, `exercise` or `replay` about to start itself in a sandbox.
    static func launchesSandbox(_ command: ParsableCommand) -> Bool {
        guard let sandboxed = command as? SandboxedCommand else { return false }
        return !sandboxed.sandbox.runsHere
    }

    static func run(_ parsed: ParsableCommand) async {
        var command = parsed
        do {
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            fail(with: error)
        }
    }

    static func fail(with error: Error) -> Never {
        let code = NetplugHost.exitCode(for: error)
        if code == .success {
            print(NetplugHost.fullMessage(for: error))
            exit(0)
        }
        let message = NetplugHost.message(for: error)
        if !message.isEmpty {
            let line = message.split(whereSeparator: \.isNewline).first.map(String.init) ?? message
            printError(line)
        }
        exit(code.rawValue)
    }
}
