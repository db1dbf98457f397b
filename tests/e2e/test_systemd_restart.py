"""Why the systemd socket unit matters, on a real dockerd: a socket held from before dockerd
starts (as systemd's socket unit holds it) lets Docker wait for a host that starts late,
instead of giving up after its 15 s of retries."""
import os
import select
import signal
import socket
import subprocess
import time

import pytest

from conftest import BINARY, DOCKER_CLI, IMAGE, ROOT, Docker


class SocketHolder:
    """What systemd does for netplug-NAME.socket: binds /run/docker/plugins/NAME.sock once and
    keeps it across host restarts, and starts the host with it as fd 3 (LISTEN_FDS, LISTEN_PID)."""

    def __init__(self, base, name, hooks):
        self.name, self.hooks = name, hooks
        self.path = f"/run/docker/plugins/{name}.sock"
        self.state = os.path.join(base, "state-" + name)
        self.log_path = os.path.join(base, name + ".log")
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        if os.path.exists(self.path):
            os.unlink(self.path)
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(self.path)
        os.chmod(self.path, 0o660)
        self.listener.listen(128)
        self.pid = None

    def start_host(self):
        log = os.open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        pid = os.fork()
        if pid == 0:
            try:
                os.dup2(log, 1)
                os.dup2(log, 2)
                os.dup2(self.listener.fileno(), 3)  # dup2 leaves fd 3 open across exec
                env = dict(os.environ, LISTEN_FDS="1", LISTEN_PID=str(os.getpid()))
                os.execve(BINARY, [BINARY, "serve", "--hooks", self.hooks, "--name", self.name,
                                   "--state-dir", self.state, "--timeout", "20"], env)
            finally:
                os._exit(127)
        os.close(log)
        self.pid = pid

    def stop_host(self):
        os.kill(self.pid, signal.SIGTERM)
        _, status = os.waitpid(self.pid, 0)
        self.pid = None
        assert os.waitstatus_to_exitcode(status) == 0, open(self.log_path).read()

    def connection_waiting(self, timeout):
        """True once a client's connection waits in the socket's queue."""
        return bool(select.select([self.listener], [], [], timeout)[0])

    def close(self):
        if self.pid:
            self.stop_host()
        self.listener.close()
        if os.path.exists(self.path):
            os.unlink(self.path)


@pytest.fixture
def private_docker(base):
    d = Docker(os.path.join(base, "restart"))
    os.makedirs(d.base, exist_ok=True)
    yield d
    d.stop()


def test_docker_start_waits_for_a_host_started_20_s_after_dockerd(private_docker, base):
    d = private_docker
    holder = SocketHolder(base, f"npsd{os.getpid()}", os.path.join(ROOT, "examples", "bridge"))
    try:
        holder.start_host()
        d.start()
        d.cli("network", "create", "-d", holder.name, "--subnet", "172.30.50.0/24", "np-sd")
        d.cli("create", "--name", "np-sd1", "--network", "np-sd", IMAGE, "sleep", "600")
        d.cli("start", "np-sd1")
        # dockerd restarts while the host is down; the socket stays held.
        d.stop(remove_containers=False)
        holder.stop_host()
        d.start()
        dockerd_ready = time.monotonic()
        start = subprocess.Popen([DOCKER_CLI, "start", "np-sd1"], env=d.env, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
        assert holder.connection_waiting(timeout=60), "dockerd never called the plugin"
        # The scenario, not a synchronisation: the host comes up 20 s after dockerd, past the
        # 15 s for which Docker retries a socket that is missing.
        time.sleep(max(0.0, 20 - (time.monotonic() - dockerd_ready)))
        holder.start_host()
        out, err = start.communicate(timeout=120)
        assert start.returncode == 0, err
        assert d.inspect("inspect", "np-sd1")[0]["State"]["Running"] is True
        gateway = "172.30.50.1"
        assert d.cli("exec", "np-sd1", "ping", "-c", "1", "-W", "2", gateway, check=False).returncode == 0
        d.cli("rm", "-f", "np-sd1")
        d.cli("network", "rm", "np-sd")
    finally:
        d.cli("rm", "-f", "np-sd1", check=False)
        d.cli("network", "rm", "np-sd", check=False)
        holder.close()
