"""Metrics and `status` against the real binary: a known mix of calls, then the exact numbers
on GET /metrics (the plugin socket and --metrics), in `status --json`, and in Prometheus."""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

import pytest

from conftest import BINARY, EP, NET, ROOT, UnixConnection, run_host

JOIN = {"NetworkID": NET, "EndpointID": EP, "SandboxKey": "/var/run/docker/netns/x", "Options": {}}
LEAVE = {"NetworkID": NET, "EndpointID": EP}
CREATE_EP = {"NetworkID": NET, "EndpointID": EP, "Interface": {"Address": "10.9.0.2/24"}, "Options": {}}
SERIES = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(text):
    """Prometheus' text format: {(name, frozenset(labels)): value}, and the TYPE of each name."""
    samples, types = {}, {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            types[name] = kind
            continue
        if not line or line.startswith("#"):
            continue
        match = SERIES.match(line)
        assert match, f"not a sample line: {line!r}"
        labels = frozenset(LABEL.findall(match.group(2) or ""))
        samples[(match.group(1), labels)] = float(match.group(3))
    return samples, types


def scrape(host):
    reply = host.call("/metrics", method="GET")
    assert reply.status == 200, reply
    assert reply.headers["Content-Type"].startswith("text/plain; version=0.0.4"), reply.headers
    return parse(reply.raw.decode())


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())))


def calls(samples):
    """netplug_calls_total as {(method, handler, outcome): count}."""
    found = {}
    for (name, labels), count in samples.items():
        if name == "netplug_calls_total":
            found[tuple(dict(labels)[k] for k in ("method", "handler", "outcome"))] = count
    return found


def status_json(host):
    out = run_host("status", "--socket", host.socket, "--json")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def make_mix(hooks, start):
    """Every handler but `resident` and every outcome, in known numbers."""
    hooks.answer("Join", {})
    hooks.answer("Leave", {"Err": "no such veth"})
    hooks.add("CreateEndpoint", "cat >/dev/null; exec sleep 30\n")
    host = start("--timeout", "1")
    for _ in range(3):
        assert host.call("/NetworkDriver.Join", JOIN).status == 200
    for _ in range(2):
        assert host.call("/NetworkDriver.Leave", LEAVE).status == 500
    assert host.call("/NetworkDriver.CreateEndpoint", CREATE_EP).err == "hook CreateEndpoint timed out after 1 s"
    for _ in range(2):
        assert host.call("/NetworkDriver.GetCapabilities", {}).status == 200
    assert host.call("/NetworkDriver.Join", {"EndpointID": EP}).status == 400
    assert host.call("/NetworkDriver.Teleport", {}).status == 404
    assert host.call("/Plugin.Activate").status == 200
    return host


EXPECTED = {
    ("NetworkDriver.Join", "hook", "ok"): 3,
    ("NetworkDriver.Join", "none", "bad_request"): 1,
    ("NetworkDriver.Leave", "hook", "error"): 2,
    ("NetworkDriver.CreateEndpoint", "hook", "timeout"): 1,
    ("NetworkDriver.GetCapabilities", "default", "ok"): 2,
    ("unknown", "none", "bad_request"): 1,
    ("Plugin.Activate", "default", "ok"): 1,
}


def test_exact_counts_per_label_and_histograms_that_add_up(hooks, start):
    host = make_mix(hooks, start)
    samples, types = scrape(host)
    assert calls(samples) == EXPECTED
    assert types["netplug_calls_total"] == "counter"
    assert types["netplug_call_duration_seconds"] == "histogram"
    assert types["netplug_calls_in_flight"] == "gauge"
    per_method = {}
    for (method, _, _), count in EXPECTED.items():
        per_method[method] = per_method.get(method, 0) + count
    for method, count in per_method.items():
        assert value(samples, "netplug_call_duration_seconds_count", method=method) == count, method
        buckets = sorted(
            (float("inf") if dict(labels)["le"] == "+Inf" else float(dict(labels)["le"]), n)
            for (name, labels), n in samples.items()
            if name == "netplug_call_duration_seconds_bucket" and dict(labels)["method"] == method)
        assert buckets[0][0] == 0.0001 and buckets[-2][0] == 30 and buckets[-1] == (float("inf"), count), buckets
        assert all(a[1] <= b[1] for a, b in zip(buckets, buckets[1:])), f"not cumulative: {buckets}"
    # The timed-out call took at least the timeout: nothing of it is under 1 s.
    assert value(samples, "netplug_call_duration_seconds_bucket", method="NetworkDriver.CreateEndpoint", le="0.5") == 0
    assert value(samples, "netplug_call_duration_seconds_sum", method="NetworkDriver.CreateEndpoint") >= 1
    assert value(samples, "netplug_calls_in_flight") == 0
    # Asking is not a call: a second scrape counts the same.
    assert calls(scrape(host)[0]) == EXPECTED


def test_status_json_reports_the_same_numbers(hooks, start):
    host = make_mix(hooks, start)
    status = status_json(host)
    assert status["version"] == run_host("--version").stdout.split()[1]
    assert status["hooks"] == hooks.path
    assert status["uptime_seconds"] > 0
    assert status["in_flight"] == [] and status["resident"] == []
    # Join keeps its answer in the endpoint's record (Leave does not remove it: it failed).
    assert status["records"] == {"network": 0, "endpoint": 1, "damaged": 0}
    numbers = {m: (v["calls"], v["errors"], v["timeouts"]) for m, v in status["methods"].items()}
    assert numbers == {
        "NetworkDriver.Join": (4, 1, 0),
        "NetworkDriver.Leave": (2, 2, 0),
        "NetworkDriver.CreateEndpoint": (1, 0, 1),
        "NetworkDriver.GetCapabilities": (2, 0, 0),
        "unknown": (1, 1, 0),
        "Plugin.Activate": (1, 0, 0),
    }
    for method, numbers in status["methods"].items():
        assert 0 < numbers["p50_seconds"] <= numbers["p99_seconds"] <= 30, (method, numbers)
    assert status["methods"]["NetworkDriver.CreateEndpoint"]["p50_seconds"] >= 1
    # The same numbers as the metrics, read from the same counters.
    samples, _ = scrape(host)
    for method, numbers in status["methods"].items():
        assert value(samples, "netplug_call_duration_seconds_count", method=method) == numbers["calls"]


def test_status_prints_a_table_and_says_when_no_host_answers(hooks, start, workdir):
    host = make_mix(hooks, start)
    out = run_host("status", "--socket", host.socket)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("netplug-host ") and f"hooks {hooks.path}" in lines[0], lines
    leave = next(line for line in lines if line.startswith("NetworkDriver.Leave "))
    assert leave.split()[1:4] == ["2", "2", "0"], leave
    assert "records: network 0, endpoint 1, damaged 0" in lines
    missing = run_host("status", "--socket", os.path.join(workdir, "none.sock"))
    assert missing.returncode == 1 and missing.stdout == ""
    assert missing.stderr.count("\n") == 1 and "cannot reach a host at" in missing.stderr and "none.sock" in missing.stderr


def test_watch_redraws_until_interrupted_and_exits_0(hooks, start):
    host = start()
    watch = subprocess.Popen([BINARY, "status", "--socket", host.socket, "--watch", "--json"],
                             stdout=subprocess.PIPE, text=True)
    try:
        first = json.loads(watch.stdout.readline())
        second = json.loads(watch.stdout.readline())
        assert second["uptime_seconds"] > first["uptime_seconds"]
        watch.send_signal(signal.SIGINT)
        assert watch.wait(10) == 0
    finally:
        watch.kill()
        watch.wait()


def test_in_flight_gauge_and_status_while_a_call_is_held(hooks, start, workdir):
    gate = os.path.join(workdir, "gate")
    arrived = os.path.join(workdir, "arrived")
    os.mkfifo(gate)
    hooks.add("Join", f"cat >/dev/null; : > {arrived}; cat {gate} >/dev/null; echo '{{}}'\n")
    host = start()
    result = {}
    caller = threading.Thread(target=lambda: result.setdefault("reply", host.call("/NetworkDriver.Join", JOIN)))
    caller.start()
    try:
        while not os.path.exists(arrived):
            assert caller.is_alive(), result
            time.sleep(0.01)
        samples, _ = scrape(host)
        assert value(samples, "netplug_calls_in_flight") == 1
        held = status_json(host)["in_flight"]
        assert len(held) == 1 and held[0]["method"] == "NetworkDriver.Join" and held[0]["network"] == NET, held
        assert held[0]["age_seconds"] > 0
    finally:
        with open(gate, "w") as fifo:
            fifo.write("go\n")
        caller.join(30)
    assert result["reply"].status == 200
    samples, _ = scrape(host)
    assert value(samples, "netplug_calls_in_flight") == 0
    assert status_json(host)["in_flight"] == []


RESIDENT = f"""#!{sys.executable}
import os, sys
sys.path.insert(0, {os.path.join(ROOT, "python")!r})
import netplug
with open(os.path.join(os.environ["NETPLUG_STATE_DIR"], "pid"), "w") as f:
    f.write(str(os.getpid()))

def info(request, env):
    return {{"Value": {{}}}}

netplug.serve({{"EndpointOperInfo": info}})
"""


def test_resident_calls_instances_and_starts(hooks, start):
    hooks.add("resident.py", RESIDENT, shell="")
    host = start()
    for _ in range(3):
        assert host.call("/NetworkDriver.EndpointOperInfo", {"NetworkID": NET, "EndpointID": EP}).status == 200
    samples, _ = scrape(host)
    assert calls(samples) == {("NetworkDriver.EndpointOperInfo", "resident", "ok"): 3}
    assert value(samples, "netplug_resident_instances", family="NetworkDriver") == 1
    assert value(samples, "netplug_resident_starts_total", family="NetworkDriver") == 1
    assert value(samples, "netplug_resident_instances", family="IpamDriver") == 0
    pid = int(open(os.path.join(host.state, "pid")).read())
    assert status_json(host)["resident"] == [{"family": "NetworkDriver", "pid": pid, "calls": 3}]


def test_records_and_damaged_records(hooks, start):
    host = start()
    create = {"NetworkID": NET, "IPv4Data": [{"AddressSpace": "", "Pool": "10.9.0.0/24", "Gateway": "10.9.0.1/24"}],
              "IPv6Data": [], "Options": {}}
    assert host.call("/NetworkDriver.CreateNetwork", create).status == 200
    assert host.call("/NetworkDriver.CreateEndpoint", CREATE_EP).status == 200
    with open(os.path.join(host.state, "networks", "f" * 64 + ".json"), "w") as f:
        f.write("{not json")
    samples, _ = scrape(host)
    assert value(samples, "netplug_records", kind="network") == 2
    assert value(samples, "netplug_records", kind="endpoint") == 1
    assert value(samples, "netplug_records_damaged") == 1
    assert status_json(host)["records"] == {"network": 2, "endpoint": 1, "damaged": 1}


def test_build_info_and_process_metrics(hooks, start):
    host = start()
    samples, _ = scrape(host)
    version = run_host("--version").stdout.split()[1]
    assert value(samples, "netplug_build_info", version=version) == 1
    rss = value(samples, "process_resident_memory_bytes")
    assert 1 << 20 < rss < 1 << 30, rss
    before = value(samples, "process_open_fds")
    # Five connections held open (each answered once, so accepted): five more descriptors,
    # give or take the scrapes' own connections, which may still be closing.
    held = []
    for _ in range(5):
        conn = UnixConnection(host.socket, timeout=10)
        conn.request("POST", "/Plugin.Activate")
        conn.getresponse().read()
        held.append(conn)
    try:
        after = value(scrape(host)[0], "process_open_fds")
        assert 3 <= after - before <= 7, (before, after)
        assert abs(after - len(os.listdir(f"/proc/{host.proc.pid}/fd"))) <= 2, after
    finally:
        for conn in held:
            conn.close()
    started = value(samples, "process_start_time_seconds")
    assert time.time() - 600 < started <= time.time(), started


def metrics_port(host):
    match = re.search(r"metrics=127\.0\.0\.1:(\d+)", host.read_log())
    assert match, host.read_log()
    return int(match.group(1))


def test_metrics_listener_serves_metrics_and_nothing_else(hooks, start):
    host = start("--metrics", "127.0.0.1:0")
    assert host.call("/NetworkDriver.GetCapabilities", {}).status == 200
    port = metrics_port(host)
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as reply:
        assert reply.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        samples, _ = parse(reply.read().decode())
    assert calls(samples) == {("NetworkDriver.GetCapabilities", "default", "ok"): 1}
    for method, path in (("GET", "/status"), ("POST", "/NetworkDriver.GetCapabilities"), ("POST", "/metrics")):
        request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method, data=b"{}" if method == "POST" else None)
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        assert refused.value.code == 404, (method, path)
    # Nothing that came over TCP was a call.
    assert calls(scrape(host)[0]) == {("NetworkDriver.GetCapabilities", "default", "ok"): 1}


def test_bad_metrics_address_is_one_line(hooks, workdir):
    out = run_host("serve", "--hooks", hooks.path, "--socket", os.path.join(workdir, "p.sock"), "--metrics", "9464")
    assert out.returncode == 64 and out.stderr.count("\n") == 1, out
    assert '--metrics "9464": use HOST:PORT' in out.stderr
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    try:
        port = taken.getsockname()[1]
        out = run_host("serve", "--hooks", hooks.path, "--socket", os.path.join(workdir, "p.sock"),
                       "--state-dir", os.path.join(workdir, "state"), "--metrics", f"127.0.0.1:{port}")
    finally:
        taken.close()
    assert out.returncode == 1 and f"--metrics 127.0.0.1:{port}: cannot listen there" in out.stderr, out
    assert not os.path.exists(os.path.join(workdir, "p.sock"))


PROMETHEUS = shutil.which("prometheus")


@pytest.mark.skipif(PROMETHEUS is None and not os.environ.get("CI"), reason="Debian's prometheus is not installed")
def test_a_real_prometheus_scrapes_the_calls(hooks, start, workdir):
    host = start("--metrics", "127.0.0.1:0")
    for _ in range(5):
        assert host.call("/NetworkDriver.Join", JOIN).status == 200
    free = socket.socket()
    free.bind(("127.0.0.1", 0))
    web = free.getsockname()[1]
    free.close()
    config = os.path.join(workdir, "prometheus.yml")
    with open(config, "w") as f:
        f.write("global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: netplug\n    static_configs:\n"
                f"      - targets: ['127.0.0.1:{metrics_port(host)}']\n")
    log = open(os.path.join(workdir, "prometheus.log"), "w")
    prometheus = subprocess.Popen([PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={workdir}/tsdb",
                                   f"--web.listen-address=127.0.0.1:{web}"], stdout=log, stderr=subprocess.STDOUT)
    try:
        query = urllib.parse.quote('sum(netplug_calls_total{method="NetworkDriver.Join",outcome="ok"})')
        found, deadline = None, time.monotonic() + 60
        while found != 5.0:
            assert prometheus.poll() is None, open(log.name).read()
            assert time.monotonic() < deadline, f"Prometheus never had the 5 calls: {found} {open(log.name).read()[-2000:]}"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{web}/api/v1/query?query={query}", timeout=5) as reply:
                    result = json.load(reply)["data"]["result"]
                found = float(result[0]["value"][1]) if result else None
            except OSError:
                pass  # not listening yet
            if found != 5.0:
                time.sleep(0.2)
        # The queries docs/METRICS.md gives are ones Prometheus takes.
        documented = re.findall(r"```promql\n(.*?)```", open(os.path.join(ROOT, "docs", "METRICS.md")).read(), re.S)
        assert len(documented) == 2
        for expression in documented:
            url = f"http://127.0.0.1:{web}/api/v1/query?query={urllib.parse.quote(expression)}"
            with urllib.request.urlopen(url, timeout=5) as reply:
                assert json.load(reply)["status"] == "success", expression
    finally:
        prometheus.terminate()
        prometheus.wait(30)
        log.close()


PROMTOOL = shutil.which("promtool")


@pytest.mark.skipif(PROMTOOL is None and not os.environ.get("CI"), reason="Debian's prometheus is not installed")
def test_the_documented_alerts_and_queries_are_valid(workdir):
    text = open(os.path.join(ROOT, "docs", "METRICS.md")).read()
    rules = re.search(r"```yaml\n(groups:.*?)```", text, re.S).group(1)
    path = os.path.join(workdir, "rules.yml")
    with open(path, "w") as f:
        f.write(rules)
    out = subprocess.run([PROMTOOL, "check", "rules", path], capture_output=True, text=True)
    assert out.returncode == 0 and "SUCCESS: 3 rules found" in out.stdout, out


def test_no_metrics_counts_nothing_and_says_so(hooks, start):
    host = start("--no-metrics")
    assert host.call("/NetworkDriver.GetCapabilities", {}).status == 200
    reply = host.call("/metrics", method="GET")
    assert reply.status == 404 and reply.raw.decode().strip() == "this host counts nothing: it was started with --no-metrics"
    out = run_host("status", "--socket", host.socket)
    assert out.returncode == 1 and "this host counts nothing: it was started with --no-metrics" in out.stderr, out
    both = run_host("serve", "--hooks", hooks.path, "--metrics", "127.0.0.1:0", "--no-metrics")
    assert both.returncode == 64 and "--metrics and --no-metrics cannot be used together" in both.stderr, both
