import CSpawn
import Dispatch
import Logging
@testable import NetplugCore
@testable import NetplugServer
import Synchronization
import XCTest

/// A resident hook served without a waiting thread, and the staged stop every child gets. The
/// processes are real (`/bin/sh`); the waits are for their answers and exits, each bounded only
/// so that a broken build cannot hang the suite.
final class ResidentAndTeardownTests: XCTestCase {
    var folder = ""

    override func setUp() {
        var template = Array("/tmp/np-swift-XXXXXX".utf8CString)
        folder = String(cString: mkdtemp(&template)!)
        chmod(folder, 0o755)
    }

    override func tearDown() {
        _ = HookRunner.runProgram("/bin/rm", ["-rf", folder])
    }

    func write(_ name: String, _ text: String) {
        let path = folder + "/" + name
        let fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0o755)
        _ = text.withCString { Glibc.write(fd, $0, strlen($0)) }
        Glibc.close(fd)
        chmod(path, 0o755)
    }

    func driver() -> HookDriver {
        let hooks = HookFolder(root: folder, allowInsecure: false)
        return HookDriver(settings: HookDriverSettings(hooks: hooks, name: "t", stateDir: folder + "/state", timeout: 30),
                          logger: Logger(label: "test"))
    }

    func call(_ method: String, _ body: String) -> Call {
        guard case .success(let call, _) = Dispatcher.check(method: Methods.named(method)!, body: Array(body.utf8)) else {
            fatalError("a bad request in the test")
        }
        return call
    }

    /// A resident hook in sh: ready, then one answer per call line, with the call's id.
    let residentScript = """
        #!/bin/sh
        echo '{"netplug": 1}'
        while read -r line; do
            id=$(printf '%s' "$line" | sed 's/.*"id": *\\([0-9]*\\).*/\\1/')
            echo "{\\"id\\": $id, \\"answer\\": {\\"Value\\": {\\"seen\\": \\"$id\\"}}}"
        done

        """

    func testAnIdleInstanceAnswersWithoutAWaitingThread() throws {
        write("resident.sh", residentScript)
        let driver = driver()
        try Records(stateDir: folder + "/state").prepare()
        XCTAssertNil(driver.startResidents())
        defer { _ = driver.stopResidents() }
        let info = call("NetworkDriver.EndpointOperInfo", #"{"NetworkID":"n1","EndpointID":"e1"}"#)
        for expected in 1...3 {
            let answered = DispatchSemaphore(value: 0)
            let served = Mutex<Served?>(nil)
            let begun = driver.startWithoutBlocking(info) { result in
                served.withLock { $0 = result }
                answered.signal()
            }
            XCTAssertTrue(begun, "an idle instance takes the call at once")
            XCTAssertEqual(answered.wait(timeout: .now() + 30), .success)
            let answer = served.withLock { $0 }!.answer
            XCTAssertEqual(answer.status, 200)
            XCTAssertEqual(answer.body.text, #"{"Value":{"seen":"\#(expected)"}}"#)
        }
        // A call whose answer changes a record goes the waiting way (its fsync blocks).
        XCTAssertFalse(driver.startWithoutBlocking(call("NetworkDriver.CreateNetwork", #"{"NetworkID":"n1"}"#)) { _ in })
    }

    func testACallThatFindsNoIdleInstanceGoesTheWaitingWay() throws {
        write("EndpointOperInfo.sh", "#!/bin/sh\ncat >/dev/null\necho '{}'\n")
        let driver = driver()
        // No resident hook: a hook file serves the method, which always needs a worker.
        XCTAssertFalse(driver.startWithoutBlocking(call("NetworkDriver.EndpointOperInfo", #"{"NetworkID":"n1","EndpointID":"e1"}"#)) { _ in })
    }

    /// Starts `script` under /bin/sh in its own process group, stdin kept open.
    func spawn(_ script: String) -> netplug_child {
        var child = netplug_child()
        let rc = withCStringArray(["/bin/sh", "-c", script]) { argv in
            HookEnvironment(base: CStrings.environment()).withPointers { envp in
                netplug_spawn_resident("/bin/sh", argv, envp, folder, &child)
            }
        }
        XCTAssertEqual(rc, 0)
        return child
    }

    func closeAll(_ child: netplug_child) {
        for fd in [child.stdout_fd, child.stderr_fd, child.pid_fd] where fd >= 0 { Glibc.close(fd) }
    }

    func testEndOfInputIsEnoughForAProcessThatLeavesOnIt() {
        let child = spawn("cat >/dev/null")
        var status: Int32? = nil
        var steps: [String] = []
        Teardown.run([.closeInput, .terminate, .kill], pid: child.pid, pidFD: child.pid_fd, status: &status, grace: 30) {
            steps.append("close")
            Glibc.close(child.stdin_fd)
        }
        var code: Int32 = 0
        if status == nil { waitpid(child.pid, &code, 0) } else { code = status! }
        XCTAssertEqual(steps, ["close"])
        XCTAssertEqual(netplug_wifexited(code), 1, "it left by itself at end of file: no signal was needed")
        XCTAssertEqual(netplug_wexitstatus(code), 0)
        closeAll(child)
    }

    func testAProcessThatIgnoresEndOfInputAndSIGTERMGetsSIGKILL() {
        // It says when its trap is set (a line on stdout), so the stop begins only then.
        let child = spawn("trap '' TERM; echo armed; while :; do read -r x || sleep 1; done")
        var byte: UInt8 = 0
        var ready = pollfd(fd: child.stdout_fd, events: Int16(POLLIN), revents: 0)
        XCTAssertEqual(poll(&ready, 1, 30_000), 1)
        XCTAssertEqual(read(child.stdout_fd, &byte, 1), 1)
        var status: Int32? = nil
        Teardown.run([.closeInput, .terminate, .kill], pid: child.pid, pidFD: child.pid_fd, status: &status, grace: 0.05) {
            Glibc.close(child.stdin_fd)
        }
        var code: Int32 = 0
        if status == nil { waitpid(child.pid, &code, 0) } else { code = status! }
        XCTAssertEqual(netplug_wifsignaled(code), 1)
        XCTAssertEqual(netplug_wtermsig(code), SIGKILL)
        closeAll(child)
    }
}
