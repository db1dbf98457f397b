"""What keeps a driver folder and its records trustworthy over time: leftover files are not
hooks, the user's own variables reach the hooks, records of endpoints Docker forgot are removed
with their network, and `state` points at orphans."""
import json
import os

from conftest import EP, NET, Host, run_host

EP2 = "c" * 64


def test_editor_and_package_leftovers_are_never_hooks(start, hooks, workdir):
    hooks.answer("Join.sh", {"Gateway": "10.1.0.1"})
    for leftover in ("Join.sh~", "Join~", "Join.bak", "Join.sh.orig", "Join.rej", "Join.swp", "Join.tmp", "Join.sh.disabled"):
        hooks.answer(leftover, {"Gateway": "10.9.9.9"})
    hooks.answer("Leave.sh.disabled", {"Err": "a disabled hook ran"})
    host = start()
    r = host.call("/NetworkDriver.Join", {"NetworkID": NET, "EndpointID": EP, "SandboxKey": "/x"})
    assert (r.status, r.json) == (200, {"Gateway": "10.1.0.1"})
    # Renaming a hook to .disabled turns it off: Leave gets its default.
    r = host.call("/NetworkDriver.Leave", {"NetworkID": NET, "EndpointID": EP})
    assert (r.status, r.json) == (200, {})
    log = host.read_log()
    assert "Join.sh~: an editor or package leftover, never run" in log, log
    assert "Leave.sh.disabled: an editor or package leftover, never run" in log, log
    assert "two hooks claim" not in log

    r = run_host("check", "--hooks", hooks.path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "not a hook:" in r.stdout and "Join.bak: an editor or package leftover" in r.stdout
    assert r.stdout.count("Join.sh~:") == 1


def test_a_leftover_added_while_serving_breaks_no_call(start, hooks):
    hooks.answer("Join.sh", {"Gateway": "10.1.0.1"})
    host = start()
    hooks.answer("Join.sh~", {"Gateway": "10.9.9.9"})
    r = host.call("/NetworkDriver.Join", {"NetworkID": NET, "EndpointID": EP, "SandboxKey": "/x"})
    assert (r.status, r.json) == (200, {"Gateway": "10.1.0.1"})


def test_the_users_own_netplug_variables_reach_the_hooks(start, hooks, workdir):
    out = os.path.join(workdir, "env")
    hooks.add("Join.sh", f'cat >/dev/null; {{ echo "config=$NETPLUG_IPAM_CONFIG"; echo "method=$NETPLUG_METHOD"; '
                         f'echo "net=$NETPLUG_NETWORK_ID"; echo "file=${{NETPLUG_NETWORK_FILE:-none}}"; }} > {out}\n')
    # Values of the per-call names in the host's own environment never reach a hook.
    env = dict(os.environ, NETPLUG_IPAM_CONFIG="/etc/my-pools.json", NETPLUG_METHOD="leaked",
               NETPLUG_NETWORK_ID="leaked", NETPLUG_NETWORK_FILE="/leaked")
    host = start(env=env)
    r = host.call("/NetworkDriver.Join", {"NetworkID": NET, "EndpointID": EP, "SandboxKey": "/x"})
    assert r.status == 200, r
    seen = dict(line.split("=", 1) for line in open(out).read().splitlines())
    assert seen == {"config": "/etc/my-pools.json", "method": "NetworkDriver.Join", "net": NET, "file": "none"}


def test_delete_network_removes_the_records_of_endpoints_docker_forgot(start, hooks):
    host = start()
    other = "d" * 64
    assert host.call("/NetworkDriver.CreateNetwork", {"NetworkID": NET, "IPv4Data": []}).status == 200
    assert host.call("/NetworkDriver.CreateNetwork", {"NetworkID": other, "IPv4Data": []}).status == 200
    for ep, net in ((EP, NET), (EP2, NET), ("e" * 64, other)):
        assert host.call("/NetworkDriver.CreateEndpoint", {"NetworkID": net, "EndpointID": ep, "Interface": {}}).status == 200
        assert host.call("/NetworkDriver.Join", {"NetworkID": net, "EndpointID": ep, "SandboxKey": "/x"}).status == 200
    endpoints = os.path.join(host.state, "endpoints")
    assert len(os.listdir(endpoints)) == 3
    # Docker restarted while the plugin was down: no Leave, no DeleteEndpoint, then the network goes.
    assert host.call("/NetworkDriver.DeleteNetwork", {"NetworkID": NET}).status == 200
    assert os.listdir(endpoints) == ["e" * 64 + ".json"]
    assert os.listdir(os.path.join(host.state, "networks")) == [other + ".json"]


def test_state_marks_an_endpoint_record_without_its_network_as_an_orphan(workdir, hooks):
    host = Host(workdir, hooks)
    assert host.call("/NetworkDriver.CreateNetwork", {"NetworkID": NET, "IPv4Data": []}).status == 200
    assert host.call("/NetworkDriver.CreateEndpoint", {"NetworkID": NET, "EndpointID": EP, "Interface": {}}).status == 200
    host.stop()
    r = run_host("state", "--state-dir", host.state)
    assert r.returncode == 0 and "orphan" not in r.stdout, r.stdout
    # A record left by an older host, whose network record is gone.
    os.unlink(os.path.join(host.state, "networks", NET + ".json"))
    r = run_host("state", "--state-dir", host.state)
    assert r.returncode == 1, r.stdout
    line = next(l for l in r.stdout.splitlines() if l.startswith("endpoint"))
    assert "orphan: its network aaaaaaaaaaaa has no record" in line, r.stdout
    r = run_host("state", "--state-dir", host.state, "--json")
    assert r.returncode == 1
    (entry,) = [e for e in json.loads(r.stdout)["records"] if e["kind"] == "endpoint"]
    assert entry["orphan"] is True and entry["id"] == EP and "orphan" in entry["problem"]
