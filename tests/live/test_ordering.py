"""Section 3: calls on one network run one at a time in arrival order; networks run in parallel."""
import os
import threading
import time


def make_recorder(hooks, workdir):
    log = os.path.join(workdir, "calls.log")
    # Each call logs start and end with a timestamp, holding the call open 0.4 s.
    hooks.add("Join", f"""cat >/dev/null
echo "start $NETPLUG_NETWORK_ID $NETPLUG_ENDPOINT_ID $(date +%s.%N)" >> {log}
sleep 0.4
echo "end $NETPLUG_NETWORK_ID $NETPLUG_ENDPOINT_ID $(date +%s.%N)" >> {log}
""")
    return log


def spans(log):
    result = {}
    for line in open(log):
        kind, net, ep, at = line.split()
        result.setdefault((net, ep), {})[kind] = float(at)
    return result


def fire(host, bodies, gap=0.05):
    threads = []
    for body in bodies:
        t = threading.Thread(target=host.call, args=("/NetworkDriver.Join", body))
        t.start()
        threads.append(t)
        time.sleep(gap)  # a known arrival order
    for t in threads:
        t.join()


def test_same_network_calls_never_overlap_and_keep_arrival_order(start, hooks, workdir):
    log = make_recorder(hooks, workdir)
    host = start()
    fire(host, [{"NetworkID": "n1", "EndpointID": f"e{i}"} for i in range(4)])
    s = spans(log)
    ordered = [s[("n1", f"e{i}")] for i in range(4)]
    for a, b in zip(ordered, ordered[1:]):
        assert a["end"] <= b["start"], (a, b)


def test_different_networks_run_in_parallel(start, hooks, workdir):
    log = make_recorder(hooks, workdir)
    host = start()
    fire(host, [{"NetworkID": f"n{i}", "EndpointID": "e"} for i in range(4)], gap=0)
    s = spans(log)
    starts = sorted(v["start"] for v in s.values())
    ends = sorted(v["end"] for v in s.values())
    assert starts[-1] < ends[0], "the four networks' calls did not overlap"
