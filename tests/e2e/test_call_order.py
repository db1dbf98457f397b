"""Docker's side as the sandbox plays it, checked against dockerd: a driver whose hooks record
each call and whether the container's link is in the host's namespace at that moment must
record the same under dockerd as under `exercise`."""
import json
import os
import shutil
import subprocess

from conftest import BINARY, IMAGE, ROOT, Docker, Plugin

ENDPOINT_METHODS = {"CreateEndpoint", "Join", "ProgramExternalConnectivity", "RevokeExternalConnectivity",
                    "Leave", "DeleteEndpoint"}

RECORD = ('echo "${NETPLUG_METHOD#NetworkDriver.} $(ip link show "npc$(printf %s "$NETPLUG_ENDPOINT_ID" | cut -c1-11)" '
          '>/dev/null 2>&1 && echo in-host || echo not-in-host)" >> "$NETPLUG_STATE_DIR/calls.log"\n')


def recorder(base):
    """The starter driver, each endpoint hook recording first; Join fails (after making its
    veth pair, and leaving it) while $NETPLUG_STATE_DIR/fail-join exists; DeleteEndpoint, not
    Leave, removes the pair."""
    folder = os.path.join(base, "recorder")
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(os.path.join(ROOT, "hooks"), folder)
    for name in ["CreateEndpoint.sh", "Join.sh", "DeleteEndpoint.sh"]:
        path = os.path.join(folder, name)
        lines = open(path).read().split("\n")
        lines.insert(1, RECORD.rstrip("\n"))
        if name == "CreateEndpoint.sh":
            lines.insert(2, '[ ! -e "$NETPLUG_STATE_DIR/fail-create-endpoint" ] || { echo "no address left" >&2; exit 1; }')
        open(path, "w").write("\n".join(lines))
    join = os.path.join(folder, "Join.sh")
    text = open(join).read().replace("jq -n", 'if [ -e "$NETPLUG_STATE_DIR/fail-join" ]; then trap - EXIT; echo "no room" >&2; exit 1; fi\n'
                                     '[ ! -e "$NETPLUG_STATE_DIR/bad-src" ] || peer=npnothing\n'
                                     '[ ! -e "$NETPLUG_STATE_DIR/no-gateway" ] || gateway=\n'
                                     'if [ -e "$NETPLUG_STATE_DIR/disable-gateway-service" ]; then\n'
                                     '    jq -n --arg src "$peer" \'{InterfaceName: {SrcName: $src, DstPrefix: "eth"}, DisableGatewayService: true}\'; exit 0\n'
                                     'fi\njq -n', 1)
    open(join, "w").write(text)
    # Leave leaves the veth pair alone, so that where the link is at DeleteEndpoint shows.
    for name in ["ProgramExternalConnectivity.sh", "RevokeExternalConnectivity.sh", "Leave.sh"]:
        with open(os.path.join(folder, name), "w") as f:
            f.write("#!/bin/sh\n" + RECORD + "cat >/dev/null\n")
    subprocess.run(["chmod", "-R", "go-w,a+rx", folder], check=True)
    return folder


def calls(state):
    path = os.path.join(state, "calls.log")
    if not os.path.exists(path):
        return []
    lines = open(path).read().split("\n")
    os.rename(path, path + ".seen")
    return [tuple(line.split()) for line in lines if line and line.split()[0] in ENDPOINT_METHODS]


def exercise(hooks, state, tmp):
    r = subprocess.run([BINARY, "exercise", "--hooks", hooks, "--containers", "1", "--state-dir", state, "--json"],
                       capture_output=True, text=True, timeout=120, cwd=tmp)
    return json.loads(r.stdout)


def test_the_sandbox_plays_dockers_side_as_dockerd_does(base, docker):
    hooks = recorder(base)
    plugin = Plugin(base, hooks, f"nprec{os.getpid()}")
    shutil.rmtree(plugin.state, ignore_errors=True)
    plugin.start()
    try:
        docker.cli("network", "create", "-d", plugin.name, "--subnet", "10.61.0.0/24", "recnet")
        docker.cli("run", "--rm", "--network", "recnet", IMAGE, "true")
        started_and_stopped = calls(plugin.state)
        open(os.path.join(plugin.state, "fail-join"), "w").close()
        failed = docker.cli("run", "--rm", "--network", "recnet", IMAGE, "true", check=False)
        os.remove(os.path.join(plugin.state, "fail-join"))
        assert failed.returncode != 0 and "no room" in failed.stderr, failed.stderr
        failed_join = calls(plugin.state)
        open(os.path.join(plugin.state, "bad-src"), "w").close()
        unusable = docker.cli("run", "--rm", "--network", "recnet", IMAGE, "true", check=False)
        os.remove(os.path.join(plugin.state, "bad-src"))
        unusable_join = calls(plugin.state)
        assert unusable.returncode != 0 and "failed to add interface npnothing to sandbox" in unusable.stderr
        docker.cli("network", "rm", "recnet")
    finally:
        plugin.stop()

    # What dockerd did, as this driver saw it: the link moves into the container after
    # ProgramExternalConnectivity, is still there at Leave, and is back at DeleteEndpoint.
    assert started_and_stopped == [
        ("CreateEndpoint", "not-in-host"), ("Join", "not-in-host"), ("ProgramExternalConnectivity", "in-host"),
        ("RevokeExternalConnectivity", "not-in-host"), ("Leave", "not-in-host"), ("DeleteEndpoint", "in-host")]
    # A failed Join: DeleteEndpoint, no Leave.
    assert failed_join == [("CreateEndpoint", "not-in-host"), ("Join", "not-in-host"), ("DeleteEndpoint", "in-host")]
    # A Join whose SrcName names no link: the container does not start, and the join is undone.
    assert unusable_join == [
        ("CreateEndpoint", "not-in-host"), ("Join", "not-in-host"), ("ProgramExternalConnectivity", "in-host"),
        ("RevokeExternalConnectivity", "in-host"), ("Leave", "in-host"), ("DeleteEndpoint", "in-host")]

    # The sandbox, the same.
    sandbox_state = os.path.join(base, "sandbox-state")
    shutil.rmtree(sandbox_state, ignore_errors=True)
    report = exercise(hooks, sandbox_state, base)
    assert report["ok"] is True, report
    # ... then the repeated DeleteEndpoint, which Docker sends only after a restart or a retry.
    assert calls(sandbox_state) == started_and_stopped + [("DeleteEndpoint", "not-in-host")]
    open(os.path.join(sandbox_state, "fail-join"), "w").close()
    report = exercise(hooks, sandbox_state, base)
    os.remove(os.path.join(sandbox_state, "fail-join"))
    assert step_names(report) == ["create endpoint c1", "join c1", "delete endpoint c1", "delete endpoint c1 (again)"]
    assert calls(sandbox_state) == failed_join + [("DeleteEndpoint", "not-in-host")]
    open(os.path.join(sandbox_state, "bad-src"), "w").close()
    report = exercise(hooks, sandbox_state, base)
    join = next(s for s in report["steps"] if s["step"] == "join c1")
    assert join["verdict"] == "fail" and "failed to add interface npnothing to sandbox" in join["message"]
    assert calls(sandbox_state) == unusable_join + [("DeleteEndpoint", "not-in-host")]


def step_names(report):
    return [s["step"] for s in report["steps"] if s["container"] == "c1"]


def flag(state, name):
    open(os.path.join(state, name), "w").close()


def unflag(state, name):
    os.remove(os.path.join(state, name))


def test_the_call_order_page_holds_on_dockerd(base, docker):
    """Each statement of docs/CALL-ORDER.md, on dockerd 20.10."""
    hooks = recorder(base)
    plugin = Plugin(base, hooks, f"nporder{os.getpid()}")
    shutil.rmtree(plugin.state, ignore_errors=True)
    plugin.start()
    state = plugin.state
    try:
        docker.cli("network", "create", "-d", plugin.name, "--subnet", "10.62.0.0/24", "ordera")
        docker.cli("network", "create", "-d", plugin.name, "--subnet", "10.63.0.0/24", "orderb")

        # A failed CreateEndpoint: nothing else is asked of the driver.
        flag(state, "fail-create-endpoint")
        r = docker.cli("run", "--rm", "--network", "ordera", IMAGE, "true", check=False)
        unflag(state, "fail-create-endpoint")
        assert r.returncode != 0 and "no address left" in r.stderr
        assert calls(state) == [("CreateEndpoint", "not-in-host")]

        # docker run -d; network connect; disconnect; restart; rm -f.
        docker.cli("run", "-d", "--name", "order1", "--network", "ordera", IMAGE, "sleep", "600")
        assert calls(state) == [("CreateEndpoint", "not-in-host"), ("Join", "not-in-host"),
                                ("ProgramExternalConnectivity", "in-host")]
        docker.cli("network", "connect", "orderb", "order1")
        # A second network's endpoint is joined while the container runs: its link moves at
        # once, and only the gateway's endpoint gets ProgramExternalConnectivity.
        assert calls(state) == [("CreateEndpoint", "not-in-host"), ("Join", "not-in-host")]
        names = docker.cli("exec", "order1", "ip", "-o", "link").stdout
        assert " eth0@" in names and " eth1@" in names, names
        docker.cli("network", "disconnect", "orderb", "order1")
        assert calls(state) == [("Leave", "not-in-host"), ("DeleteEndpoint", "in-host")]
        docker.cli("restart", "-t", "1", "order1")
        assert calls(state) == [("RevokeExternalConnectivity", "not-in-host"), ("Leave", "not-in-host"),
                                ("DeleteEndpoint", "in-host"), ("CreateEndpoint", "not-in-host"), ("Join", "not-in-host"),
                                ("ProgramExternalConnectivity", "in-host")]
        docker.cli("rm", "-f", "order1")
        assert calls(state) == [("RevokeExternalConnectivity", "not-in-host"), ("Leave", "not-in-host"),
                                ("DeleteEndpoint", "in-host")]

        # No Gateway in Join's answer: Docker adds the container to docker_gwbridge for its
        # default route; DisableGatewayService: true keeps it out.
        flag(state, "no-gateway")
        routes = docker.cli("run", "--rm", "--network", "ordera", IMAGE, "ip", "route").stdout
        unflag(state, "no-gateway")
        gwbridge = docker.inspect("network", "inspect", "docker_gwbridge")[0]["IPAM"]["Config"][0]["Gateway"]
        assert f"default via {gwbridge} dev eth1" in routes, routes
        assert [c[0] for c in calls(state)] == ["CreateEndpoint", "Join", "Leave", "DeleteEndpoint"]
        flag(state, "disable-gateway-service")
        routes = docker.cli("run", "--rm", "--network", "ordera", IMAGE, "ip", "route").stdout
        unflag(state, "disable-gateway-service")
        assert "default" not in routes and "eth1" not in routes, routes
        calls(state)
    finally:
        docker.cli("rm", "-f", "order1", check=False)
        for network in ("ordera", "orderb"):
            docker.cli("network", "rm", network, check=False)
        docker.cli("network", "rm", "docker_gwbridge", check=False)
        plugin.stop()


def test_a_dockerd_restart_stops_and_restarts_the_containers_endpoints(base):
    """docs/CALL-ORDER.md, "dockerd restarts": a dockerd of its own, restarted under a running
    container whose restart policy brings it back."""
    hooks = recorder(base)
    d = Docker(os.path.join(base, "order-restart"))
    os.makedirs(d.base, exist_ok=True)
    plugin = Plugin(base, hooks, f"nporderr{os.getpid()}")
    shutil.rmtree(plugin.state, ignore_errors=True)
    plugin.start()
    try:
        d.start()
        d.cli("network", "create", "-d", plugin.name, "--subnet", "10.64.0.0/24", "orderr")
        d.cli("run", "-d", "--name", "orderr1", "--restart", "always", "--network", "orderr", IMAGE, "sleep", "600")
        calls(plugin.state)
        d.stop(remove_containers=False)
        # dockerd stops the container as any stop does.
        assert calls(plugin.state) == [("RevokeExternalConnectivity", "not-in-host"), ("Leave", "not-in-host"),
                                       ("DeleteEndpoint", "in-host")]
        d.start()
        assert d.inspect("inspect", "orderr1")[0]["State"]["Running"] is True
        # ... and starts it again with a new endpoint.
        assert calls(plugin.state) == [("CreateEndpoint", "not-in-host"), ("Join", "not-in-host"),
                                       ("ProgramExternalConnectivity", "in-host")]
    finally:
        d.cli("rm", "-f", "orderr1", check=False)
        d.cli("network", "rm", "orderr", check=False)
        d.stop()
        plugin.stop()
