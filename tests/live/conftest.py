"""Fixtures for the live tier: the real netplug-host binary, a real Unix socket, real hooks."""
import http.client
import json
import os
import signal
import socket
import subprocess
import tempfile
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BINARY = os.environ.get("NETPLUG_HOST") or os.path.join(ROOT, ".build", "debug", "netplug-host")


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=60):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.unix_path)


class Reply:
    def __init__(self, status, headers, raw):
        self.status = status
        self.headers = headers
        self.raw = raw
        try:
            self.json = json.loads(raw) if raw else None
        except ValueError:
            self.json = None

    @property
    def err(self):
        return (self.json or {}).get("Err")

    def __repr__(self):
        return f"Reply({self.status}, {self.raw[:300]!r})"


class Hooks:
    """A hooks folder a test writes into (mode 0755, as the host requires)."""

    def __init__(self, path):
        self.path = path
        os.makedirs(path, exist_ok=True)
        os.chmod(path, 0o755)

    def add(self, name, body, mode=0o755, shell="#!/bin/sh\n"):
        path = os.path.join(self.path, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        os.chmod(os.path.dirname(path), 0o755)
        with open(path, "w") as f:
            f.write(shell + body if shell else body)
        os.chmod(path, mode)
        return path

    def answer(self, name, obj):
        """A hook that reads its request and prints `obj`."""
        return self.add(name, "cat >/dev/null\ncat <<'EOF'\n" + json.dumps(obj) + "\nEOF\n")

    def remove(self, name):
        os.unlink(os.path.join(self.path, name))


class Host:
    def __init__(self, workdir, hooks, args=(), env=None, expect_start=True):
        self.workdir = workdir
        self.hooks = hooks
        self.socket = os.path.join(workdir, "p.sock")
        self.state = os.path.join(workdir, "state")
        self.log_path = os.path.join(workdir, "host.log")
        self.args = [BINARY, "--hooks", hooks.path, "--socket", self.socket, "--state-dir", self.state, *args]
        self.log = open(self.log_path, "w+")
        self.proc = subprocess.Popen(self.args, stdout=self.log, stderr=subprocess.STDOUT, env=env)
        if expect_start:
            self.wait_ready()

    def wait_ready(self, timeout=15):
        end = time.time() + timeout
        while time.time() < end:
            if self.proc.poll() is not None:
                raise AssertionError(f"netplug-host exited {self.proc.returncode}: {self.read_log()}")
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(self.socket)
                s.close()
                return
            except OSError:
                time.sleep(0.02)
        raise AssertionError("netplug-host did not start: " + self.read_log())

    def connect(self, timeout=None):
        """A raw connection to the host's socket, for what http.client will not send."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect(self.socket)
        return s

    def read_log(self):
        with open(self.log_path) as f:
            return f.read()

    def call(self, path, body=None, method="POST", timeout=60, headers=None):
        conn = UnixConnection(self.socket, timeout=timeout)
        try:
            if body is not None and not isinstance(body, (bytes, str)):
                body = json.dumps(body)
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return Reply(resp.status, dict(resp.getheaders()), resp.read())
        finally:
            conn.close()

    def stop(self, sig=signal.SIGTERM, timeout=40):
        """Stops the host; with SIGKILL (a host that dies), then also every process it
        started (hooks, resident instances), which a dead host no longer can."""
        started = descendants(self.proc.pid) if self.proc.poll() is None else []
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if sig == signal.SIGKILL:
            self.orphans = started
        self.log.close()
        return self.proc.returncode

    orphans = ()

    def stop_orphans(self):
        for pid in self.orphans:
            for target in (-pid, pid):
                try:
                    os.kill(target, signal.SIGKILL)
                except OSError:
                    pass


def descendants(pid):
    """Every process under `pid`, children first-found."""
    children = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                stat = open(f"/proc/{name}/stat").read()
            except OSError:
                continue
            parent = int(stat[stat.rindex(")") + 2:].split()[1])
            children.setdefault(parent, []).append(int(name))
    found, queue = [], [pid]
    while queue:
        for child in children.get(queue.pop(), []):
            found.append(child)
            queue.append(child)
    return found


# Every host this run starts passes its environment on to its hooks and resident instances:
# this mark tells them from another run's on the same machine.
RUN_MARK = "NETPLUG_TEST_RUN=" + os.environ.setdefault("NETPLUG_TEST_RUN", str(os.getpid()))


def netplug_processes():
    """Processes started for this run's hooks (hooks, resident instances), by their
    environment: what a test must not leave behind."""
    found = {}
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == os.getpid():
            continue
        try:
            environ = open(f"/proc/{name}/environ", "rb").read().split(b"\0")
            stat = open(f"/proc/{name}/stat").read()
        except OSError:
            continue
        if stat[stat.rindex(")") + 2] == "Z":
            continue
        if RUN_MARK.encode() not in environ:
            continue
        if b"NETPLUG_RESIDENT=1" in environ or any(v.startswith(b"NETPLUG_METHOD=") for v in environ):
            found[int(name)] = open(f"/proc/{name}/cmdline", "rb").read().replace(b"\0", b" ").decode(errors="replace")
    return found


@pytest.fixture(autouse=True)
def leaves_no_process_behind():
    before = set(netplug_processes())
    yield
    left = {}
    for _ in range(100):  # a stopped process takes a moment to be gone
        left = {pid: cmd for pid, cmd in netplug_processes().items() if pid not in before}
        if not left:
            return
        time.sleep(0.05)
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    pytest.fail(f"the test left processes running: {left}")


@pytest.fixture
def workdir():
    # Short paths: a Unix socket path must fit in 108 bytes.
    path = tempfile.mkdtemp(prefix="np-", dir="/tmp")
    os.chmod(path, 0o755)
    yield path
    subprocess.run(["rm", "-rf", path])


@pytest.fixture
def hooks(workdir):
    return Hooks(os.path.join(workdir, "hooks"))


@pytest.fixture
def start(workdir, hooks):
    started = []

    def _start(*args, **kw):
        host = Host(workdir, hooks, args, **kw)
        started.append(host)
        return host

    yield _start
    for host in started:
        host.stop(signal.SIGKILL)
        host.stop_orphans()


def run_host(*args, timeout=20, env=None):
    return subprocess.run([BINARY, *args], capture_output=True, text=True, timeout=timeout, env=env)


NET = "a" * 64
EP = "b" * 64
