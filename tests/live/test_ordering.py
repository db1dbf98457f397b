"""Calls on one network run one at a time, in arrival order; networks run in parallel. Each
call's hook is held on a FIFO of its own until the test opens it, and says when it starts and
ends in a log, so the test steps the calls through by events instead of by time."""
import fcntl
import json
import os
import struct
import termios
import time

from conftest import Reply


def gated_join(hooks, workdir):
    """Join logs "start NET EP", waits until its FIFO (gate-NET-EP) is opened, logs "end NET EP"."""
    log = os.path.join(workdir, "calls.log")
    hooks.add("Join", f"""cat >/dev/null
echo "start $NETPLUG_NETWORK_ID $NETPLUG_ENDPOINT_ID" >> {log}
cat {workdir}/gate-$NETPLUG_NETWORK_ID-$NETPLUG_ENDPOINT_ID >/dev/null
echo "end $NETPLUG_NETWORK_ID $NETPLUG_ENDPOINT_ID" >> {log}
echo '{{}}'
""")
    return log


def events(log):
    return open(log).read().splitlines() if os.path.exists(log) else []


def wait_for(log, line, bound=30):
    """Returns the log once `line` is in it; the bound only ends a test that hangs."""
    end = time.monotonic() + bound
    while line not in events(log):
        assert time.monotonic() < end, f"never logged {line!r}: {events(log)}"
        time.sleep(0.01)
    return events(log)


class Pending:
    """A Join sent on a connection of its own, its answer read later."""

    def __init__(self, host, workdir, net, ep):
        self.gate = os.path.join(workdir, f"gate-{net}-{ep}")
        os.mkfifo(self.gate)
        body = json.dumps({"NetworkID": net, "EndpointID": ep}).encode()
        self.sock = host.connect(timeout=60)
        self.sock.sendall(b"POST /NetworkDriver.Join HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                          b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        # Arrival is an event too: the request has left our socket once the host has read it.
        end = time.monotonic() + 30
        while struct.unpack("i", fcntl.ioctl(self.sock.fileno(), termios.TIOCOUTQ, b"\0" * 4))[0] > 0:
            assert time.monotonic() < end, "the host never read the request"
            time.sleep(0.001)

    def open(self):
        with open(self.gate, "w") as fifo:
            fifo.write("go\n")

    def answer(self):
        data = b""
        while True:
            chunk = self.sock.recv(65536)
            if not chunk:
                break
            data += chunk
        self.sock.close()
        head, _, body = data.partition(b"\r\n\r\n")
        return Reply(int(head.split()[1]), {}, body)


def test_same_network_calls_never_overlap_and_keep_arrival_order(start, hooks, workdir):
    log = gated_join(hooks, workdir)
    host = start()
    calls = []
    for i in range(4):
        calls.append(Pending(host, workdir, "n1", f"e{i}"))
        if i == 0:
            wait_for(log, "start n1 e0")
    # Another network's call runs to its end meanwhile: the three others on n1 are still waiting.
    other = Pending(host, workdir, "n2", "x")
    wait_for(log, "start n2 x")
    other.open()
    assert other.answer().status == 200
    seen = wait_for(log, "end n2 x")
    assert [line for line in seen if line.startswith("start n1")] == ["start n1 e0"], seen
    # Each one released lets exactly the next in arrival order start.
    for i in range(4):
        calls[i].open()
        assert calls[i].answer().status == 200
        if i < 3:
            seen = wait_for(log, f"start n1 e{i + 1}")
            started = [line for line in seen if line.startswith("start n1")]
            assert started == [f"start n1 e{k}" for k in range(i + 2)], seen
    n1 = [line for line in events(log) if " n1 " in line]
    assert n1 == [f"{kind} n1 e{i}" for i in range(4) for kind in ("start", "end")], n1


def test_different_networks_run_in_parallel(start, hooks, workdir):
    log = gated_join(hooks, workdir)
    host = start()
    calls = [Pending(host, workdir, f"n{i}", "e") for i in range(4)]
    # All four start while none has been let go: they run at the same time.
    for i in range(4):
        wait_for(log, f"start n{i} e")
    assert not any(line.startswith("end") for line in events(log))
    for call in calls:
        call.open()
        assert call.answer().status == 200
