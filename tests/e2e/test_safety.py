"""examples/bridge and the starter hooks on a real dockerd, as a new user meets them on their
own machine: the user's interfaces are never taken over, restarted containers are reachable
at once, what the driver cannot do is refused in a sentence, and IPv6 works."""
import json
import os
import subprocess
import tempfile

import pytest

from conftest import IMAGE, ROOT, Plugin
from test_bridge import Scenario, links


def ip(*args, check=True):
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check)


def link(name):
    return json.loads(ip("-j", "-d", "addr", "show", "dev", name).stdout)[0]


def addresses(name):
    return sorted(f"{a['local']}/{a['prefixlen']}" for a in link(name)["addr_info"] if a["scope"] == "global")


@pytest.fixture
def scenario(docker, bridge_plugin):
    s = Scenario(docker, bridge_plugin)
    yield s
    s.cleanup()


@pytest.fixture
def own_interfaces():
    """Interfaces a test makes as "the user's own", deleted afterwards."""
    made = []
    yield made
    for name in made:
        ip("link", "del", name, check=False)


def create(docker, plugin, name, *args):
    return docker.cli("network", "create", "-d", plugin.name, *args, name, check=False)


def test_a_users_own_bridge_is_used_as_is_and_never_deleted(scenario, docker, own_interfaces):
    ip("link", "add", "npusrbr", "type", "bridge")
    own_interfaces.append("npusrbr")
    ip("link", "set", "npusrbr", "mtu", "1400")
    ip("addr", "add", "192.0.2.1/24", "dev", "npusrbr")
    ip("link", "set", "npusrbr", "up")
    scenario.network("np-own", "172.30.20.0/24", "bridge=npusrbr", "mtu=1300")
    scenario.container("np-own1", "np-own")
    scenario.container("np-own2", "np-own")
    assert scenario.ping("np-own1", scenario.address("np-own2", "np-own")).returncode == 0
    # Never reconfigured: its MTU and addresses are the user's.
    assert link("npusrbr")["mtu"] == 1400 and addresses("npusrbr") == ["192.0.2.1/24"]
    docker.cli("rm", "-f", "np-own1", "np-own2")
    scenario.containers.clear()
    docker.cli("network", "rm", "np-own")
    scenario.networks.clear()
    assert "npusrbr" in links()
    assert link("npusrbr")["mtu"] == 1400 and addresses("npusrbr") == ["192.0.2.1/24"]


def test_an_existing_interface_that_is_not_a_bridge_is_refused(scenario, docker, own_interfaces):
    ip("link", "add", "npusrv0", "mtu", "1450", "type", "veth", "peer", "name", "npusrv1")
    own_interfaces.append("npusrv0")
    r = create(docker, scenario.plugin, "np-notbr", "--subnet", "172.30.21.0/24", "-o", "bridge=npusrv0")
    assert r.returncode != 0
    assert "option bridge=npusrv0 names an existing interface that is not a bridge" in r.stderr, r.stderr
    assert link("npusrv0")["mtu"] == 1450 and addresses("npusrv0") == []
    assert docker.cli("network", "inspect", "np-notbr", check=False).returncode != 0
    assert "npusrv0" in links()


def test_a_bridge_another_network_uses_is_refused(scenario, docker):
    scenario.network("np-sh1", "172.30.22.0/24", "bridge=npsharedbr")
    scenario.container("np-sh-a", "np-sh1")
    scenario.container("np-sh-b", "np-sh1")
    r = create(docker, scenario.plugin, "np-sh2", "--subnet", "172.30.23.0/24", "-o", "bridge=npsharedbr")
    assert r.returncode != 0
    assert "option bridge=npsharedbr: that bridge is already used by network" in r.stderr, r.stderr
    assert addresses("npsharedbr") == ["172.30.22.1/24"]
    assert scenario.ping("np-sh-a", scenario.address("np-sh-b", "np-sh1")).returncode == 0
    docker.cli("rm", "-f", "np-sh-a", "np-sh-b")
    scenario.containers.clear()
    docker.cli("network", "rm", "np-sh1")
    scenario.networks.clear()
    assert "npsharedbr" not in links()  # it made this one, so it removes it


def test_an_unknown_option_is_refused_with_a_suggestion(scenario, docker):
    r = create(docker, scenario.plugin, "np-typo", "--subnet", "172.30.24.0/24", "-o", "mut=1400")
    assert r.returncode != 0
    assert "unknown option -o mut: did you mean -o mtu?" in r.stderr, r.stderr
    assert docker.cli("network", "inspect", "np-typo", check=False).returncode != 0


def test_the_mac_comes_from_the_address_so_a_restarted_container_is_reachable_at_once(scenario, docker):
    scenario.network("np-mac", "172.30.25.0/24")
    scenario.container("np-mac1", "np-mac")
    scenario.container("np-mac2", "np-mac", "--ip", "172.30.25.50")
    mac = docker.cli("exec", "np-mac2", "cat", "/sys/class/net/eth0/address").stdout.strip()
    assert mac == "02:42:ac:1e:19:32"
    assert scenario.ping("np-mac1", "172.30.25.50").returncode == 0  # np-mac1 now knows its MAC
    docker.cli("restart", "-t", "1", "np-mac2")
    assert docker.cli("exec", "np-mac2", "cat", "/sys/class/net/eth0/address").stdout.strip() == mac
    # One packet, answered within 2 s: no waiting for the peer's neighbour cache to go stale.
    r = docker.cli("exec", "np-mac1", "ping", "-c", "1", "-W", "2", "172.30.25.50", check=False)
    assert r.returncode == 0, r.stdout + r.stderr


def test_publishing_ports_is_refused_not_ignored(scenario, docker):
    scenario.network("np-ports", "172.30.26.0/24")
    r = docker.cli("run", "-d", "--name", "np-port1", "--network", "np-ports", "-p", "18080:80",
                   "netplug-busybox:e2e", "sleep", "600", check=False)
    scenario.containers.append("np-port1")
    assert r.returncode != 0
    assert "this network's driver does not publish ports (-p 18080:80/tcp)" in r.stderr, r.stderr


def test_ipv6_gateway_and_default_route(scenario, docker):
    net_id = docker.cli("network", "create", "-d", scenario.plugin.name, "--ipv6", "--subnet", "172.30.27.0/24",
                        "--subnet", "fd00:27::/64", "np-v6").stdout.strip()
    scenario.networks.append("np-v6")
    bridge = "np-" + net_id[:12]
    assert "fd00:27::1/64" in [f"{a['local']}/{a['prefixlen']}" for a in link(bridge)["addr_info"]]
    scenario.container("np-v6a", "np-v6")
    scenario.container("np-v6b", "np-v6")
    routes = docker.cli("exec", "np-v6a", "ip", "-6", "route").stdout
    assert "default via fd00:27::1" in routes, routes
    info = docker.inspect("inspect", "np-v6b")[0]["NetworkSettings"]["Networks"]["np-v6"]
    target = info["GlobalIPv6Address"]
    assert target.startswith("fd00:27::")
    for destination in (target, "fd00:27::1"):
        r = docker.cli("exec", "np-v6a", "ping", "-6", "-c", "3", "-W", "2", destination, check=False)
        assert r.returncode == 0, r.stdout + r.stderr


def test_the_starter_hooks_make_a_network_two_containers_ping_over(base, docker):
    plugin = Plugin(base, os.path.join(ROOT, "hooks"), f"npstart{os.getpid()}")
    plugin.start()
    s = Scenario(docker, plugin)
    try:
        net_id = s.network("np-starter", "172.30.28.0/24")
        s.container("np-st1", "np-starter")
        s.container("np-st2", "np-starter")
        r = s.ping("np-st1", s.address("np-st2", "np-starter"))
        assert r.returncode == 0 and "3 packets received" in r.stdout, r.stdout + r.stderr
        # As the README's first screen has it: a container started to ping another by name.
        r = docker.cli("run", "--rm", "--network", "np-starter", IMAGE, "ping", "-c", "3", "np-st1", check=False)
        assert r.returncode == 0 and "3 packets received" in r.stdout, r.stdout + r.stderr
        docker.cli("rm", "-f", "np-st1", "np-st2")
        s.containers.clear()
        docker.cli("network", "rm", "np-starter")
        s.networks.clear()
        assert "np-" + net_id[:12] not in links()
    finally:
        s.cleanup()
        plugin.stop()


def test_ipam_config_from_the_environment_reaches_the_python_hooks(base, docker):
    folder = tempfile.mkdtemp(prefix="np-ipamcfg-", dir=base)
    config = os.path.join(folder, "pools.json")
    with open(config, "w") as f:
        json.dump({"ranges": ["10.203.0.0/16"], "poolPrefix": 26}, f)
    plugin = Plugin(base, os.path.join(ROOT, "examples", "bridge-ipam"), f"npcfg{os.getpid()}",
                    env=dict(os.environ, NETPLUG_IPAM_CONFIG=config))
    plugin.start()
    try:
        r = docker.cli("network", "create", "-d", plugin.name, "--ipam-driver", plugin.name, "np-cfg", check=False)
        assert r.returncode == 0, r.stderr
        subnet = docker.inspect("network", "inspect", "np-cfg")[0]["IPAM"]["Config"][0]["Subnet"]
        assert subnet == "10.203.0.0/26"
    finally:
        docker.cli("network", "rm", "np-cfg", check=False)
        plugin.stop()
