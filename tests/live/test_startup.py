"""The command line, start-up checks, sockets, signals (README, "Command line")."""
import grp
import json
import os
import signal
import socket
import stat
import subprocess
import threading
import time

from conftest import BINARY, EP, NET, Host, run_host


def start_fails(workdir, hooks, *args):
    r = run_host("--hooks", hooks.path, "--socket", os.path.join(workdir, "p.sock"),
                 "--state-dir", os.path.join(workdir, "state"), *args)
    assert r.returncode != 0
    assert not os.path.exists(os.path.join(workdir, "p.sock"))
    return r.stderr


def test_refuses_non_executable_hook(workdir, hooks):
    hooks.answer("Join.sh", {})
    os.chmod(os.path.join(hooks.path, "Join.sh"), 0o644)
    err = start_fails(workdir, hooks)
    assert err.strip().count("\n") == 0 and "hook Join.sh is not executable" in err


def test_refuses_two_files_for_one_method(workdir, hooks):
    hooks.answer("Join", {})
    hooks.answer("Join.sh", {})
    err = start_fails(workdir, hooks)
    assert "two hooks claim NetworkDriver.Join: Join and Join.sh" in err


def test_refuses_writable_hooks_unless_allowed(workdir, hooks, start):
    path = hooks.answer("Join", {})
    os.chmod(path, 0o775)
    err = start_fails(workdir, hooks)
    assert f"{path} is writable by group or others" in err and "--allow-insecure-hooks" in err
    os.chmod(path, 0o755)
    os.chmod(hooks.path, 0o757)
    assert f"{hooks.path} is writable by group or others" in start_fails(workdir, hooks)
    host = start("--allow-insecure-hooks")
    assert host.call("/NetworkDriver.Join", {"NetworkID": NET, "EndpointID": EP}).status == 200


def test_unknown_names_are_warned_with_a_suggestion(start, hooks):
    hooks.answer("Jion.sh", {})
    host = start()
    log = host.read_log()
    assert "Jion.sh" in log and "did you mean Join?" in log


def test_missing_folder(workdir, hooks):
    err = start_fails(workdir, hooks, "--hooks", os.path.join(workdir, "nope"))
    assert "does not exist" in err


def test_usage_errors_are_one_line(workdir, hooks):
    for args, needle in [(["--timeout", "0"], "--timeout"), (["--timeout", "abc"], "timeout"),
                         (["--scope", "galaxy"], "--scope"), (["--log-level", "loud"], "--log-level"),
                         (["--tcp", "nohostport"], "--tcp"), (["--name", "../x"], "--name"),
                         (["--bogus"], "bogus"), (["--group", "no-such-group-xyz"], "no such group")]:
        r = run_host("--hooks", hooks.path, *args)
        assert r.returncode != 0, args
        assert r.stderr.strip().count("\n") == 0 and needle in r.stderr, (args, r.stderr)
        assert "Traceback" not in r.stderr and "Fatal error" not in r.stderr
    r = run_host()
    assert r.returncode != 0 and r.stderr.strip().count("\n") == 0 and "--hooks" in r.stderr


def test_help_shows_an_example():
    r = run_host("serve", "--help")
    assert r.returncode == 0 and "Example" in r.stdout and "--hooks" in r.stdout


def test_socket_mode_and_group(start, hooks):
    group = grp.getgrall()[-1]
    host = start("--group", str(group.gr_gid))
    info = os.stat(host.socket)
    assert stat.S_ISSOCK(info.st_mode)
    assert stat.S_IMODE(info.st_mode) == 0o660
    assert info.st_gid == group.gr_gid


def test_default_socket_path_under_run_docker_plugins(workdir, hooks):
    name = f"nptest{os.getpid()}"
    path = f"/run/docker/plugins/{name}.sock"
    proc = subprocess.Popen([BINARY, "--hooks", hooks.path, "--name", name, "--state-dir", os.path.join(workdir, "s")],
                            stderr=subprocess.PIPE)
    try:
        for _ in range(300):
            if os.path.exists(path):
                break
            time.sleep(0.02)
        assert os.path.exists(path)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
    assert not os.path.exists(path)


def test_stale_socket_is_replaced_live_socket_is_refused(workdir, hooks, start):
    path = os.path.join(workdir, "p.sock")
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(path)
    stale.close()  # the file stays, nobody accepts
    host = start()
    assert host.call("/Plugin.Activate").status == 200
    err = start_fails_live(workdir, hooks)
    assert "in use" in err and path in err
    assert host.call("/Plugin.Activate").status == 200


def start_fails_live(workdir, hooks):
    r = run_host("--hooks", hooks.path, "--socket", os.path.join(workdir, "p.sock"),
                 "--state-dir", os.path.join(workdir, "state"))
    assert r.returncode != 0
    return r.stderr


def test_sigterm_while_a_hook_runs(workdir, hooks):
    running, gate = os.path.join(workdir, "running"), os.path.join(workdir, "gate")
    os.mkfifo(gate)
    # The hook says it runs, then waits for the test to open the gate.
    hooks.add("Join", f"cat >/dev/null; touch {running}; read go < {gate}; echo '{{\"Gateway\": \"10.0.0.1\"}}'\n")
    host = Host(workdir, hooks)
    result = {}
    t = threading.Thread(target=lambda: result.update(r=host.call("/NetworkDriver.Join", {"NetworkID": NET, "EndpointID": EP})))
    t.start()
    deadline = time.time() + 15
    while not os.path.exists(running):
        assert time.time() < deadline, "the hook did not start"
        time.sleep(0.01)
    host.proc.send_signal(signal.SIGTERM)
    while "stopping" not in host.read_log():
        assert time.time() < deadline, "the host did not begin to stop"
        time.sleep(0.01)
    with open(gate, "w") as f:
        f.write("go\n")
    t.join(10)
    assert result["r"].status == 200 and result["r"].json == {"Gateway": "10.0.0.1"}
    assert host.proc.wait(10) == 0
    assert not os.path.exists(host.socket)


def test_sigterm_during_start_up_is_a_clean_stop(workdir, hooks):
    """A stop that comes while the host is still starting (here: right after its first log
    line, a warning from the folder check) ends it cleanly, never by the signal's default."""
    hooks.add("Jion", "exit 0\n")  # not a method's name: warned about before the socket exists
    for _ in range(5):
        proc = subprocess.Popen([BINARY, "--hooks", hooks.path, "--socket", os.path.join(workdir, "p.sock"),
                                 "--state-dir", os.path.join(workdir, "s")], stderr=subprocess.PIPE, text=True)
        first = proc.stderr.readline()
        assert "not the name of a NetworkDriver method" in first, first
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
        assert "stopped" in proc.stderr.read()


def test_sigint_exits_zero_and_removes_the_socket(workdir, hooks):
    host = Host(workdir, hooks)
    host.proc.send_signal(signal.SIGINT)
    assert host.proc.wait(10) == 0
    assert not os.path.exists(host.socket)


def test_tcp_with_spec_file(workdir, hooks):
    specdir = os.path.join(workdir, "specs")
    proc = subprocess.Popen([BINARY, "--hooks", hooks.path, "--name", "tcpnet", "--tcp", "127.0.0.1:0",
                             "--spec-dir", specdir, "--state-dir", os.path.join(workdir, "s")], stderr=subprocess.PIPE)
    spec = os.path.join(specdir, "tcpnet.spec")
    try:
        for _ in range(300):
            if os.path.exists(spec):
                break
            time.sleep(0.02)
        url = open(spec).read()
        assert url == url.strip(), "the spec file holds the address and nothing else"
        assert url.startswith("tcp://127.0.0.1:")
        port = int(url.rsplit(":", 1)[1])
        assert port > 0
        import http.client
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("POST", "/Plugin.Activate")
        assert json.loads(conn.getresponse().read()) == {"Implements": ["NetworkDriver"]}
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
    assert not os.path.exists(spec)


def test_systemd_socket_activation(workdir, hooks):
    path = os.path.join(workdir, "activated.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(16)
    fd = listener.fileno()
    script = f'exec 3<&{fd}; exec {fd}<&-; export LISTEN_PID=$$ LISTEN_FDS=1; exec "$@"'
    proc = subprocess.Popen(["bash", "-c", script, "bash", BINARY, "--hooks", hooks.path,
                             "--state-dir", os.path.join(workdir, "s"), "--socket", os.path.join(workdir, "unused.sock")],
                            pass_fds=(fd,), stderr=subprocess.PIPE)
    listener.close()
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect(path)
        s.sendall(b"POST /Plugin.Activate HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        data = b""
        while not data.endswith(b"]}"):
            chunk = s.recv(4096)
            assert chunk, data
            data += chunk
        assert b"HTTP/1.1 200" in data
        assert not os.path.exists(os.path.join(workdir, "unused.sock"))
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0


def test_json_logs(start, hooks):
    hooks.add("Join", "cat >/dev/null; echo 'hook says hi' >&2\n")
    host = start("--log-format", "json")
    host.call("/NetworkDriver.Join", {"NetworkID": NET, "EndpointID": EP})
    lines = [json.loads(l) for l in host.read_log().splitlines() if l.strip()]
    call = [l for l in lines if l.get("call.method") == "NetworkDriver.Join"][0]
    assert call["http.status"] == "200" and call["hook"] == "Join" and "call.duration_ms" in call
    assert any(l["message"] == "hook says hi" for l in lines)
