"""Running under systemd: the units `netplug-host systemd` writes (checked by systemd-analyze),
socket activation through systemd-socket-activate, and READY=1 / STOPPING=1 on NOTIFY_SOCKET
(read by a datagram listener standing in for systemd)."""
import os
import signal
import socket
import subprocess

import pytest

from conftest import BINARY, NET, EP, UnixConnection, Reply, run_host


def test_units_pass_systemd_analyze_and_say_what_the_readme_says(workdir, hooks):
    hooks.answer("Join.sh", {})
    units = os.path.join(workdir, "units")
    r = run_host("systemd", "--hooks", hooks.path, "--name", "mybr", "--output", units, "--timeout", "10",
                 "--group", "root", "--log-level", "debug")
    assert r.returncode == 0, r.stderr
    assert "systemctl enable --now netplug-mybr.socket" in r.stdout
    socket_unit = open(os.path.join(units, "netplug-mybr.socket")).read().splitlines()
    service_unit = open(os.path.join(units, "netplug-mybr.service")).read().splitlines()
    for line in ("ListenStream=/run/docker/plugins/mybr.sock", "SocketMode=0660", "SocketGroup=root",
                 "Before=docker.service", "WantedBy=sockets.target"):
        assert line in socket_unit, socket_unit
    program = os.path.realpath(BINARY)
    for line in ("Type=notify", "Restart=on-failure", "Before=docker.service", "Requires=netplug-mybr.socket",
                 f"ExecStart={program} serve --hooks {hooks.path} --name mybr --timeout 10 --group root --log-level debug"):
        assert line in service_unit, service_unit
    r = subprocess.run(["systemd-analyze", "verify", os.path.join(units, "netplug-mybr.socket"),
                        os.path.join(units, "netplug-mybr.service")], capture_output=True, text=True, timeout=60)
    # verify exits 0 even for lines it ignores, so what it prints counts too.
    assert r.returncode == 0 and r.stdout + r.stderr == "", r.stdout + r.stderr


def test_units_refuse_what_serve_would_refuse(workdir, hooks):
    units = os.path.join(workdir, "units")
    for args, message in ((("--socket", "/tmp/x.sock"), "--socket: the socket unit gives the socket"),
                          (("--tcp", "127.0.0.1:1"), "--tcp: the socket unit gives the socket"),
                          (("--timeout", "0"), "--timeout 0.0: give a number of seconds greater than 0"),
                          (("--no-such-flag",), "Unknown option '--no-such-flag'")):
        r = run_host("systemd", "--hooks", hooks.path, "--output", units, *args)
        assert r.returncode != 0 and message in r.stderr and r.stderr.count("\n") == 1, (args, r.stderr)
    assert not os.path.exists(units)


@pytest.fixture
def notify_listener(workdir):
    path = os.path.join(workdir, "notify")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(path)
    listener.settimeout(30)  # an upper bound on waiting for the message, not a pause
    yield path, listener
    listener.close()


def test_activated_by_systemd_socket_activate_it_notifies_ready_and_stopping(workdir, hooks, notify_listener):
    notify_path, listener = notify_listener
    seen = os.path.join(workdir, "env")
    hooks.add("Join.sh", f"cat >/dev/null; env > {seen}; echo '{{}}'\n")
    sock = os.path.join(workdir, "activated.sock")
    log = open(os.path.join(workdir, "activate.log"), "w")
    proc = subprocess.Popen(["systemd-socket-activate", "-l", sock, "-E", "NOTIFY_SOCKET=" + notify_path,
                             BINARY, "serve", "--hooks", hooks.path, "--name", "act", "--state-dir",
                             os.path.join(workdir, "state")], stdout=log, stderr=subprocess.STDOUT)
    try:
        # The socket exists before the host runs; the first connection starts it.
        while not os.path.exists(sock):
            assert proc.poll() is None, open(log.name).read()
        conn = UnixConnection(sock, timeout=30)
        conn.request("POST", "/NetworkDriver.Join", body='{"NetworkID": "%s", "EndpointID": "%s", "SandboxKey": "/x"}' % (NET, EP))
        response = conn.getresponse()
        reply = Reply(response.status, dict(response.getheaders()), response.read())
        conn.close()
        assert (reply.status, reply.json) == (200, {}), reply
        assert listener.recv(4096) == b"READY=1"
        env = open(seen).read().splitlines()
        assert not any(line.startswith(("NOTIFY_SOCKET=", "LISTEN_FDS=", "LISTEN_PID=")) for line in env), env
        proc.send_signal(signal.SIGTERM)
        assert listener.recv(4096) == b"STOPPING=1"
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
