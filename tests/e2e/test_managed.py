"""examples/bridge and examples/bridge-ipam as managed (v2) plugins on a real dockerd, made by
`netplug-host bundle` from the release build users install, as the README shows."""
import json
import os
import re
import shutil
import subprocess

import pytest

from conftest import IMAGE, ROOT
from test_bridge import links

BUNDLER = os.environ.get("NETPLUG_BUNDLER") or os.path.join(ROOT, ".build", "release", "netplug-host")


def rootfs_megabytes(out):
    total = 0
    for folder, _, files in os.walk(os.path.join(out, "rootfs")):
        for name in files:
            total += os.lstat(os.path.join(folder, name)).st_size
    return total / 1e6


class Managed:
    """One managed plugin: bundled, created, its state folder under the test's own base."""

    def __init__(self, docker, base, example, name, *bundle_args):
        if not os.path.exists(BUNDLER):
            pytest.fail(f"{BUNDLER} is missing: scripts/test builds it (swift build -c release --static-swift-stdlib)")
        self.docker, self.name, self.ref = docker, name, name + ":latest"
        self.out = os.path.join(base, "bundle-" + name)
        self.state = os.path.join(base, "state-" + name)
        os.makedirs(self.state, exist_ok=True)
        r = subprocess.run([BUNDLER, "bundle", "--hooks", os.path.join(ROOT, "examples", example), "--output", self.out,
                            "--name", name, *bundle_args], capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        self.bundle_output = r.stdout
        self.networks, self.containers = [], []

    def create(self):
        self.docker.cli("plugin", "create", self.name, self.out)
        self.docker.cli("plugin", "set", self.name, "state.source=" + self.state)

    def enable(self):
        self.docker.cli("plugin", "enable", self.name)

    def network(self, name, *args):
        r = self.docker.cli("network", "create", "-d", self.ref, *args, name)
        self.networks.append(name)
        return r.stdout.strip()

    def container(self, name, network, *extra):
        self.docker.cli("run", "-d", "--name", name, "--network", network, *extra, IMAGE, "sleep", "600")
        self.containers.append(name)

    def address(self, container, network):
        return self.docker.inspect("inspect", container)[0]["NetworkSettings"]["Networks"][network]["IPAddress"]

    def ping(self, source, target):
        return self.docker.cli("exec", source, "ping", "-c", "2", "-W", "2", target, check=False)

    def remove_containers(self):
        if self.containers:
            self.docker.cli("rm", "-f", *self.containers)
        self.containers = []

    def records(self, kind):
        folder = os.path.join(self.state, kind)
        return sorted(os.listdir(folder)) if os.path.isdir(folder) else []

    def cleanup(self):
        if self.containers:
            self.docker.cli("rm", "-f", *self.containers, check=False)
        for network in self.networks:
            self.docker.cli("network", "rm", network, check=False)
        self.docker.cli("plugin", "rm", "-f", self.name, check=False)


@pytest.fixture
def managed(docker, base):
    made = []

    def make(*args):
        plugin = Managed(docker, base, *args)
        made.append(plugin)
        return plugin

    yield make
    for plugin in made:
        plugin.cleanup()


def test_bridge_as_a_managed_plugin_keeps_its_records_across_disable_and_reinstall(managed, docker):
    p = managed("bridge", f"npmb{os.getpid()}", "--tool", "ip", "--tool", "jq")
    size = rootfs_megabytes(p.out)
    assert size < 40, f"examples/bridge rootfs is {size:.1f} MB"
    assert re.search(r"rootfs \(\d+\.\d MB, \d+ files\) in \d+\.\d s", p.bundle_output), p.bundle_output
    p.create()
    p.enable()
    assert docker.inspect("plugin", "inspect", p.name)[0]["Enabled"] is True

    net_id = p.network("np-mgd", "--subnet", "172.30.40.0/24")
    p.container("np-mgd1", "np-mgd")
    p.container("np-mgd2", "np-mgd", "--ip", "172.30.40.50")
    r = p.ping("np-mgd1", "172.30.40.50")
    assert r.returncode == 0, r.stdout + r.stderr
    assert p.records("networks") == [net_id + ".json"] and len(p.records("endpoints")) == 2
    bridge = "np-" + net_id[:12]
    assert bridge in links()

    # disable/enable: the records in the state mount carry the network on. Serve flags set
    # meanwhile through `args` reach the host: its log lines turn to JSON in dockerd's log.
    p.remove_containers()
    docker.cli("plugin", "disable", "-f", p.name)
    assert p.records("networks") == [net_id + ".json"]
    docker.cli("plugin", "set", p.name, "args=--log-format json")
    p.enable()
    p.container("np-mgd3", "np-mgd")
    p.container("np-mgd4", "np-mgd")
    assert p.ping("np-mgd3", p.address("np-mgd4", "np-mgd")).returncode == 0
    plugin_id = docker.inspect("plugin", "inspect", p.name)[0]["Id"]
    lines = [l for l in open(docker.log_path).read().splitlines() if f"plugin={plugin_id}" in l]
    assert any('msg="{' in l and "NetworkDriver.Join" in l for l in lines), lines[-5:]

    # rm + create + enable with the same state source: still the same network and records.
    p.remove_containers()
    docker.cli("plugin", "disable", "-f", p.name)
    docker.cli("plugin", "rm", "-f", p.name)  # the network still names it
    p.create()
    p.enable()
    assert p.records("networks") == [net_id + ".json"]
    p.container("np-mgd5", "np-mgd")
    p.container("np-mgd6", "np-mgd")
    assert p.ping("np-mgd5", p.address("np-mgd6", "np-mgd")).returncode == 0

    # Nothing left: no bridge, veth or record after network rm; no plugin after plugin rm.
    p.remove_containers()
    docker.cli("network", "rm", "np-mgd")
    p.networks.clear()
    assert p.records("networks") == [] and p.records("endpoints") == []
    assert bridge not in links() and not any(l.startswith(("nph", "npc")) for l in links())
    docker.cli("plugin", "disable", p.name)
    docker.cli("plugin", "rm", p.name)
    assert p.name not in docker.cli("plugin", "ls").stdout


@pytest.mark.parametrize("example", ["bridge-ipam", "bridge-ipam-resident"])
def test_bridge_ipam_as_a_managed_plugin_with_python_and_a_setting(managed, docker, example):
    suffix = "r" if example.endswith("resident") else ""
    p = managed(example, f"npmi{suffix}{os.getpid()}", "--tool", "ip", "--tool", "jq", "--env", "NETPLUG_IPAM_CONFIG")
    size = rootfs_megabytes(p.out)
    assert size < 60, f"examples/{example} rootfs is {size:.1f} MB"
    p.create()
    # The setting reaches the Python hooks; the file lives in the state mount, at the same path inside.
    with open(os.path.join(p.state, "pools.json"), "w") as f:
        json.dump({"ranges": ["10.204.0.0/16"], "poolPrefix": 24}, f)
    inside = f"/var/lib/netplug/{p.name}/pools.json"
    docker.cli("plugin", "set", p.name, "NETPLUG_IPAM_CONFIG=" + inside)
    r = docker.cli("plugin", "set", p.name, "UNDECLARED=1", check=False)
    assert r.returncode != 0
    p.enable()

    p.network("np-mi1", "--ipam-driver", p.ref)
    subnet = docker.inspect("network", "inspect", "np-mi1")[0]["IPAM"]["Config"][0]["Subnet"]
    assert subnet.startswith("10.204.") and subnet.endswith("/24")
    p.network("np-mi2", "--ipam-driver", p.ref, "--subnet", "10.204.90.0/24")
    p.container("np-mi-a", "np-mi2")
    p.container("np-mi-b", "np-mi2", "--ip", "10.204.90.77")
    assert p.address("np-mi-b", "np-mi2") == "10.204.90.77"
    r = p.ping("np-mi-a", "10.204.90.77")
    assert r.returncode == 0, r.stdout + r.stderr

    p.remove_containers()
    for network in ("np-mi1", "np-mi2"):
        docker.cli("network", "rm", network)
    p.networks.clear()
    book = json.load(open(os.path.join(p.state, "ipam.json")))
    assert not book.get("pools"), book
    assert p.records("networks") == [] and p.records("endpoints") == []
    docker.cli("plugin", "disable", p.name)
    docker.cli("plugin", "rm", p.name)


def test_hooks_in_a_managed_plugin_set_net_sysctls_with_bundle_sysctls(managed, docker, base):
    # examples/bridge, whose Join also turns on proxy_arp on the host end of each veth pair.
    folder = os.path.join(base, "bridge-sysctl")
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(os.path.join(ROOT, "examples", "bridge"), folder)
    join = os.path.join(folder, "Join.sh")
    text = open(join).read().replace('ip link set "$host" up\n', 'ip link set "$host" up\necho 1 > "/proc/sys/net/ipv4/conf/$host/proxy_arp"\n', 1)
    open(join, "w").write(text)
    subprocess.run(["chmod", "-R", "go-w,a+rX", folder], check=True)
    p = managed(folder, f"npms{os.getpid()}", "--tool", "ip", "--tool", "jq", "--sysctls")
    config = json.load(open(os.path.join(p.out, "config.json")))
    assert "CAP_SYS_ADMIN" in config["linux"]["capabilities"] and "--writable-net-sysctls" in config["entrypoint"]
    assert "--log-stream" in config["entrypoint"]
    p.create()
    p.enable()
    p.network("np-ms", "--subnet", "172.30.44.0/24")
    p.container("np-ms1", "np-ms")
    hosts = [l for l in links() if l.startswith("nph")]
    assert len(hosts) == 1, links()
    assert open(f"/proc/sys/net/ipv4/conf/{hosts[0]}/proxy_arp").read().strip() == "1"
    # The plugin logs on stdout: dockerd records its calls at info, not as errors.
    plugin_id = docker.inspect("plugin", "inspect", p.name)[0]["Id"]
    joins = [l for l in open(docker.log_path).read().splitlines() if f"plugin={plugin_id}" in l and "NetworkDriver.Join" in l]
    assert joins and all("level=info" in l for l in joins), joins
