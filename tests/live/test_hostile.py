"""Hooks that misbehave and requests that are wrong: every call answered, the host keeps serving."""
import os
import threading
import time

from conftest import EP, NET

JOIN = {"NetworkID": NET, "EndpointID": EP}


def still_serves(host):
    assert host.call("/Plugin.Activate").status == 200


def test_background_child_holding_stdout_does_not_hold_the_call(start, hooks, workdir):
    pidfile = os.path.join(workdir, "child.pid")
    gate = os.path.join(workdir, "gate")
    os.mkfifo(gate)
    # The child keeps the hook's stdout open until the test opens its FIFO.
    hooks.add("Join", f"cat >/dev/null; cat {gate} >/dev/null & echo $! > {pidfile}; echo '{{}}'\n")
    host = start("--timeout", "20")
    r = host.call("/NetworkDriver.Join", JOIN)
    assert (r.status, r.json) == (200, {})
    child = int(open(pidfile).read())
    assert _running(child), "the call was answered only once the child had gone"
    with open(gate, "w") as fifo:
        fifo.write("go\n")
    still_serves(host)


def _running(pid):
    try:
        return open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_timeout_kills_the_whole_group(start, hooks, workdir):
    pidfile = os.path.join(workdir, "child.pid")
    # The hook ignores SIGTERM, and so does its child: only the group SIGKILL ends them.
    hooks.add("Join", f"trap '' TERM; cat >/dev/null; sh -c \"trap '' TERM; sleep 60\" & echo $! > {pidfile}; wait\n")
    host = start("--timeout", "1")
    r = host.call("/NetworkDriver.Join", JOIN)
    assert r.err == "hook Join timed out after 1 s"
    pid = int(open(pidfile).read())
    deadline = time.time() + 3
    while time.time() < deadline:
        try:
            state = open(f"/proc/{pid}/stat").read().split(")")[1].split()[0]
        except FileNotFoundError:
            break
        if state == "Z":
            break
        time.sleep(0.05)
    else:
        raise AssertionError("the hook's child survived the timeout")
    still_serves(host)


def test_hook_that_never_reads_stdin(start, hooks):
    hooks.add("CreateNetwork", "echo '{}'\n")
    host = start()
    big = {"NetworkID": NET, "Options": {"blob": "x" * 900_000}}
    r = host.call("/NetworkDriver.CreateNetwork", big)
    assert (r.status, r.json) == (200, {})
    still_serves(host)


def test_non_executable_hook_at_run_time(start, hooks):
    host = start()
    hooks.answer("Join", {})
    os.chmod(os.path.join(hooks.path, "Join"), 0o644)
    r = host.call("/NetworkDriver.Join", JOIN)
    assert r.status == 500 and "hook Join is not executable" in r.err
    still_serves(host)


def test_missing_interpreter(start, hooks):
    hooks.add("Join", "echo hi\n", shell="#!/nonexistent/python9\n")
    r = start().call("/NetworkDriver.Join", JOIN)
    assert r.status == 500 and "hook Join could not be started" in r.err and "interpreter" in r.err


def test_two_hooks_claiming_a_method_at_run_time(start, hooks):
    host = start()
    hooks.answer("Join", {})
    hooks.answer("Join.sh", {})
    r = host.call("/NetworkDriver.Join", JOIN)
    assert r.status == 500 and "two hooks claim NetworkDriver.Join: Join and Join.sh" in r.err


def test_many_hostile_calls_at_once_are_all_answered(start, hooks):
    hooks.add("Join", "cat >/dev/null; sleep 30\n")
    hooks.add("Leave", "cat >/dev/null; head -c 3000000 /dev/zero\n")
    hooks.add("CreateEndpoint", "cat >/dev/null; kill -KILL $$\n")
    hooks.add("DeleteEndpoint", "cat >/dev/null; echo '{\"a\":1,\"a\":2}'\n")
    host = start("--timeout", "2")
    results = {}

    def go(i, method):
        body = {"NetworkID": f"net{i}", "EndpointID": f"ep{i}"}
        results[i] = (method, host.call("/NetworkDriver." + method, body, timeout=10))

    threads = [threading.Thread(target=go, args=(i, m)) for i, m in
               enumerate(["Join", "Leave", "CreateEndpoint", "DeleteEndpoint"] * 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()  # each call's client gives up after 10 s: a hung call leaves a result missing
    assert len(results) == 20
    for method, r in results.values():
        assert r.status == 500, (method, r)
    still_serves(host)


# Requests

def test_invalid_json_request_is_400_with_line_and_column(start, hooks, workdir):
    marker = os.path.join(workdir, "ran")
    hooks.add("CreateNetwork", f"touch {marker}\n")
    host = start()
    r = host.call("/NetworkDriver.CreateNetwork", body=b'{"NetworkID":\n "x",}')
    assert r.status == 400 and "line 2, column" in r.err, r
    r = host.call("/NetworkDriver.CreateNetwork", body=b'[1]')
    assert r.status == 400 and "must be an object" in r.err
    r = host.call("/NetworkDriver.CreateNetwork", body=b'{"NetworkID":"x"} {"NetworkID":"y"}')
    assert r.status == 400
    r = host.call("/NetworkDriver.CreateNetwork", body=b'{"NetworkID":"x","NetworkID":"y"}')
    assert r.status == 400 and "duplicate" in r.err
    assert not os.path.exists(marker)


def test_wrong_field_types_are_400(start, hooks, workdir):
    marker = os.path.join(workdir, "ran")
    hooks.add("CreateNetwork", f"touch {marker}\n")
    host = start()
    for body, where in [({"NetworkID": 5}, "NetworkID must be a string"),
                        ({"NetworkID": NET, "IPv4Data": {}}, "IPv4Data must be an array"),
                        ({"NetworkID": NET, "IPv4Data": [{"Pool": 7}]}, "IPv4Data[0].Pool"),
                        ({"NetworkID": NET, "Options": "x"}, "Options must be an object")]:
        r = host.call("/NetworkDriver.CreateNetwork", body)
        assert r.status == 400 and where in r.err, (body, r)
    assert not os.path.exists(marker)


def test_bad_ids_are_400_and_no_hook_runs(start, hooks, workdir):
    marker = os.path.join(workdir, "ran")
    hooks.add("Join", f"touch {marker}\n")
    host = start()
    for bad in ["", "../../etc", "a/b", "-rf", "x" * 129, "a b", "$(reboot)", "é"]:
        r = host.call("/NetworkDriver.Join", {"NetworkID": bad, "EndpointID": EP})
        assert r.status == 400 and "NetworkID" in r.err, (bad, r)
        r = host.call("/NetworkDriver.Join", {"NetworkID": NET, "EndpointID": bad})
        assert r.status == 400 and "EndpointID" in r.err, (bad, r)
    assert not os.path.exists(marker)


def test_two_mib_body_is_413(start):
    host = start()
    r = host.call("/NetworkDriver.CreateNetwork", body=b'{"NetworkID":"' + b"x" * (2 << 20) + b'"}')
    assert r.status == 413
    still_serves(host)


def test_unknown_and_climbing_paths_are_404(start, hooks, workdir):
    marker = os.path.join(workdir, "ran")
    hooks.add("Join", f"touch {marker}\n")
    host = start()
    for path in ["/NetworkDriver.Nope", "/Foo.Join", "/NetworkDriver.Join/../../../bin/sh", "/../hooks/Join",
                 "/NetworkDriver.join", "/Join", "/%2e%2e/Join", "/NetworkDriver.Join?x=1"]:
        r = host.call(path, {})
        assert r.status == 404 and r.err, (path, r)
    assert not os.path.exists(marker)


def test_malformed_http_does_not_hurt_others(start):
    host = start()
    s = host.connect(5)
    s.sendall(b"\x00\x01garbage that is not HTTP\r\n\r\n")
    try:
        data = s.recv(1024)
    except OSError:
        data = b""
    s.close()
    assert data == b"" or data.startswith(b"HTTP/1.1 400")
    still_serves(host)
