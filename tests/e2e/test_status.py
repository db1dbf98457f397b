"""What `status` and /metrics say of a driver Docker uses: examples/bridge served by hand and
as a managed plugin with metrics turned on, on the private dockerd."""
import json
import os
import re
import socket
import subprocess
import urllib.request

from conftest import BINARY, IMAGE, ROOT, Plugin
from test_managed import managed  # noqa: F401 (the fixture)


def status(socket_path):
    out = subprocess.run([BINARY, "status", "--socket", socket_path, "--json"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def counts(status_object):
    return {method: (numbers["calls"], numbers["errors"]) for method, numbers in status_object["methods"].items()
            if method.startswith("NetworkDriver.")}


def test_status_counts_what_docker_asked(docker, base):
    plugin = Plugin(base, os.path.join(ROOT, "examples", "bridge"), f"npst{os.getpid()}")
    plugin.start()
    try:
        docker.cli("network", "create", "-d", plugin.name, "--subnet", "172.30.60.0/24", "np-status")
        for name in ("np-st1", "np-st2"):
            docker.cli("run", "-d", "--name", name, "--network", "np-status", IMAGE, "sleep", "600")
        assert docker.cli("exec", "np-st1", "ping", "-c", "1", "-W", "2", "np-st2", check=False).returncode == 0
        running = status(plugin.socket)
        assert running["hooks"] == os.path.join(ROOT, "examples", "bridge")
        assert running["records"] == {"network": 1, "endpoint": 2, "damaged": 0}
        seen = counts(running)
        for method, calls in (("CreateNetwork", 1), ("CreateEndpoint", 2), ("Join", 2),
                              ("ProgramExternalConnectivity", 2)):
            assert seen["NetworkDriver." + method] == (calls, 0), seen

        docker.cli("rm", "-f", "np-st1", "np-st2")
        docker.cli("network", "rm", "np-status")
        done = status(plugin.socket)
        seen = counts(done)
        for method, calls in (("Leave", 2), ("DeleteEndpoint", 2), ("DeleteNetwork", 1)):
            assert seen["NetworkDriver." + method] == (calls, 0), seen
        assert done["records"] == {"network": 0, "endpoint": 0, "damaged": 0}
        assert done["in_flight"] == []
        table = subprocess.run([BINARY, "status", "--socket", plugin.socket], capture_output=True, text=True, timeout=30)
        print(table.stdout)  # the README's example is a run of this
        assert re.search(r"^NetworkDriver\.Join +2 +0 +0 ", table.stdout, re.M), table.stdout
    finally:
        docker.cli("rm", "-f", "np-st1", "np-st2", check=False)
        docker.cli("network", "rm", "np-status", check=False)
        plugin.stop()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_a_managed_plugin_bundled_with_metrics_serves_them_on_the_machines_loopback(managed, docker):  # noqa: F811
    port = free_port()
    p = managed("bridge", f"npmm{os.getpid()}", "--tool", "ip", "--tool", "jq", "--metrics", f"127.0.0.1:{port}")
    assert f'"--metrics","127.0.0.1:{port}"' in open(os.path.join(p.out, "config.json")).read().replace(" ", "")
    p.create()
    p.enable()
    p.network("np-mm", "--subnet", "172.30.61.0/24")
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as reply:
        text = reply.read().decode()
    assert re.search(r'^netplug_calls_total\{method="NetworkDriver.CreateNetwork",handler="hook",outcome="ok"\} 1$', text, re.M), text
    assert re.search(r'^netplug_records\{kind="network"\} 1', text, re.M), text
    plugin_id = docker.inspect("plugin", "inspect", p.name)[0]["Id"]
    sockets = [os.path.join(folder, name) for folder, _, names in os.walk("/run/docker/plugins")
               for name in names if plugin_id in folder and name.endswith(".sock")]
    assert len(sockets) == 1, sockets
    assert counts(status(sockets[0]))["NetworkDriver.CreateNetwork"] == (1, 0)
