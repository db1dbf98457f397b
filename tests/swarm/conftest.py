"""The swarm tier: three dockerds on one machine, each a node in network, mount and UTS
namespaces of its own, joined by a Linux bridge in a fourth namespace; a swarm of them, with
examples/vxlan installed as a managed plugin on every node."""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUNDLER = os.environ.get("NETPLUG_BUNDLER") or os.path.join(ROOT, ".build", "release", "netplug-host")
DOCKER_CLI = "/usr/bin/docker" if os.path.exists("/usr/bin/docker") else "docker"
IMAGE = "netplug-busybox:swarm"
PLUGIN = "vxlan"
SWITCH = "npsw-switch"
PREFIX = f"npsw{os.getpid() % 10000}"


def run(*args, check=True, timeout=120, **kw):
    r = subprocess.run(list(args), capture_output=True, text=True, timeout=timeout, **kw)
    if check and r.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed ({r.returncode}): {r.stderr.strip()}")
    return r


def wait_until(what, check, timeout, detail=None):
    """Polls `check` until it returns something true; `timeout` bounds the wait, it is no pause.
    `detail` says more when it times out (the logs that tell why)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}" + (("\n" + detail()) if detail else ""))
        time.sleep(0.25)


class Node:
    def __init__(self, base, index):
        self.index = index
        self.name = f"node{index}"
        self.netns = f"{PREFIX}-n{index}"
        self.address = f"10.250.0.{10 + index}"
        self.base = os.path.join(base, self.name)
        self.socket = os.path.join(self.base, "docker.sock")
        self.state = os.path.join(self.base, "plugin-state")
        self.log_path = os.path.join(self.base, "dockerd.log")
        self.env = dict(os.environ, DOCKER_HOST="unix://" + self.socket)
        self.proc = None
        for folder in (self.base, os.path.join(self.base, "run-docker"), self.state):
            os.makedirs(folder, exist_ok=True)

    def plug_in(self, switch_port):
        run("ip", "netns", "add", self.netns)
        run("ip", "link", "add", switch_port, "type", "veth", "peer", "name", "eth0", "netns", self.netns)
        run("ip", "link", "set", switch_port, "netns", SWITCH_NS)
        run("ip", "-n", SWITCH_NS, "link", "set", switch_port, "master", "br0", "up")
        run("ip", "-n", self.netns, "addr", "add", self.address + "/24", "dev", "eth0")
        run("ip", "-n", self.netns, "link", "set", "eth0", "up")
        run("ip", "-n", self.netns, "link", "set", "lo", "up")

    def start(self):
        """dockerd in the node's namespaces: its own /run/docker (dockerd keeps plugin sockets
        and netns files there whatever --exec-root says) and hostname. Each step execs the
        next, so the process started is dockerd itself."""
        script = (f"mount --bind {self.base}/run-docker /run/docker && hostname {self.name} && "
                  f"exec nsenter --net=/run/netns/{self.netns} dockerd --data-root {self.base}/data "
                  f"--exec-root {self.base}/exec --pidfile {self.base}/docker.pid -H unix://{self.socket} "
                  f"--bridge=none --iptables=false --ip-forward=false --ip-masq=false --storage-driver vfs "
                  f"--default-address-pool base=10.{100 + self.index}.0.0/16,size=24")
        os.makedirs("/run/docker", exist_ok=True)
        log = open(self.log_path, "a")
        self.proc = subprocess.Popen(["unshare", "-m", "-u", "--propagation", "slave", "sh", "-c", script],
                                     stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_until(f"dockerd of {self.name}", lambda: self.proc.poll() is not None or
                   self.cli("version", check=False).returncode == 0, 60)
        assert self.proc.poll() is None, open(self.log_path).read()[-3000:]

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)  # dockerd's own pid
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def cli(self, *args, check=True, timeout=120):
        return run(DOCKER_CLI, *args, check=check, timeout=timeout, env=self.env)

    def inspect(self, *args):
        return json.loads(self.cli(*args).stdout)

    def links(self):
        out = run("ip", "-n", self.netns, "-j", "link", "show").stdout
        return {l["ifname"] for l in json.loads(out)}

    def import_image(self, tar):
        self.cli("import", "--change", "ENV PATH=/bin", tar, IMAGE)

    def install_plugin(self, bundle):
        self.cli("plugin", "create", PLUGIN, bundle)
        self.cli("plugin", "set", PLUGIN, "state.source=" + self.state)
        self.cli("plugin", "enable", PLUGIN)

    def records(self):
        found = []
        for kind in ("networks", "endpoints"):
            folder = os.path.join(self.state, kind)
            found += os.listdir(folder) if os.path.isdir(folder) else []
        return found


SWITCH_NS = f"{PREFIX}-sw"


class Swarm:
    def __init__(self, base, size=3):
        self.base = base
        self.nodes = [Node(base, i) for i in range(1, size + 1)]
        self.manager = self.nodes[0]

    def build(self):
        run("ip", "netns", "add", SWITCH_NS)
        run("ip", "-n", SWITCH_NS, "link", "add", "br0", "type", "bridge", "mcast_snooping", "0")
        run("ip", "-n", SWITCH_NS, "link", "set", "br0", "up")
        for node in self.nodes:
            node.plug_in(f"{PREFIX}p{node.index}")
        for node in self.nodes:
            node.start()
        m = self.manager
        m.cli("swarm", "init", "--advertise-addr", m.address, "--listen-addr", m.address + ":2377",
              "--default-addr-pool", "10.251.0.0/16")
        token = m.cli("swarm", "join-token", "-q", "worker").stdout.strip()
        for node in self.nodes[1:]:
            node.cli("swarm", "join", "--token", token, "--advertise-addr", node.address, m.address + ":2377")
        wait_until("every node Ready", lambda: m.cli("node", "ls", "--format", "{{.Status}}").stdout.split()
                   == ["Ready"] * len(self.nodes), 60)

    def install(self, bundle, image_tar):
        for node in self.nodes:
            node.import_image(image_tar)
            node.install_plugin(bundle)
        # The manager places tasks only where a node's description lists the plugin, which
        # lags `plugin enable` (up to about 20 s).
        def listed():
            for node in self.nodes:
                plugins = self.manager.cli("node", "inspect", "-f",
                                           "{{range .Description.Engine.Plugins}}{{.Type}}={{.Name}} {{end}}",
                                           node.name).stdout
                if f"Network={PLUGIN}:latest" not in plugins:
                    return False
            return True
        wait_until("the plugin in every node's description", listed, 90)

    def teardown(self):
        for node in self.nodes:
            node.cli("rm", "-f", *node.cli("ps", "-aq", check=False).stdout.split(), check=False)
            node.cli("plugin", "rm", "-f", PLUGIN, check=False)
            node.stop()
            run("umount", "-R", os.path.join(node.base, "data"), check=False)
            run("ip", "netns", "del", node.netns, check=False)
        run("ip", "netns", "del", SWITCH_NS, check=False)


def busybox_tar(base):
    rootfs = os.path.join(base, "image")
    os.makedirs(os.path.join(rootfs, "bin"), exist_ok=True)
    busybox = shutil.which("busybox") or "/bin/busybox"
    shutil.copy(busybox, os.path.join(rootfs, "bin", "busybox"))
    for applet in run(busybox, "--list").stdout.split():
        if applet != "busybox":
            os.symlink("busybox", os.path.join(rootfs, "bin", applet))
    tar = os.path.join(base, "image.tar")
    run("tar", "-C", rootfs, "-cf", tar, ".")
    return tar


@pytest.fixture(scope="session")
def swarm():
    if os.geteuid() != 0:
        pytest.fail("the swarm tier needs root (namespaces, dockerd); run scripts/test as root")
    if not os.path.exists(BUNDLER):
        pytest.fail(f"{BUNDLER} is missing: scripts/test builds it (swift build -c release --static-swift-stdlib)")
    base = tempfile.mkdtemp(prefix="np-swarm-", dir="/tmp")
    bundle = os.path.join(base, "bundle")
    run(BUNDLER, "bundle", "--hooks", os.path.join(ROOT, "examples", "vxlan"), "--output", bundle, "--name", PLUGIN,
        "--tool", "ip", "--tool", "jq")
    s = Swarm(base)
    try:
        s.build()
        s.install(bundle, busybox_tar(base))
        yield s
    finally:
        s.teardown()
        # NETPLUG_KEEP_SWARM=1 keeps the nodes' logs (each node's dockerd.log holds its plugin's calls).
        if not os.environ.get("NETPLUG_KEEP_SWARM"):
            shutil.rmtree(base, ignore_errors=True)
