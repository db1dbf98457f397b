"""The records the host keeps for hooks (README, "Records"), and that they survive crashes."""
import json
import os
import random
import signal
import socket
import subprocess
import threading
import time

from conftest import BINARY, EP, NET, Host, UnixConnection, run_host

CREATE = {"NetworkID": NET, "Options": {"com.docker.network.generic": {"mtu": "1400"}},
          "IPv4Data": [{"AddressSpace": "LocalDefault", "Pool": "10.20.0.0/24", "Gateway": "10.20.0.1/24"}], "IPv6Data": []}
ENDPOINT = {"NetworkID": NET, "EndpointID": EP, "Interface": {"Address": "10.20.0.2/24"}, "Options": {}}
JOIN = {"NetworkID": NET, "EndpointID": EP, "SandboxKey": "/var/run/docker/netns/abc", "Options": {}}
PAIR = {"NetworkID": NET, "EndpointID": EP}


def read(path):
    with open(path) as f:
        return json.load(f)


def test_the_record_lifecycle(start, hooks):
    hooks.answer("CreateEndpoint", {"Interface": {"MacAddress": "02:42:0a:14:00:02"}})
    hooks.answer("Join", {"InterfaceName": {"SrcName": "veth9", "DstPrefix": "eth"}, "Gateway": "10.20.0.1"})
    host = start()
    net_file = os.path.join(host.state, "networks", NET + ".json")
    ep_file = os.path.join(host.state, "endpoints", EP + ".json")

    assert host.call("/NetworkDriver.CreateNetwork", CREATE).status == 200
    assert read(net_file) == {"NetworkID": NET, "Request": CREATE, "Response": {}}

    assert host.call("/NetworkDriver.CreateEndpoint", ENDPOINT).status == 200
    assert read(ep_file) == {"NetworkID": NET, "EndpointID": EP, "Request": ENDPOINT,
                             "Response": {"Interface": {"MacAddress": "02:42:0a:14:00:02"}}}

    assert host.call("/NetworkDriver.Join", JOIN).status == 200
    record = read(ep_file)
    assert record["Join"] == {"Request": JOIN, "Response": {"InterfaceName": {"SrcName": "veth9", "DstPrefix": "eth"},
                                                            "Gateway": "10.20.0.1"}}
    assert record["Request"] == ENDPOINT

    assert host.call("/NetworkDriver.Leave", PAIR).status == 200
    assert "Join" not in read(ep_file) and read(ep_file)["Request"] == ENDPOINT

    assert host.call("/NetworkDriver.DeleteEndpoint", PAIR).status == 200
    assert not os.path.exists(ep_file)
    assert host.call("/NetworkDriver.DeleteNetwork", {"NetworkID": NET}).status == 200
    assert not os.path.exists(net_file)
    # Deleting again is fine: nothing to remove.
    assert host.call("/NetworkDriver.DeleteNetwork", {"NetworkID": NET}).status == 200


def test_a_failed_call_writes_no_record(start, hooks):
    hooks.add("CreateNetwork", "cat >/dev/null; echo 'no' >&2; exit 1\n")
    host = start()
    assert host.call("/NetworkDriver.CreateNetwork", CREATE).status == 500
    assert os.listdir(os.path.join(host.state, "networks")) == []


def test_join_hook_reads_the_records(start, hooks, workdir):
    out = os.path.join(workdir, "seen")
    hooks.add("Join", f"""cat >/dev/null
jq -c '{{gw: .Request.IPv4Data[0].Gateway, addr: $ep[0].Request.Interface.Address,
        netfile: $ENV.NETPLUG_NETWORK_FILE, epfile: $ENV.NETPLUG_ENDPOINT_FILE}}' \
   --slurpfile ep "$NETPLUG_ENDPOINT_FILE" "$NETPLUG_NETWORK_FILE" > {out}
""")
    host = start()
    host.call("/NetworkDriver.CreateNetwork", CREATE)
    host.call("/NetworkDriver.CreateEndpoint", ENDPOINT)
    r = host.call("/NetworkDriver.Join", JOIN)
    assert r.status == 200, r
    assert read(out) == {"gw": "10.20.0.1/24", "addr": "10.20.0.2/24",
                         "netfile": os.path.join(host.state, "networks", NET + ".json"),
                         "epfile": os.path.join(host.state, "endpoints", EP + ".json")}


def test_no_file_variables_without_a_record(start, hooks, workdir):
    out = os.path.join(workdir, "seen")
    hooks.add("Join", f"cat >/dev/null; echo \"[${{NETPLUG_NETWORK_FILE-unset}}][${{NETPLUG_ENDPOINT_FILE-unset}}]\" > {out}\n")
    start().call("/NetworkDriver.Join", JOIN)
    assert open(out).read().strip() == "[unset][unset]"


def test_records_survive_a_restart_and_state_lists_them(workdir, hooks):
    host = Host(workdir, hooks)
    host.call("/NetworkDriver.CreateNetwork", CREATE)
    host.call("/NetworkDriver.CreateEndpoint", ENDPOINT)
    host.call("/NetworkDriver.Join", JOIN)
    assert host.stop() == 0
    host = Host(workdir, hooks)
    try:
        r = run_host("state", "--state-dir", host.state)
        assert r.returncode == 0
        lines = r.stdout.splitlines()
        assert lines[0].split() == ["KIND", "ID", "NETWORK", "JOINED", "DETAIL"]
        assert any(l.split()[:2] == ["network", NET[:12]] and "10.20.0.0/24" in l for l in lines)
        assert any(l.split()[:4] == ["endpoint", EP[:12], NET[:12], "yes"] and "10.20.0.2/24" in l for l in lines)
        listed = json.loads(run_host("state", "--state-dir", host.state, "--json").stdout)
        kinds = {(e["kind"], e["id"]) for e in listed["records"]}
        assert kinds == {("network", NET), ("endpoint", EP)}
        # The restarted host still hands the records to hooks and updates them.
        assert host.call("/NetworkDriver.Leave", PAIR).status == 200
        assert "Join" not in read(os.path.join(host.state, "endpoints", EP + ".json"))
    finally:
        host.stop()


def test_damaged_record_is_reported_and_blocks_nothing(workdir, hooks):
    state = os.path.join(workdir, "state")
    os.makedirs(os.path.join(state, "networks"))
    os.makedirs(os.path.join(state, "endpoints"))
    damaged = os.path.join(state, "endpoints", EP + ".json")
    with open(damaged, "w") as f:
        f.write('{"NetworkID": "' + NET + '", "Request": {"Interf')
    hooks.answer("Join", {"Gateway": "10.20.0.1"})
    host = Host(workdir, hooks)
    try:
        assert damaged in host.read_log() and "damaged record" in host.read_log()
        r = run_host("state", "--state-dir", state)
        assert r.returncode == 1 and damaged in r.stdout and "damaged record" in r.stdout
        other = {"NetworkID": "other", "EndpointID": "ep2"}
        assert host.call("/NetworkDriver.CreateEndpoint", other).status == 200
        assert host.call("/NetworkDriver.Join", JOIN).status == 200
        assert read(damaged)["Join"]["Response"] == {"Gateway": "10.20.0.1"}
    finally:
        host.stop()


def test_state_by_name_and_for_an_empty_folder(workdir):
    r = run_host("state", "--state-dir", os.path.join(workdir, "none"))
    assert r.returncode == 0 and "no records" in r.stdout


def accepts(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(path)
        return True
    except OSError:
        return False
    finally:
        s.close()


def test_sigkill_at_random_moments_never_tears_a_record(workdir, hooks):
    """200 kills during a stream of calls; every record is then absent or a whole, valid
    document whose request the client sent (answered 200, or in flight at the kill)."""
    rng = random.Random(7)
    sent = {}  # record path -> list of (request, answered_200)
    state = os.path.join(workdir, "state")
    sock = os.path.join(workdir, "p.sock")
    kills = 0
    log = open(os.path.join(workdir, "crash.log"), "w")

    def stream(stop):
        seq = 0
        while not stop.is_set():
            seq += 1
            net = f"n{seq % 5}"
            ep = f"e{seq % 7}"
            body = {"NetworkID": net, "Options": {"seq": seq, "pad": "x" * rng.randrange(0, 40000)}}
            kind = seq % 4
            if kind == 0:
                path, method = os.path.join(state, "networks", net + ".json"), "CreateNetwork"
            elif kind == 1:
                body = {"NetworkID": net, "EndpointID": ep, "Options": body["Options"]}
                path, method = os.path.join(state, "endpoints", ep + ".json"), "CreateEndpoint"
            elif kind == 2:
                body = {"NetworkID": net, "EndpointID": ep, "SandboxKey": "k", "Options": body["Options"]}
                path, method = os.path.join(state, "endpoints", ep + ".json"), "Join"
            else:
                body = {"NetworkID": net, "EndpointID": ep}
                path, method = os.path.join(state, "endpoints", ep + ".json"), "Leave"
            entry = [body, False]
            sent.setdefault(path, []).append(entry)
            try:
                conn = UnixConnection(sock, timeout=5)
                conn.request("POST", "/NetworkDriver." + method, body=json.dumps(body))
                resp = conn.getresponse()
                resp.read()
                entry[1] = resp.status == 200
                conn.close()
            except OSError:
                return

    def check():
        for folder in ("networks", "endpoints"):
            for name in os.listdir(os.path.join(state, folder)):
                path = os.path.join(state, folder, name)
                if name.startswith("."):
                    continue  # a temporary file: never a record, removed at the next start
                with open(path) as f:
                    record = json.load(f)  # raises on a torn or half-written file
                requests = [r for r, _ in sent.get(path, [])]
                # A Join on an endpoint with no record yet starts one with only "Join".
                kept = [r for r in (record.get("Request"), record.get("Join", {}).get("Request")) if r is not None]
                assert kept and all(r in requests for r in kept), path

    while kills < 200:
        proc = subprocess.Popen([BINARY, "--hooks", hooks.path, "--socket", sock, "--state-dir", state],
                                stdout=log, stderr=log)
        deadline = time.time() + 10
        while not accepts(sock):  # the killed host's socket file is stale until this one replaces it
            assert proc.poll() is None and time.time() < deadline
            time.sleep(0.005)
        stop = threading.Event()
        threads = [threading.Thread(target=stream, args=(stop,)) for _ in range(3)]
        for t in threads:
            t.start()
        time.sleep(rng.uniform(0.005, 0.08))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        kills += 1
        stop.set()
        for t in threads:
            t.join()
        check()
    answered = sum(1 for entries in sent.values() for _, ok in entries if ok)
    assert answered > 200, "too few calls were answered to exercise the writes"
    print(f"{kills} kills, {answered} calls answered 200")
