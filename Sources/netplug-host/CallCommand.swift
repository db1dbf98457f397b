import ArgumentParser
import NetplugCore
import NetplugServer
#if canImport(Glibc)
import Glibc
#endif

/// `netplug-host call METHOD --hooks DIR`: one call, exactly as the server would run it.
struct CallCommand: AsyncParsableCommand, SandboxedCommand {
    static let configuration = CommandConfiguration(
        commandName: "call",
        abstract: "Run one hook as the server would and print the answer Docker would get.",
        discussion: """
        Prints the HTTP status, then the answer. Exit status 0 only for a 200. Without --request,
        a realistic request shaped like Docker 20.10's is used (see netplug-host schema METHOD).

        The hook runs in a throwaway sandbox (a new network namespace, a temporary state folder
        unless --state-dir is given): whatever it makes is gone when the command ends. With
        --on-host it runs on this machine, as Docker's calls do, and keeps its records in
        --state-dir (default /var/lib/netplug/NAME).

        Examples:
          netplug-host call Join --hooks ./hooks
          echo '{"NetworkID": "n1"}' | netplug-host call CreateNetwork --hooks ./hooks --request -
        """
    )

    @Argument(help: "The method: Join, NetworkDriver.Join, ipam/RequestPool, ...")
    var method: String

    @OptionGroup var hookOptions: HookOptions
    @OptionGroup var plugin: PluginOptions
    @OptionGroup var sandbox: SandboxOptions

    @Option(help: ArgumentHelp("The request body: a file, or - for stdin.", valueName: "file"))
    var request: String?

    func validate() throws { _ = try findMethod(method) }

    func run() async throws {
        if !sandbox.runsHere {
            SandboxLauncher.run(purpose: "call", keep: sandbox.keep, json: false, stateDir: plugin.stateDir.map(absolute))
        }
        let method = try findMethod(method)
        let logger = bootstrapQuietLogging(level: .info)
        let place: Sandbox
        do { place = try Sandbox(folder: sandbox.insideSandbox, keep: sandbox.keep) } catch { throw ValidationError("\(error)") }
        // In the sandbox, records go to its temporary folder unless a folder was named.
        let state = absolute(sandbox.onHost ? plugin.resolvedStateDir : plugin.stateDir ?? place.temporaryStateDir!)
        let body: [UInt8]
        if let request {
            guard let bytes = readAll(request == "-" ? nil : request) else {
                throw ValidationError("--request \(request): cannot read it")
            }
            body = bytes
        } else {
            body = Samples.request(method).bytes
        }
        let (dispatcher, finish) = try hookOptions.dispatcher(name: plugin.name, stateDir: state, logger: logger)
        let answer = await dispatcher.handle(path: method.path, body: body)
        finish()
        print("\(answer.status) \(answer.body.text)")
        try place.finish(code: answer.status == 200 ? 0 : 1)
    }
}

/// A whole file (or stdin when nil).
func readAll(_ path: String?) -> [UInt8]? {
    guard let path else { return FileBytes.read(fd: 0) }
    return try? FileBytes.read(path)
}
