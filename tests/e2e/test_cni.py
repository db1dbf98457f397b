"""examples/cni on the private dockerd: Debian's CNI plugins (containernetworking-plugins)
behind `docker network create -d`, served by hand and as a managed plugin."""
import json
import os
import shlex
import signal
import subprocess
import urllib.request

import pytest

from conftest import BINARY, IMAGE, ROOT, Plugin
from test_bridge import links
from test_managed import managed  # noqa: F401 (the fixture)

CNI_BIN = "/usr/lib/cni"
HOOKS = os.path.join(ROOT, "examples", "cni")

CONFIGS = {
    "web.conflist": {"cniVersion": "1.0.0", "name": "web", "plugins": [
        {"type": "bridge", "bridge": "npcniweb0", "isGateway": True, "ipam": {"type": "host-local"}},
        {"type": "portmap", "capabilities": {"portMappings": True}}]},
    "one.conf": {"cniVersion": "1.0.0", "name": "one", "type": "bridge", "bridge": "npcnione0", "isGateway": True},
    "lan.conflist": {"cniVersion": "1.0.0", "name": "lan", "plugins": [
        {"type": "macvlan", "master": "npcpar0", "mode": "bridge"}]},
    "slow.conflist": {"cniVersion": "1.0.0", "name": "slow", "plugins": [
        {"type": "bridge", "bridge": "npcnislow0", "isGateway": True},
        {"type": "bandwidth", "ingressRate": 1000000, "ingressBurst": 65536}]},
    "broken.conflist": {"cniVersion": "1.0.0", "name": "broken", "plugins": [
        {"type": "macvlan", "master": "npnosuch0", "mode": "bridge"}]},
    "unknown.conflist": {"cniVersion": "1.0.0", "name": "unknown", "plugins": [{"type": "teleport"}]},
}


def write_configs(folder):
    os.makedirs(folder, exist_ok=True)
    for name, config in CONFIGS.items():
        with open(os.path.join(folder, name), "w") as f:
            json.dump(config, f)


FORWARDING = "/proc/sys/net/ipv4/ip_forward"


def remove_portmap_chains():
    """portmap's CNI-HOSTPORT-* chains, which it shares among its users and never removes:
    the driver leaves them, the test does not leave them on the machine."""
    for tool in ("iptables", "ip6tables"):
        rules = subprocess.run([f"{tool}-save", "-t", "nat"], capture_output=True, text=True).stdout.splitlines()
        for rule in rules:
            if rule.startswith("-A ") and " -j CNI-" in rule and not rule.split()[1].startswith("CNI-"):
                subprocess.run([tool, "-t", "nat", "-D", *shlex.split(rule)[1:]], capture_output=True)
        chains = [line[1:].split()[0] for line in rules if line.startswith(":CNI-")]
        for chain in chains:
            subprocess.run([tool, "-t", "nat", "-F", chain], capture_output=True)
        for chain in chains:
            subprocess.run([tool, "-t", "nat", "-X", chain], capture_output=True)


@pytest.fixture(scope="module", autouse=True)
def machine_as_it_was():
    """The bridge plugin turns forwarding on in the machine's namespace (`isGateway`), and
    portmap leaves its shared chains: both are put back after this module."""
    forwarding = open(FORWARDING).read()
    yield forwarding
    with open(FORWARDING, "w") as f:
        f.write(forwarding)
    remove_portmap_chains()


@pytest.fixture(scope="module")
def cni(base, docker):
    if not os.path.exists(os.path.join(CNI_BIN, "bridge")):
        pytest.fail("the CNI plugins are missing: apt-get install containernetworking-plugins (.ci/run does)")
    conf = os.path.join(base, "cni-conf")
    write_configs(conf)
    env = dict(os.environ, CNI_CONF_DIR=conf, CNI_PATH=CNI_BIN)
    plugin = Plugin(base, HOOKS, f"npcni{os.getpid()}", env=env)
    plugin.start()
    yield plugin
    plugin.stop()


class Made:
    def __init__(self, docker, driver):
        self.docker, self.driver = docker, driver
        self.networks, self.containers = [], []

    def network(self, name, config, subnet, check=True):
        r = self.docker.cli("network", "create", "-d", self.driver, "-o", f"cni.config={config}", "--subnet", subnet, name,
                            check=check)
        if r.returncode == 0:
            self.networks.append(name)
        return r

    def run(self, name, network, *args, command=("sleep", "600"), check=True):
        r = self.docker.cli("run", "-d", "--name", name, "--network", network, *args, IMAGE, *command, check=check)
        self.containers.append(name)
        return r

    def ping(self, source, target):
        return self.docker.cli("exec", source, "ping", "-c", "1", "-W", "2", target, check=False).returncode == 0

    def cleanup(self):
        if self.containers:
            self.docker.cli("rm", "-f", *self.containers, check=False)
        for network in self.networks:
            self.docker.cli("network", "rm", network, check=False)
        self.containers, self.networks = [], []


@pytest.fixture
def made(docker, cni):
    m = Made(docker, cni.name)
    yield m
    m.cleanup()


def netns():
    return [line.split()[0] for line in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout.splitlines()]


def nothing_left(state, network_id):
    kept = os.path.join(state, "cni")
    assert not [n for n in netns() if n.startswith("cni-" + network_id[:12])], netns()
    assert not os.path.isdir(kept) or os.listdir(kept) == [], os.listdir(kept)
    assert not [l for l in links() if l.startswith("cn")], links()


def test_bridge_and_portmap_two_containers_ping_and_a_published_port_answers(made, docker, cni):
    network_id = made.network("npc-web", "web", "10.77.1.0/24").stdout.strip()
    made.run("npc-w1", "npc-web")
    made.run("npc-w2", "npc-web", "--ip", "10.77.1.50", "-p", "18080:80",
             command=("sh", "-c", "mkdir /www && echo hello-from-cni > /www/index.html && exec httpd -f -p 80 -h /www"))
    assert made.ping("npc-w1", "10.77.1.50")
    assert made.ping("npc-w1", "10.77.1.1")
    with urllib.request.urlopen("http://10.77.1.1:18080/index.html", timeout=10) as reply:
        assert reply.read().decode().strip() == "hello-from-cni"
    assert "npcniweb0" in links()
    assert "host-local" in cni.log() and "not used" in cni.log()

    made.cleanup()
    nothing_left(cni.state, network_id)
    assert "npcniweb0" not in links()
    rules = subprocess.run(["iptables-save"], capture_output=True, text=True).stdout
    assert "10.77.1.50" not in rules and "18080" not in rules, rules


def test_a_single_conf_and_a_restart_of_the_container(made, docker, cni):
    network_id = made.network("npc-one", "one", "10.77.2.0/24").stdout.strip()
    made.run("npc-o1", "npc-one")
    assert made.ping("npc-o1", "10.77.2.1")
    docker.cli("restart", "-t", "0", "npc-o1")
    assert made.ping("npc-o1", "10.77.2.1")
    made.cleanup()
    nothing_left(cni.state, network_id)


def test_macvlan_over_a_veth_parent(made, docker, cni):
    subprocess.run(["ip", "link", "add", "npcpar0", "type", "veth", "peer", "name", "npcpar1"], check=True)
    try:
        for link in ("npcpar0", "npcpar1"):
            subprocess.run(["ip", "link", "set", link, "up"], check=True)
        network_id = made.network("npc-lan", "lan", "10.77.3.0/24").stdout.strip()
        made.run("npc-m1", "npc-lan", "--ip", "10.77.3.10")
        made.run("npc-m2", "npc-lan", "--ip", "10.77.3.11")
        assert made.ping("npc-m1", "10.77.3.11")
        made.cleanup()
        nothing_left(cni.state, network_id)
    finally:
        subprocess.run(["ip", "link", "del", "npcpar0"], capture_output=True)


def test_bandwidth_limit_shows_in_tc(made, docker, cni):
    made.network("npc-slow", "slow", "10.77.4.0/24")
    made.run("npc-s1", "npc-slow")
    ports = os.listdir("/sys/class/net/npcnislow0/brif")
    assert len(ports) == 1, ports
    qdiscs = subprocess.run(["tc", "qdisc", "show", "dev", ports[0]], capture_output=True, text=True).stdout
    assert "tbf" in qdiscs and "rate 1Mbit" in qdiscs, qdiscs


def test_errors_name_what_is_missing(made, docker, cni):
    missing = made.network("npc-miss", "nosuch", "10.77.5.0/24", check=False)
    assert missing.returncode != 0 and "there is no nosuch.conflist or nosuch.conf in" in missing.stderr, missing.stderr
    plugin = made.network("npc-unknown", "unknown", "10.77.6.0/24", check=False)
    assert plugin.returncode != 0 and 'the CNI plugin "teleport"' in plugin.stderr and "CNI_PATH" in plugin.stderr, plugin.stderr
    made.network("npc-broken", "broken", "10.77.7.0/24")
    r = made.run("npc-b1", "npc-broken", check=False)
    assert r.returncode != 0 and "the CNI plugin macvlan (plugin 1 of " in r.stderr, r.stderr
    assert "broken.conflist) could not attach the container: Link not found" in r.stderr, r.stderr
    assert not [n for n in netns() if n.startswith("cni-")], netns()


def test_a_host_killed_mid_life_then_everything_removed(made, docker, cni):
    network_id = made.network("npc-kill", "web", "10.77.8.0/24").stdout.strip()
    made.run("npc-k1", "npc-kill", "-p", "18081:80")
    cni.proc.send_signal(signal.SIGKILL)
    cni.proc.wait()
    os.unlink(cni.socket)  # a killed host leaves its socket; start() waits for the new one
    cni.start()
    made.cleanup()
    try:
        nothing_left(cni.state, network_id)
    except AssertionError as failure:
        raise AssertionError(f"{failure}\n{cni.log()[-3000:]}")
    assert "npcniweb0" not in links()
    assert "18081" not in subprocess.run(["iptables-save"], capture_output=True, text=True).stdout


def test_exercise_on_it_reports_only_the_forwarding_the_bridge_plugin_turns_on(base):
    conf = os.path.join(base, "cni-conf")
    write_configs(conf)
    env = dict(os.environ, CNI_CONF_DIR=conf, CNI_PATH=CNI_BIN)
    # A new namespace starts with the machine's forwarding setting: off, as on a fresh machine.
    before = open(FORWARDING).read()
    with open(FORWARDING, "w") as f:
        f.write("0")
    try:
        r = subprocess.run([BINARY, "exercise", "--json", "--hooks", HOOKS, "-o", "cni.config=one", "--subnet", "10.9.0.0/24",
                            "--containers", "2"], capture_output=True, text=True, env=env, timeout=120)
    finally:
        with open(FORWARDING, "w") as f:
            f.write(before)
    report = json.loads(r.stdout)
    assert report["pings"] and all(p["ok"] for p in report["pings"]), report["pings"]
    assert all(s["verdict"] in ("ok", "warn") for s in report["steps"]), report["steps"]
    # The bridge plugin (isGateway) turns forwarding on and never off: the one thing left,
    # with what the kernel changes along with it (forwarding per interface, accept_redirects).
    names = {l["name"] for l in report["leftovers"] if l["kind"] == "sysctl"}
    assert len(names) == len(report["leftovers"]) and "net.ipv4.ip_forward" in names, report["leftovers"]
    assert all(n == "net.ipv4.ip_forward" or n.endswith((".forwarding", ".accept_redirects")) for n in names), names
    assert r.returncode == 1


def test_bundled_as_a_managed_plugin_two_containers_ping(managed, docker, base):  # noqa: F811
    conf = os.path.join(base, "cni-conf-managed")
    write_configs(conf)
    tools = ["--tool", "ip", "--tool", "jq", "--tool", "iptables"]
    for plugin in ("bridge", "portmap", "static"):
        tools += ["--tool", os.path.join(CNI_BIN, plugin)]
    p = managed("cni", f"npmcni{os.getpid()}", *tools, "--mount", "cni=/etc/cni/net.d",
                "--capability", "CAP_SYS_ADMIN", "--sysctls")
    assert os.path.exists(os.path.join(p.out, "rootfs", "usr", "lib", "cni", "portmap"))
    assert any(name.startswith("libxt_") for folder, _, names in os.walk(os.path.join(p.out, "rootfs")) for name in names)
    p.create()
    # Set before enabling: the default source, /etc/cni/net.d, is never needed on this machine.
    docker.cli("plugin", "set", p.name, "cni.source=" + conf)
    p.enable()
    p.network("npc-mgd", "-o", "cni.config=web", "--subnet", "10.77.9.0/24")
    p.container("npc-mg1", "npc-mgd")
    p.container("npc-mg2", "npc-mgd", "--ip", "10.77.9.20", "-p", "18082:80")
    assert p.ping("npc-mg1", "10.77.9.20").returncode == 0
    p.remove_containers()
    docker.cli("network", "rm", "npc-mgd")
    p.networks.clear()
    assert "npcniweb0" not in links()
    assert "18082" not in subprocess.run(["iptables-save"], capture_output=True, text=True).stdout
