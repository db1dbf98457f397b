"""Sections 2, 3, 5 and 6 over the real socket: paths, defaults, how hooks are run."""
import json
import os
import time

from conftest import EP, NET

CONTENT_TYPE = "application/vnd.docker.plugins.v1.1+json"


def test_activate_lists_network_driver_and_ipam_when_the_folder_exists(start, hooks):
    host = start()
    r = host.call("/Plugin.Activate")
    assert (r.status, r.json) == (200, {"Implements": ["NetworkDriver"]})
    assert r.headers["Content-Type"] == CONTENT_TYPE
    os.makedirs(os.path.join(hooks.path, "ipam"), mode=0o755)
    assert host.call("/Plugin.Activate").json == {"Implements": ["NetworkDriver", "IpamDriver"]}


def test_go_helper_capabilities_hook_local_and_global(start, hooks):
    hooks.answer("GetCapabilities.sh", {"Scope": "local", "ConnectivityScope": "global"})
    r = start().call("/NetworkDriver.GetCapabilities", body=b"")
    assert (r.status, r.json) == (200, {"Scope": "local", "ConnectivityScope": "global"})


def test_go_helper_create_network_answers_empty_object(start, hooks):
    hooks.answer("CreateNetwork", {})
    r = start().call("/NetworkDriver.CreateNetwork", {"NetworkID": NET, "Options": {}, "IPv4Data": [], "IPv6Data": []})
    assert (r.status, r.json) == (200, {})


def test_go_helper_failing_create_network_reaches_client_verbatim(start, hooks):
    hooks.add("CreateNetwork", "cat >/dev/null\necho 'The network \"blue\" needs option vlan=1..4094' >&2\nexit 1\n")
    r = start().call("/NetworkDriver.CreateNetwork", {"NetworkID": NET})
    assert r.status == 500
    assert r.json == {"Err": 'The network "blue" needs option vlan=1..4094'}


def test_go_helper_exposed_ports_reach_the_hook_intact(start, hooks, workdir):
    seen = os.path.join(workdir, "seen.json")
    hooks.add("ProgramExternalConnectivity", f"cat > {seen}\n")
    body = (b'{"NetworkID":"' + NET.encode() + b'","EndpointID":"' + EP.encode() + b'",'
            b'"Options":{"com.docker.network.endpoint.exposedports":[{"Proto":6,"Port":70}],'
            b'"com.docker.network.portmap":[{"Proto":6,"IP":"","Port":70,"HostIP":"","HostPort":7000,"HostPortEnd":7000}]}}')
    r = start().call("/NetworkDriver.ProgramExternalConnectivity", body=body)
    assert (r.status, r.json) == (200, {})
    with open(seen, "rb") as f:
        assert f.read() == body
    opts = json.loads(body)["Options"]
    assert opts["com.docker.network.endpoint.exposedports"] == [{"Proto": 6, "Port": 70}]


def test_defaults_when_no_hook(start):
    host = start("--scope", "global")
    expect = {
        "GetCapabilities": {"Scope": "global", "ConnectivityScope": "global"},
        "GwAllocCheck": {"SkipIPv4": False, "SkipIPv6": False},
        "EndpointOperInfo": {"Value": {}},
        "AllocateNetwork": {"Options": {}},
    }
    for name in ["CreateNetwork", "DeleteNetwork", "FreeNetwork", "CreateEndpoint", "DeleteEndpoint", "Join", "Leave",
                 "DiscoverNew", "DiscoverDelete", "ProgramExternalConnectivity", "RevokeExternalConnectivity"]:
        expect[name] = {}
    for name, answer in expect.items():
        body = {"NetworkID": NET, "EndpointID": EP} if name not in ("GetCapabilities", "GwAllocCheck", "DiscoverNew", "DiscoverDelete") else None
        r = host.call("/NetworkDriver." + name, body=body)
        assert (name, r.status, r.json) == (name, 200, answer)


def test_capabilities_default_advertises_gw_alloc_checker_when_hooked(start, hooks):
    host = start()
    hooks.answer("GwAllocCheck", {"SkipIPv4": True, "SkipIPv6": False})
    assert host.call("/NetworkDriver.GetCapabilities").json == {"Scope": "local", "ConnectivityScope": "local", "GwAllocChecker": True}
    r = host.call("/NetworkDriver.GwAllocCheck", {"Options": {"a": "b"}})
    assert (r.status, r.json) == (200, {"SkipIPv4": True, "SkipIPv6": False})


def test_ipam_defaults_and_404_without_a_pool_hook(start, hooks):
    os.makedirs(os.path.join(hooks.path, "ipam"), mode=0o755)
    host = start()
    assert host.call("/IpamDriver.GetCapabilities").json == {"RequiresMACAddress": False}
    assert host.call("/IpamDriver.GetDefaultAddressSpaces").json == {
        "LocalDefaultAddressSpace": "LocalDefault", "GlobalDefaultAddressSpace": "GlobalDefault"}
    for name in ["RequestPool", "ReleasePool", "RequestAddress", "ReleaseAddress"]:
        r = host.call("/IpamDriver." + name, {})
        assert r.status == 404 and "ipam/" + name in r.err


def test_ipam_paths_are_unknown_without_the_ipam_folder(start):
    assert start().call("/IpamDriver.GetCapabilities").status == 404


def test_hook_gets_argv_cwd_environment_and_stdin(start, hooks, workdir):
    out = os.path.join(workdir, "out")
    hooks.add("Join.sh", f"""
{{ echo "argv1=$1"; echo "pwd=$(pwd)"; echo "method=$NETPLUG_METHOD"; echo "plugin=$NETPLUG_PLUGIN"
   echo "state=$NETPLUG_STATE_DIR"; echo "net=$NETPLUG_NETWORK_ID"; echo "ep=$NETPLUG_ENDPOINT_ID"; echo "path=$PATH"
   echo "sigblk=$(grep SigBlk /proc/$$/status | cut -f2)"; echo "sigign=$(grep SigIgn /proc/$$/status | cut -f2)"
   echo "policy=$(awk '/^policy/ {{print $3}}' /proc/$$/sched)"; echo "stdin=$(cat)"; }} > {out}
""")
    host = start("--name", "blue")
    r = host.call("/NetworkDriver.Join", {"NetworkID": NET, "EndpointID": EP, "SandboxKey": "/var/run/docker/netns/x"})
    assert r.status == 200, r
    lines = dict(line.split("=", 1) for line in open(out).read().splitlines())
    assert lines["argv1"] == "NetworkDriver.Join"
    assert lines["pwd"] == hooks.path
    assert lines["method"] == "NetworkDriver.Join"
    assert lines["plugin"] == "blue"
    assert lines["state"] == host.state
    assert (lines["net"], lines["ep"]) == (NET, EP)
    assert lines["path"] == os.environ["PATH"]
    assert json.loads(lines["stdin"])["SandboxKey"] == "/var/run/docker/netns/x"
    # As if a shell had started it: no signal blocked, none of the standard ones (1-31)
    # ignored (glibc's posix_spawn leaves its two internal ones, 32 and 33, ignored), and the
    # normal scheduling policy (0, SCHED_OTHER) although the host's threads run under SCHED_BATCH.
    assert lines["sigblk"] == "0" * 16
    assert int(lines["sigign"], 16) & 0x7FFFFFFF == 0, lines["sigign"]
    assert lines["policy"] == "0"


def test_a_request_larger_than_the_pipe_reaches_a_slow_reader_intact(start, hooks, workdir):
    """The host puts what fits (64 KiB) into the hook's stdin before it starts and writes the
    rest while it runs; a hook that only starts reading later still gets every byte."""
    seen = os.path.join(workdir, "seen.json")
    hooks.add("CreateNetwork", f"sleep 0.3; cat > {seen}\necho '{{}}'\n")
    body = json.dumps({"NetworkID": NET, "Options": {"blob": "é" * 200_000 + "x" * 500_000}}, ensure_ascii=False).encode()
    r = start().call("/NetworkDriver.CreateNetwork", body=body)
    assert (r.status, r.json) == (200, {})
    with open(seen, "rb") as f:
        assert f.read() == body


def test_one_script_serves_several_methods_through_links(start, hooks, workdir):
    hooks.add("Join.sh", 'cat >/dev/null; echo "{\\"Err\\": \\"$1 via $(basename $0)\\"}"\n')
    os.symlink("Join.sh", os.path.join(hooks.path, "Leave.sh"))
    r = start().call("/NetworkDriver.Leave", {"NetworkID": NET, "EndpointID": EP})
    assert (r.status, r.err) == (500, "NetworkDriver.Leave via Leave.sh")


def test_empty_and_null_bodies_give_the_hook_an_empty_object(start, hooks, workdir):
    out = os.path.join(workdir, "in")
    hooks.add("DiscoverNew", f"cat > {out}\n")
    host = start()
    for body in (None, b"", b"null", b" null \n"):
        assert host.call("/NetworkDriver.DiscoverNew", body=body).status == 200
        assert open(out).read() == "{}"


def test_folder_changes_apply_on_the_next_call(start, hooks):
    host = start()
    join = {"NetworkID": NET, "EndpointID": EP}
    assert host.call("/NetworkDriver.Join", join).json == {}
    hooks.answer("Join.py", {"Gateway": "10.9.0.1"})
    assert host.call("/NetworkDriver.Join", join).json == {"Gateway": "10.9.0.1"}
    hooks.answer("Join.py", {"Gateway": "10.9.0.2"})
    assert host.call("/NetworkDriver.Join", join).json == {"Gateway": "10.9.0.2"}
    hooks.remove("Join.py")
    assert host.call("/NetworkDriver.Join", join).json == {}


def test_folder_changes_apply_once_the_listing_is_kept(start, hooks):
    """The host keeps a folder's listing once its mtime is 2 s old; a change
    after that must still be seen on the very next call."""
    hooks.answer("Leave", {})
    host = start()
    join = {"NetworkID": NET, "EndpointID": EP}
    still_since_long_ago(hooks.path)
    assert host.call("/NetworkDriver.Join", join).json == {}  # listing read and kept
    assert host.call("/NetworkDriver.Join", join).json == {}  # served from what was kept
    hooks.answer("Join", {"Gateway": "10.9.0.3"})
    assert host.call("/NetworkDriver.Join", join).json == {"Gateway": "10.9.0.3"}
    still_since_long_ago(hooks.path)
    assert host.call("/NetworkDriver.Join", join).json == {"Gateway": "10.9.0.3"}
    hooks.remove("Join")
    assert host.call("/NetworkDriver.Join", join).json == {}


def test_any_http_method_and_keep_alive(start, hooks):
    host = start()
    s = host.connect(10)
    request = b"GET /Plugin.Activate HTTP/1.1\r\nHost: x\r\n\r\n"
    s.sendall(request + request)  # pipelined on one connection
    data = b""
    while data.count(b"NetworkDriver") < 2:
        chunk = s.recv(4096)
        assert chunk, data
        data += chunk
    assert data.count(b"HTTP/1.1 200 OK") == 2
    s.close()


def test_connection_close_is_honoured(start):
    host = start()
    s = host.connect(10)
    s.sendall(b"POST /Plugin.Activate HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
    data = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    assert b"Connection: close" in data and data.endswith(b'{"Implements":["NetworkDriver"]}')


def test_a_call_without_the_ids_its_method_carries_is_refused_and_runs_no_hook(hooks, start, workdir):
    ran = os.path.join(workdir, "ran")
    hooks.add("Join", f"touch {ran}; cat >/dev/null; echo {{}}\n")
    hooks.add("DeleteNetwork", f"touch {ran}; cat >/dev/null\n")
    host = start()
    # Docker's retry after the plugin restarted mid-call: the same call, without its body.
    for body in (b"", "null"):
        r = host.call("/NetworkDriver.Join", body)
        assert r.status == 400 and r.err.startswith("the NetworkDriver.Join request has no body, so NetworkID is required: no hook ran"), r
    r = host.call("/NetworkDriver.Join", {"NetworkID": NET})
    assert r.status == 400 and r.err == "bad NetworkDriver.Join request: EndpointID is required", r
    r = host.call("/NetworkDriver.DeleteNetwork", {"EndpointID": EP})
    assert r.status == 400 and r.err == "bad NetworkDriver.DeleteNetwork request: NetworkID is required", r
    assert not os.path.exists(ran)
    # Methods whose requests carry no ids still take an empty body.
    assert host.call("/NetworkDriver.GetCapabilities", b"").status == 200
    assert host.call("/Plugin.Activate", b"").status == 200
    assert host.call("/NetworkDriver.Join", {"NetworkID": NET, "EndpointID": EP}).status == 200 and os.path.exists(ran)


def test_failed_calls_and_answer_warnings_are_logged_at_warning(hooks, start):
    hooks.add("CreateNetwork", "cat >/dev/null; echo 'the bridge is taken' >&2; exit 1\n")
    hooks.answer("Join", {"Gatway": "10.0.0.1"})
    host = start("--log-level", "warning")
    assert host.call("/NetworkDriver.CreateNetwork", {"NetworkID": NET}).status == 500
    assert host.call("/NetworkDriver.Join", {"NetworkID": NET, "EndpointID": EP}).status == 200
    assert host.call("/NetworkDriver.Join", b"not json").status == 400
    assert host.call("/NetworkDriver.EndpointOperInfo", {"NetworkID": NET, "EndpointID": EP}).status == 200
    host.stop()
    lines = host.read_log().splitlines()
    assert any(" warning NetworkDriver.CreateNetwork " in l and "http.status=500" in l and "the bridge is taken" in l for l in lines), lines
    assert any(" warning " in l and "unknown keys: Gatway (did you mean Gateway?)" in l for l in lines), lines
    assert any(" warning NetworkDriver.Join refused " in l and "http.status=400" in l for l in lines), lines
    # Successful calls stay at info, below the level asked for.
    assert not any("EndpointOperInfo" in l for l in lines), lines


def still_since_long_ago(folder):
    """The host keeps a folder's listing once its mtime is 2 s old: set it 10 s back rather
    than wait."""
    then = time.time() - 10
    os.utime(folder, (then, then))
