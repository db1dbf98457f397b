"""examples/bridge-ipam on a real dockerd: one socket serving the network driver and the
Python IPAM driver."""
import json
import os
import socket

from test_bridge import Scenario


def book(plugin):
    with open(os.path.join(plugin.state, "ipam.json")) as f:
        return json.load(f)


def activate(plugin):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(plugin.socket)
    s.sendall(b"POST /Plugin.Activate HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
    data = s.recv(4096)
    s.close()
    return json.loads(data.split(b"\r\n\r\n", 1)[1])


def create(docker, plugin, name, *args):
    return docker.cli("network", "create", "-d", plugin.name, "--ipam-driver", plugin.name, *args, name, check=False)


def test_one_plugin_two_drivers_and_addresses_from_python(docker, ipam_plugin):
    assert activate(ipam_plugin) == {"Implements": ["NetworkDriver", "IpamDriver"]}
    s = Scenario(docker, ipam_plugin)
    try:
        r = create(docker, ipam_plugin, "np-ipam1")
        assert r.returncode == 0, r.stderr
        s.networks.append("np-ipam1")
        info = docker.inspect("network", "inspect", "np-ipam1")[0]
        assert info["IPAM"]["Driver"] == ipam_plugin.name
        subnet = info["IPAM"]["Config"][0]["Subnet"]
        assert subnet.startswith("10.200.") and subnet.endswith("/24")
        s.container("np-i1", "np-ipam1")
        s.container("np-i2", "np-ipam1")
        a1, a2 = s.address("np-i1", "np-ipam1"), s.address("np-i2", "np-ipam1")
        pools = book(ipam_plugin)["pools"]
        (entry,) = [p for p in pools.values() if p["pool"] == subnet]
        # The gateway first, then the two containers, lowest first.
        prefix = subnet.rsplit(".", 1)[0]
        assert entry["addresses"] == [prefix + ".1", prefix + ".2", prefix + ".3"]
        assert {a1, a2} == {prefix + ".2", prefix + ".3"}
        assert s.ping("np-i1", a2).returncode == 0
    finally:
        s.cleanup()
    assert book(ipam_plugin)["pools"] == {}, "docker network rm left allocations behind"
    served_by = {line.split(" hook=")[1].split()[0] for line in ipam_plugin.log().splitlines()
                 if "call.method=IpamDriver.Request" in line}
    if ipam_plugin.hooks.endswith("resident"):
        assert served_by == {"ipam/resident.py"}, served_by
    else:
        assert served_by == {"ipam/RequestPool.py", "ipam/RequestAddress.py"}, served_by


def test_exhausted_pool_and_requested_subnet(docker, ipam_plugin):
    s = Scenario(docker, ipam_plugin)
    try:
        r = create(docker, ipam_plugin, "np-ipam-small", "--subnet", "10.201.3.0/29")
        assert r.returncode == 0, r.stderr
        s.networks.append("np-ipam-small")
        # /29: 6 addresses, one of them the gateway; --ip is honoured, and refused when taken.
        s.container("np-small0", "np-ipam-small", "--ip", "10.201.3.5")
        assert s.address("np-small0", "np-ipam-small") == "10.201.3.5"
        r = docker.cli("run", "-d", "--name", "np-taken", "--network", "np-ipam-small", "--ip", "10.201.3.5",
                       "netplug-busybox:e2e", "sleep", "60", check=False)
        s.containers.append("np-taken")
        assert r.returncode != 0 and "--ip 10.201.3.5 is already in use on 10.201.3.0/29" in r.stderr, r.stderr
        docker.cli("rm", "-f", "np-taken")
        s.containers.remove("np-taken")
        for i in range(1, 5):
            s.container(f"np-small{i}", "np-ipam-small")
        r = docker.cli("run", "-d", "--name", "np-small5", "--network", "np-ipam-small", "netplug-busybox:e2e",
                       "sleep", "60", check=False)
        s.containers.append("np-small5")
        assert r.returncode != 0
        assert "pool 10.201.3.0/29 is exhausted: all 6 addresses are in use" in r.stderr, r.stderr
        r = create(docker, ipam_plugin, "np-ipam-overlap", "--subnet", "10.201.3.0/28")
        assert r.returncode != 0 and "overlaps 10.201.3.0/29" in r.stderr, r.stderr
    finally:
        s.cleanup()
    assert book(ipam_plugin)["pools"] == {}
