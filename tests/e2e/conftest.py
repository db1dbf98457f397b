"""The end-to-end tier: a private dockerd (its own data, exec root, socket and pid file; no
bridge, no iptables), a busybox image made with `docker import`, and netplug-host serving
examples/bridge where Docker looks for legacy plugins."""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BINARY = os.environ.get("NETPLUG_HOST") or os.path.join(ROOT, ".build", "debug", "netplug-host")
IMAGE = "netplug-busybox:e2e"
# The 20.10 CLI that matches Debian's dockerd; a newer one may come first in PATH and refuse
# flags against an older daemon.
DOCKER_CLI = "/usr/bin/docker" if os.path.exists("/usr/bin/docker") else "docker"


class Docker:
    def __init__(self, base):
        self.base = base
        self.socket = os.path.join(base, "docker.sock")
        self.pidfile = os.path.join(base, "docker.pid")
        self.log_path = os.path.join(base, "dockerd.log")
        self.env = dict(os.environ, DOCKER_HOST="unix://" + self.socket)
        self.proc = None
        self.storage = None

    def start(self):
        # A restart keeps the storage driver that worked: the data root is made for it.
        for storage in [self.storage] if self.storage else ("overlay2", "vfs"):
            args = ["dockerd", "--data-root", os.path.join(self.base, "data"), "--exec-root", os.path.join(self.base, "exec"),
                    "--pidfile", self.pidfile, "-H", "unix://" + self.socket, "--bridge=none", "--iptables=false",
                    "--ip-forward=false", "--ip-masq=false", "--storage-driver", storage]
            log = open(self.log_path, "a")
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            deadline = time.time() + 40
            while time.time() < deadline and self.proc.poll() is None:
                if self.cli("version", check=False).returncode == 0:
                    if self.cli("import", "--help", check=False).returncode == 0 and self.image_works():
                        self.storage = storage
                        return
                    break
                time.sleep(0.2)
            self.stop()
        raise RuntimeError("dockerd did not start; see " + self.log_path + ":\n" + open(self.log_path).read()[-3000:])

    def image_works(self):
        rootfs = os.path.join(self.base, "rootfs")
        os.makedirs(os.path.join(rootfs, "bin"), exist_ok=True)
        busybox = shutil.which("busybox") or "/bin/busybox"
        shutil.copy(busybox, os.path.join(rootfs, "bin", "busybox"))
        applets = subprocess.run([busybox, "--list"], capture_output=True, text=True, check=True).stdout.split()
        for applet in applets:
            link = os.path.join(rootfs, "bin", applet)
            if applet != "busybox" and not os.path.lexists(link):
                os.symlink("busybox", link)
        tar = os.path.join(self.base, "rootfs.tar")
        subprocess.run(["tar", "-C", rootfs, "-cf", tar, "."], check=True)
        self.cli("import", "--change", "ENV PATH=/bin", tar, IMAGE)
        return self.cli("run", "--rm", "--network", "none", IMAGE, "true", check=False).returncode == 0

    def cli(self, *args, check=True, timeout=120):
        r = subprocess.run([DOCKER_CLI, *args], capture_output=True, text=True, env=self.env, timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError(f"docker {' '.join(args)} failed ({r.returncode}): {r.stderr.strip()}")
        return r

    def inspect(self, *args):
        return json.loads(self.cli(*args).stdout)

    def stop(self, remove_containers=True):
        if self.proc and self.proc.poll() is None:
            if remove_containers:
                self.cli("rm", "-f", *self.cli("ps", "-aq", check=False).stdout.split(), check=False)
            os.kill(self.proc.pid, signal.SIGTERM)  # by its pid, as started
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        subprocess.run(["umount", "-R", os.path.join(self.base, "data")], capture_output=True)


class Plugin:
    """netplug-host serving a hooks folder on /run/docker/plugins/NAME.sock."""

    def __init__(self, base, hooks, name, env=None):
        self.hooks = hooks
        self.name = name
        self.env = env
        self.state = os.path.join(base, "state-" + name)
        self.log_path = os.path.join(base, name + ".log")
        self.socket = f"/run/docker/plugins/{name}.sock"
        self.proc = None

    def start(self):
        log = open(self.log_path, "a")
        self.proc = subprocess.Popen([BINARY, "--hooks", self.hooks, "--name", self.name, "--state-dir", self.state,
                                      "--timeout", "20"], stdout=log, stderr=subprocess.STDOUT, env=self.env)
        deadline = time.time() + 15
        while not os.path.exists(self.socket):
            assert self.proc.poll() is None, open(self.log_path).read()
            assert time.time() < deadline, "netplug-host did not start"
            time.sleep(0.02)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            assert self.proc.wait(30) == 0
        assert not os.path.exists(self.socket)

    def log(self):
        return open(self.log_path).read()


@pytest.fixture(scope="session")
def base():
    if os.geteuid() != 0:
        pytest.fail("the e2e tier needs root (it starts dockerd and makes bridges); run scripts/test as root")
    path = tempfile.mkdtemp(prefix="np-e2e-", dir="/tmp")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def docker(base):
    d = Docker(base)
    d.start()
    yield d
    d.stop()


@pytest.fixture(scope="session")
def bridge_plugin(base, docker):
    p = Plugin(base, os.path.join(ROOT, "examples", "bridge"), f"npe2e{os.getpid()}")
    p.start()
    yield p
    p.stop()


@pytest.fixture(scope="session", params=["bridge-ipam", "bridge-ipam-resident"])
def ipam_plugin(base, docker, request):
    """The bridge driver and the Python IPAM driver on one socket: as four hook files
    (examples/bridge-ipam), and as one resident hook (examples/bridge-ipam-resident)."""
    suffix = "r" if request.param.endswith("resident") else ""
    p = Plugin(base, os.path.join(ROOT, "examples", request.param), f"npipam{suffix}{os.getpid()}")
    p.start()
    yield p
    p.stop()
