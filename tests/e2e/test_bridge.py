"""examples/bridge on a real dockerd, through the docker command line."""
import json
import os
import subprocess

import pytest

from conftest import IMAGE


def links():
    out = subprocess.run(["ip", "-j", "link", "show"], capture_output=True, text=True, check=True).stdout
    return {l["ifname"] for l in json.loads(out)}


class Scenario:
    """Networks and containers a test makes, removed afterwards even when the test fails."""

    def __init__(self, docker, plugin):
        self.docker = docker
        self.plugin = plugin
        self.networks = []
        self.containers = []

    def network(self, name, subnet, *options):
        args = ["network", "create", "-d", self.plugin.name, "--subnet", subnet]
        for option in options:
            args += ["-o", option]
        network_id = self.docker.cli(*args, name).stdout.strip()
        self.networks.append(name)
        return network_id

    def container(self, name, network, *extra):
        self.docker.cli("run", "-d", "--name", name, "--network", network, *extra, IMAGE, "sleep", "600")
        self.containers.append(name)

    def address(self, container, network):
        info = self.docker.inspect("inspect", container)[0]
        return info["NetworkSettings"]["Networks"][network]["IPAddress"]

    def ping(self, source, target):
        return self.docker.cli("exec", source, "ping", "-c", "3", "-W", "2", target, check=False)

    def cleanup(self):
        if self.containers:
            self.docker.cli("rm", "-f", *self.containers, check=False)
        for network in self.networks:
            self.docker.cli("network", "rm", network, check=False)


@pytest.fixture
def scenario(docker, bridge_plugin):
    s = Scenario(docker, bridge_plugin)
    yield s
    s.cleanup()


def test_network_create_shows_driver_and_subnet(scenario, docker, bridge_plugin):
    net_id = scenario.network("np-create", "172.30.10.0/24")
    info = docker.inspect("network", "inspect", "np-create")[0]
    assert info["Driver"] == bridge_plugin.name
    assert info["IPAM"]["Config"][0]["Subnet"] == "172.30.10.0/24"
    assert "np-" + net_id[:12] in links()


def test_two_containers_get_ipam_addresses_and_ping(scenario, docker):
    scenario.network("np-ping", "172.30.11.0/24", "mtu=1400")
    scenario.container("np-c1", "np-ping")
    scenario.container("np-c2", "np-ping", "--ip", "172.30.11.50")
    a1, a2 = scenario.address("np-c1", "np-ping"), scenario.address("np-c2", "np-ping")
    assert a1.startswith("172.30.11.") and a2 == "172.30.11.50"
    inside = docker.cli("exec", "np-c1", "ip", "-o", "-4", "addr", "show", "eth0").stdout
    assert f"{a1}/24" in inside
    assert "mtu 1400" in docker.cli("exec", "np-c1", "ip", "link", "show", "eth0").stdout
    r = scenario.ping("np-c1", a2)
    assert r.returncode == 0 and "3 packets received" in r.stdout, r.stdout + r.stderr
    assert scenario.ping("np-c2", a1).returncode == 0


def test_connect_and_disconnect_a_running_container(scenario, docker):
    scenario.network("np-cd1", "172.30.12.0/24")
    scenario.network("np-cd2", "172.30.13.0/24")
    scenario.container("np-cd-a", "np-cd1")
    scenario.container("np-cd-b", "np-cd2")
    docker.cli("network", "connect", "np-cd2", "np-cd-a")
    b = scenario.address("np-cd-b", "np-cd2")
    assert scenario.ping("np-cd-a", b).returncode == 0
    assert "eth1" in docker.cli("exec", "np-cd-a", "ip", "-o", "link").stdout
    docker.cli("network", "disconnect", "np-cd2", "np-cd-a")
    assert "eth1" not in docker.cli("exec", "np-cd-a", "ip", "-o", "link").stdout
    assert scenario.ping("np-cd-a", b).returncode != 0


def test_hook_failure_reaches_the_user(scenario, docker):
    r = docker.cli("network", "create", "-d", scenario.plugin.name, "--subnet", "172.30.14.0/24", "-o", "mtu=abc",
                   "np-bad", check=False)
    assert r.returncode != 0
    assert 'option mtu="abc" is not a number: use an MTU from 68 to 65535' in r.stderr, r.stderr
    r = docker.cli("network", "create", "-d", scenario.plugin.name, "-o", "bridge=this-name-is-far-too-long", "np-bad2",
                   check=False)
    assert r.returncode != 0 and 'option bridge="this-name-is-far-too-long" is not a valid interface name' in r.stderr
    assert docker.cli("network", "inspect", "np-bad", check=False).returncode != 0


def test_nothing_left_after_containers_stop_and_network_rm(scenario, docker, bridge_plugin):
    net_id = scenario.network("np-clean", "172.30.15.0/24", "bridge=npcleanbr")
    scenario.container("np-cl1", "np-clean")
    scenario.container("np-cl2", "np-clean")
    endpoints = [docker.inspect("inspect", c)[0]["NetworkSettings"]["Networks"]["np-clean"]["EndpointID"]
                 for c in ("np-cl1", "np-cl2")]
    assert "npcleanbr" in links()
    assert os.path.exists(os.path.join(bridge_plugin.state, "networks", net_id + ".json"))
    assert all(os.path.exists(os.path.join(bridge_plugin.state, "endpoints", e + ".json")) for e in endpoints)
    docker.cli("rm", "-f", "np-cl1", "np-cl2")
    scenario.containers.clear()
    docker.cli("network", "rm", "np-clean")
    scenario.networks.clear()
    now = links()
    assert "npcleanbr" not in now
    for e in endpoints:
        assert "nph" + e[:11] not in now and "npc" + e[:11] not in now
    assert os.listdir(os.path.join(bridge_plugin.state, "networks")) == []
    assert os.listdir(os.path.join(bridge_plugin.state, "endpoints")) == []


def test_restarting_the_host_keeps_the_network(scenario, docker, bridge_plugin):
    scenario.network("np-restart", "172.30.16.0/24")
    scenario.container("np-r1", "np-restart")
    scenario.container("np-r2", "np-restart")
    a2 = scenario.address("np-r2", "np-restart")
    bridge_plugin.stop()
    bridge_plugin.start()
    assert scenario.ping("np-r1", a2).returncode == 0
    scenario.container("np-r3", "np-restart")
    assert scenario.ping("np-r3", a2).returncode == 0
    docker.cli("rm", "-f", "np-r3")
    scenario.containers.remove("np-r3")
