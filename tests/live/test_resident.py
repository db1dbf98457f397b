"""Resident hooks against the real binary: one long-lived process answers many calls over
JSON Lines, and every way it can fail is answered without harming later calls."""
import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from conftest import BINARY, EP, NET, ROOT, run_host

PYTHON_DIR = os.path.join(ROOT, "python")
NET2 = "c" * 64

PREAMBLE = f"""#!{sys.executable}
import json, os, signal, sys, time
sys.path.insert(0, {PYTHON_DIR!r})
import netplug
STATE = os.environ["NETPLUG_STATE_DIR"]

def mark(name, text=""):
    with open(os.path.join(STATE, name), "a") as f:
        f.write(text + "\\n")

def gate(name):
    mark(name + ".arrived")
    with open(os.path.join(STATE, name + ".fifo")) as fifo:
        fifo.read()

def raw_calls():
    for line in sys.stdin:
        yield json.loads(line)

def send(obj):
    sys.stdout.write(json.dumps(obj) + "\\n")
    sys.stdout.flush()

mark("starts", str(os.getpid()))
"""


def resident(hooks, body, name="resident.py"):
    return hooks.add(name, PREAMBLE + body, shell="")


def wait_for(predicate, what, timeout=30):
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, f"never happened: {what}"
        time.sleep(0.01)


def alive(pid):
    """Running, not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):  # gone before, or while, it was read
        return False


def state_file(host, name):
    return os.path.join(host.state, name)


def read_lines(host, name):
    """The lines a resident marked in a state folder (a host's, or a path)."""
    folder = host if isinstance(host, str) else host.state
    try:
        with open(os.path.join(folder, name)) as f:
            return [line for line in f.read().splitlines() if line]
    except FileNotFoundError:
        return []


def make_gate(host, name):
    os.mkfifo(state_file(host, name + ".fifo"))


def open_gate(host, name):
    with open(state_file(host, name + ".fifo"), "w") as fifo:
        fifo.write("go")


def in_background(fn):
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("reply", fn()))
    thread.start()
    return thread, result


def info(host, network=NET):
    reply = host.call("/NetworkDriver.EndpointOperInfo", {"NetworkID": network, "EndpointID": EP})
    assert reply.status == 200, reply
    return reply.json["Value"]


SERVES_INFO = """
def info(request, env):
    return {"Value": {"pid": os.getpid()}}
"""


def test_one_process_answers_many_calls_with_the_hooks_environment(hooks, start):
    hooks.add("Join.sh", "cat >/dev/null; echo '{\"DisableGatewayService\": true}'")
    resident(hooks, """
print("loading the driver", file=sys.stderr, flush=True)
started = {"argv": sys.argv, "cwd": os.getcwd(), "pgid": os.getpgid(0), "pid": os.getpid(),
           "env": {k: v for k, v in os.environ.items() if k.startswith("NETPLUG_")}}

def create(request, env):
    print("creating " + request["NetworkID"][:4], file=sys.stderr, flush=True)
    return {}

def info(request, env):
    return {"Value": {"pid": os.getpid(), "env": env, "request": request, "started": started}}

def refuse(request, env):
    raise netplug.Error("no endpoints here: " + request["EndpointID"][:4])

netplug.serve({"CreateNetwork": create, "EndpointOperInfo": info, "CreateEndpoint": refuse})
""")
    host = start("--name", "resi")
    created = host.call("/NetworkDriver.CreateNetwork", {"NetworkID": NET, "Options": {}})
    assert (created.status, created.json) == (200, {})
    first, second = info(host), info(host)
    assert first["pid"] == second["pid"], "one instance by default sees every call"

    env = first["env"]
    assert env["NETPLUG_METHOD"] == "NetworkDriver.EndpointOperInfo"
    assert env["NETPLUG_NETWORK_ID"] == NET and env["NETPLUG_ENDPOINT_ID"] == EP
    assert env["NETPLUG_NETWORK_FILE"] == os.path.join(host.state, "networks", NET + ".json")
    assert os.path.exists(env["NETPLUG_NETWORK_FILE"]), "the record CreateNetwork left"
    assert first["request"] == {"NetworkID": NET, "EndpointID": EP}

    started = first["started"]
    assert started["argv"][1:] == ["resident"]
    assert started["cwd"] == hooks.path
    assert started["pgid"] == started["pid"], "its own process group"
    assert started["env"]["NETPLUG_RESIDENT"] == "1"
    assert started["env"]["NETPLUG_PLUGIN"] == "resi" and started["env"]["NETPLUG_STATE_DIR"] == host.state
    assert "NETPLUG_METHOD" not in started["env"]

    join = host.call("/NetworkDriver.Join", {"NetworkID": NET, "EndpointID": EP, "SandboxKey": "/x"})
    assert join.json == {"DisableGatewayService": True}, "a method's own hook file wins"
    refused = host.call("/NetworkDriver.CreateEndpoint", {"NetworkID": NET, "EndpointID": EP, "Interface": {}})
    assert (refused.status, refused.err) == (500, "no endpoints here: bbbb")
    caps = host.call("/NetworkDriver.GetCapabilities")
    assert caps.json == {"Scope": "local", "ConnectivityScope": "local"}, "no handler: the default"

    log = host.read_log()
    assert "hooks.resident=resident.py" in log
    assert any("creating aaaa" in line and "hook=resident.py" in line and "hook.stream=stderr" in line
               for line in log.splitlines()), log
    assert any("loading the driver" in line and "call.method=resident" in line for line in log.splitlines()), log


def test_answers_follow_the_hook_rules_and_ids_increase(hooks, start):
    resident(hooks, """
send({"netplug": 1})
for call in raw_calls():
    mark("ids", str(call["id"]))
    method = call["method"].split(".")[1]
    if method == "CreateEndpoint":
        send({"id": call["id"], "answer": {"Interface": {"Address": "10.0.0.1"}}})
    elif method == "Join":
        send({"id": call["id"], "answer": {"Err": "join refused by the driver"}})
    elif method == "Leave":
        send({"id": call["id"], "error": "leave refused by the driver"})
    elif method == "EndpointOperInfo":
        send({"id": call["id"], "answer": [1, 2]})
    else:
        send({"id": call["id"]})
""")
    host = start()
    bad = host.call("/NetworkDriver.CreateEndpoint", {"NetworkID": NET, "EndpointID": EP, "Interface": {}})
    assert bad.status == 500 and "resident.py answered badly" in bad.err and "Interface.Address" in bad.err, bad
    join = host.call("/NetworkDriver.Join", {"NetworkID": NET, "EndpointID": EP, "SandboxKey": "/x"})
    assert (join.status, join.err) == (500, "join refused by the driver")
    leave = host.call("/NetworkDriver.Leave", {"NetworkID": NET, "EndpointID": EP})
    assert (leave.status, leave.err) == (500, "leave refused by the driver")
    array = host.call("/NetworkDriver.EndpointOperInfo", {"NetworkID": NET, "EndpointID": EP})
    assert array.status == 500 and "must be a JSON object" in array.err, array
    caps = host.call("/NetworkDriver.GetCapabilities")
    assert caps.json == {"Scope": "local", "ConnectivityScope": "local"}, "the default, without GwAllocChecker"
    deleted = host.call("/NetworkDriver.DeleteEndpoint", {"NetworkID": NET, "EndpointID": EP})
    assert (deleted.status, deleted.json) == (200, {})
    ids = [int(i) for i in read_lines(host, "ids")]
    assert len(ids) == 6 and ids == sorted(set(ids)), ids


@pytest.mark.parametrize("body, args, expected", [
    ('print("cannot import pyroute2", file=sys.stderr)\nsys.exit(3)\n', [],
     ["exited with status 3 before it was ready", "cannot import pyroute2"]),
    ('print("speaking another protocol", file=sys.stderr)\nprint("hello, not the ready line")\nsys.stdout.flush()\nsys.stdin.read()\n', [],
     ['its first line must be {"netplug": 1}', "hello, not the ready line", "stderr: speaking another protocol"]),
    ('print("still loading", file=sys.stderr, flush=True)\nsys.stdin.read()\n', ["--timeout", "1"],
     ["was not ready within 1 s", "still loading"]),
], ids=["exits", "wrong-first-line", "never-ready"])
def test_serve_refuses_to_start_without_a_ready_instance(hooks, workdir, body, args, expected):
    resident(hooks, body)
    sock = os.path.join(workdir, "p.sock")
    result = run_host("--hooks", hooks.path, "--socket", sock, "--state-dir", os.path.join(workdir, "state"), *args)
    assert result.returncode == 1, result
    for text in expected:
        assert text in result.stderr, result.stderr
    assert "stderr:" in result.stderr, "the instance's last stderr lines are printed"
    assert not os.path.exists(sock), "it never listened"
    pids = read_lines(os.path.join(workdir, "state"), "starts")
    assert pids and not any(alive(int(p)) for p in pids), "no instance is left running"


@pytest.mark.parametrize("crash, expected", [
    ('print("lost the netlink socket", file=sys.stderr, flush=True)\n        os._exit(3)',
     "resident hook resident.py exited with status 3 during the call: lost the netlink socket"),
    ("os.kill(os.getpid(), signal.SIGKILL)", "resident hook resident.py was killed by signal 9 during the call"),
], ids=["exit", "signal"])
def test_an_instance_that_dies_in_a_call_is_replaced(hooks, start, crash, expected):
    resident(hooks, SERVES_INFO + f"""
def join(request, env):
        {crash}

netplug.serve({{"EndpointOperInfo": info, "Join": join}})
""")
    host = start()
    before = info(host)["pid"]
    died = host.call("/NetworkDriver.Join", {"NetworkID": NET, "EndpointID": EP, "SandboxKey": "/x"})
    assert died.status == 500 and died.err.startswith(expected), died
    after = info(host)["pid"]
    assert after != before and not alive(before)


def test_a_call_past_the_timeout_is_answered_and_the_instance_stopped(hooks, start):
    resident(hooks, SERVES_INFO + """
def on_term(signum, frame):
    mark("term")  # and keep running: SIGKILL must follow

def join(request, env):
    signal.signal(signal.SIGTERM, on_term)
    mark("join")
    while True:
        time.sleep(60)

netplug.serve({"EndpointOperInfo": info, "Join": join})
""")
    host = start("--timeout", "1")
    before = info(host)["pid"]
    hung = host.call("/NetworkDriver.Join", {"NetworkID": NET, "EndpointID": EP, "SandboxKey": "/x"})
    assert (hung.status, hung.err) == (500, "resident hook resident.py timed out after 1 s")
    wait_for(lambda: os.path.exists(state_file(host, "term")), "SIGTERM reached the instance")
    wait_for(lambda: not alive(before), "SIGKILL ended the instance that ignored SIGTERM")
    assert info(host)["pid"] != before


@pytest.mark.parametrize("reply, expected", [
    ('sys.stdout.write("this is not json\\n")', 'wrote "this is not json", which is not a JSON object'),
    ('sys.stdout.write("[1, 2]\\n")', 'wrote "[1, 2]", which is not a JSON object'),
    ('send({"id": 999, "answer": {}})', "with id 999"),
    ('sys.stdout.write("x" * (5 << 20) + "\\n")', "wrote a line over 1 MiB"),
], ids=["not-json", "not-an-object", "wrong-id", "5-mib-line"])
def test_a_line_that_breaks_the_protocol_stops_the_instance(hooks, start, reply, expected):
    resident(hooks, f"""
send({{"netplug": 1}})
for call in raw_calls():
    if call["method"].endswith(".Join"):
        {reply}
        sys.stdout.flush()
    else:
        send({{"id": call["id"], "answer": {{"Value": {{"pid": os.getpid()}}}}}})
""")
    host = start()
    before = info(host)["pid"]
    broken = host.call("/NetworkDriver.Join", {"NetworkID": NET, "EndpointID": EP, "SandboxKey": "/x"})
    assert broken.status == 500 and expected in broken.err and "resident.py" in broken.err, broken
    wait_for(lambda: not alive(before), "the instance was killed")
    assert info(host)["pid"] != before


def test_a_crash_loop_gets_clear_errors_and_does_not_spin(hooks, start):
    hooks.add("Leave.sh", "cat >/dev/null")
    resident(hooks, SERVES_INFO + """
if len(open(os.path.join(STATE, "starts")).read().split()) > 1:
    print("broken configuration: /etc/thing is missing", file=sys.stderr)
    sys.exit(2)

def join(request, env):
    os._exit(3)

netplug.serve({"EndpointOperInfo": info, "Join": join})
""")
    host = start()
    host.call("/NetworkDriver.Join", {"NetworkID": NET, "EndpointID": EP, "SandboxKey": "/x"})
    for _ in range(3):
        failed = host.call("/NetworkDriver.EndpointOperInfo", {"NetworkID": NET, "EndpointID": EP})
        assert failed.status == 500, failed
        assert "exited with status 2 before it was ready: broken configuration: /etc/thing is missing" in failed.err
    leave = host.call("/NetworkDriver.Leave", {"NetworkID": NET, "EndpointID": EP})
    assert leave.status == 200, "methods with hook files are still served"
    assert len(read_lines(host, "starts")) == 4, "one start at start-up, then one for each call, no more"
    assert host.proc.poll() is None


def test_a_changed_file_gets_new_instances_while_the_old_one_finishes(hooks, start):
    version = """
VERSION = {v}
def info(request, env):
    if VERSION == 1 and request["NetworkID"].startswith("a"):
        gate("held")
    mark("answered", "%d %s" % (VERSION, request["NetworkID"][:1]))
    return {{"Value": {{"version": VERSION, "pid": os.getpid()}}}}

netplug.serve({{"EndpointOperInfo": info}})
mark("eof", str(VERSION))
"""
    resident(hooks, version.format(v=1))
    host = start()
    make_gate(host, "held")
    thread, held = in_background(lambda: info(host, NET))
    wait_for(lambda: os.path.exists(state_file(host, "held.arrived")), "the call reached version 1")

    replacement = os.path.join(hooks.path, ".resident.new")
    with open(replacement, "w") as f:
        f.write(PREAMBLE + version.format(v=2))
    os.chmod(replacement, 0o755)
    os.rename(replacement, os.path.join(hooks.path, "resident.py"))

    assert info(host, NET2)["version"] == 2, "the next call goes to the new file at once"
    open_gate(host, "held")
    thread.join(30)
    assert held["reply"]["version"] == 1, "the call in flight is answered by the old instance"
    wait_for(lambda: read_lines(host, "eof") == ["1"], "the old instance got end of file")
    assert info(host, NET)["version"] == 2
    assert sorted(read_lines(host, "answered")) == ["1 a", "2 a", "2 c"], "no call lost or answered twice"


def test_a_bad_new_file_fails_calls_and_the_old_instance_is_not_used(hooks, start):
    resident(hooks, SERVES_INFO + 'netplug.serve({"EndpointOperInfo": info})\n')
    host = start()
    old = info(host)["pid"]
    resident(hooks, 'print("syntax error in the new version", file=sys.stderr)\nsys.exit(1)\n')
    failed = host.call("/NetworkDriver.EndpointOperInfo", {"NetworkID": NET, "EndpointID": EP})
    assert failed.status == 500 and "syntax error in the new version" in failed.err, failed
    wait_for(lambda: not alive(old), "the old instance was stopped")


def test_removing_the_file_falls_back_to_defaults_and_stops_its_instances(hooks, start):
    resident(hooks, """
def info(request, env):
    return {"Value": {"pid": os.getpid()}}
netplug.serve({"EndpointOperInfo": info})
""")
    host = start()
    pid = info(host)["pid"]
    hooks.remove("resident.py")
    assert info(host) == {}, "the default answer"
    wait_for(lambda: not alive(pid), "its instance was stopped")


def test_two_instances_serve_two_networks_at_once(hooks, start):
    resident(hooks, """
def info(request, env):
    gate(request["NetworkID"][:1])
    return {"Value": {"pid": os.getpid()}}
netplug.serve({"EndpointOperInfo": info})
""")
    host = start("--resident-instances", "2")
    make_gate(host, "a")
    make_gate(host, "c")
    first, a = in_background(lambda: info(host, NET))
    second, c = in_background(lambda: info(host, NET2))
    wait_for(lambda: os.path.exists(state_file(host, "a.arrived")) and os.path.exists(state_file(host, "c.arrived")),
             "both calls in their instances at once")
    open_gate(host, "a")
    open_gate(host, "c")
    first.join(30)
    second.join(30)
    assert a["reply"]["pid"] != c["reply"]["pid"]
    assert len(read_lines(host, "starts")) == 2, "the second instance started when a call needed it"


def test_stop_answers_calls_in_flight_then_stops_every_instance(hooks, start):
    resident(hooks, """
def info(request, env):
    gate("held")
    return {"Value": {"pid": os.getpid()}}
netplug.serve({"EndpointOperInfo": info})
""")
    host = start()
    make_gate(host, "held")
    thread, held = in_background(lambda: info(host))
    wait_for(lambda: os.path.exists(state_file(host, "held.arrived")), "the call reached the instance")
    host.proc.send_signal(signal.SIGTERM)
    wait_for(lambda: "stopping" in host.read_log(), "the host began to stop")
    open_gate(host, "held")
    thread.join(30)
    pid = held["reply"]["pid"]
    assert host.proc.wait(30) == 0
    assert not alive(pid), "no instance is left running"


def test_an_instance_a_killed_host_left_is_stopped_by_the_next_host(hooks, start):
    resident(hooks, """
def info(request, env):
    return {"Value": {"pid": os.getpid()}}
netplug.serve({"EndpointOperInfo": info})
while True:  # a driver that does not leave at end of file
    time.sleep(60)
""")
    host = start()
    pid = info(host)["pid"]
    host.stop(signal.SIGKILL)
    assert alive(pid), "the scenario: the instance outlived its host"
    again = start()
    wait_for(lambda: not alive(pid), "the next host stopped it")
    assert f"process group {pid}" in again.read_log()
    assert info(again)["pid"] != pid


def test_call_check_and_exercise_use_the_resident_hook(hooks, workdir):
    resident(hooks, """
def info(request, env):
    mark("pids", str(os.getpid()))
    return {"Value": {"pid": os.getpid()}}
netplug.serve({"EndpointOperInfo": info})
""")
    state = os.path.join(workdir, "state")
    check = run_host("check", "--hooks", hooks.path)
    assert check.returncode == 0 and "resident: resident.py answers every NetworkDriver method" in check.stdout, check
    # On the host, so that the instances' process ids are this machine's.
    called = run_host("call", "EndpointOperInfo", "--on-host", "--hooks", hooks.path, "--state-dir", state)
    assert called.returncode == 0 and called.stdout.startswith("200 "), called
    pid = json.loads(called.stdout.split(" ", 1)[1])["Value"]["pid"]
    assert not alive(pid), "call stops the instance it started"
    exercised = run_host("exercise", "--on-host", "--hooks", hooks.path, "--state-dir", state)
    assert "all 16 steps answered" in exercised.stdout, exercised.stdout + exercised.stderr
    pids = read_lines(state, "pids")
    assert len(pids) == 3 and not any(alive(int(p)) for p in pids)


def test_two_resident_files_are_refused(hooks, workdir):
    resident(hooks, 'netplug.serve({})\n')
    resident(hooks, 'netplug.serve({})\n', name="resident.sh")
    result = run_host("--hooks", hooks.path, "--socket", os.path.join(workdir, "p.sock"))
    assert result.returncode == 1
    assert "two hooks claim the NetworkDriver resident hook: resident.py and resident.sh; remove one" in result.stderr


@pytest.mark.parametrize("value", ["0", "65", "two"])
def test_resident_instances_flag_is_checked(hooks, value):
    result = run_host("--hooks", hooks.path, "--resident-instances", value)
    assert result.returncode != 0
    assert "--resident-instances" in result.stderr and len(result.stderr.strip().splitlines()) <= 3, result.stderr


def test_init_resident_makes_a_driver_that_passes_exercise(workdir):
    folder = os.path.join(workdir, "made")
    made = run_host("init", folder, "--lang", "python", "--resident", "--ipam")
    assert made.returncode == 0, made.stderr
    assert sorted(os.listdir(folder)) == ["ipam", "lib", "resident.py"]
    with open(os.path.join(folder, "lib", "netplug.py")) as f, open(os.path.join(PYTHON_DIR, "netplug.py")) as g:
        assert f.read() == g.read(), "the module init writes is the project's"
    check = run_host("check", "--hooks", folder)
    assert check.returncode == 0 and "0 hook(s)" in check.stdout and "default:" not in check.stdout, check.stdout
    exercised = run_host("exercise", "--hooks", folder, "--ipam", timeout=60)
    assert "FAILED: all 30 steps answered, 2 with a warning, 4 of 4 pings failed" in exercised.stdout, exercised.stdout + exercised.stderr
    refused = run_host("init", os.path.join(workdir, "sh"), "--resident")
    assert refused.returncode != 0 and "--resident: resident hooks are made in Python; add --lang python" in refused.stderr


def test_calls_waiting_for_a_busy_instance_each_get_their_own_answer(hooks, start):
    resident(hooks, """
def info(request, env):
    if request["NetworkID"].startswith("a"):
        gate("held")
    mark("served", request["NetworkID"][:1])
    return {"Value": {"network": request["NetworkID"], "method": env["NETPLUG_METHOD"]}}
netplug.serve({"EndpointOperInfo": info})
""")
    host = start()
    make_gate(host, "held")
    networks = [NET] + [letter * 64 for letter in "cdef"]
    threads = [in_background(lambda n=n: info(host, n)) for n in networks[:1]]
    wait_for(lambda: os.path.exists(state_file(host, "held.arrived")), "the first call holds the one instance")
    threads += [in_background(lambda n=n: info(host, n)) for n in networks[1:]]
    open_gate(host, "held")
    for (thread, result), network in zip(threads, networks):
        thread.join(30)
        assert result["reply"] == {"network": network, "method": "NetworkDriver.EndpointOperInfo"}
    assert sorted(read_lines(host, "served")) == sorted(n[0] for n in networks), "each call answered once"
