"""The Python module for resident hooks, spoken to over pipes as netplug-host speaks to it."""
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def driver(tmp_path, body):
    path = tmp_path / "resident.py"
    path.write_text(f"import sys\nsys.path.insert(0, {os.path.join(ROOT, 'python')!r})\nimport netplug\n" + body)
    return [sys.executable, str(path), "resident"]


def converse(argv, calls):
    """Sends the call lines, closes stdin, and returns (lines written, stderr, exit status)."""
    text = "".join(json.dumps(call) + "\n" for call in calls)
    done = subprocess.run(argv, input=text, capture_output=True, text=True, timeout=30)
    return [json.loads(line) for line in done.stdout.splitlines()], done.stderr, done.returncode


def call(n, method, request=None, env=None):
    return {"id": n, "method": method, "request": request or {}, "env": env or {}}


def test_ready_line_then_one_answer_per_call_until_end_of_file(tmp_path):
    argv = driver(tmp_path, """
def join(request, env):
    return {"InterfaceName": {"SrcName": "veth" + request["EndpointID"][:4], "DstPrefix": "eth"},
            "Method": env["NETPLUG_METHOD"]}
netplug.serve({"Join": join})
""")
    lines, stderr, status = converse(argv, [
        call(1, "NetworkDriver.Join", {"EndpointID": "abcdef"}, {"NETPLUG_METHOD": "NetworkDriver.Join"}),
        call(2, "NetworkDriver.Leave"),
    ])
    assert status == 0, stderr
    assert lines == [
        {"netplug": 1},
        {"id": 1, "answer": {"InterfaceName": {"SrcName": "vethabcd", "DstPrefix": "eth"}, "Method": "NetworkDriver.Join"}},
        {"id": 2},
    ]


def test_full_method_names_none_and_refusals(tmp_path):
    argv = driver(tmp_path, """
def pool(request, env):
    if request.get("V6"):
        raise netplug.Error("IPv4 only; create the network without --ipv6")
    return None
netplug.serve({"IpamDriver.RequestPool": pool})
""")
    lines, _, status = converse(argv, [call(7, "IpamDriver.RequestPool", {"V6": True}), call(8, "IpamDriver.RequestPool")])
    assert status == 0
    assert lines[1:] == [{"id": 7, "error": "IPv4 only; create the network without --ipv6"}, {"id": 8}]


def test_a_bug_in_a_handler_fails_the_call_and_the_driver_stays(tmp_path):
    argv = driver(tmp_path, """
def create(request, env):
    return {}["missing"]
def answer_set(request, env):
    return {"Value": {1, 2}}
netplug.serve({"CreateNetwork": create, "EndpointOperInfo": answer_set})
""")
    lines, stderr, status = converse(argv, [call(1, "NetworkDriver.CreateNetwork"), call(2, "NetworkDriver.EndpointOperInfo"),
                                            call(3, "NetworkDriver.Join")])
    assert status == 0
    assert lines[1] == {"id": 1, "error": "NetworkDriver.CreateNetwork failed: KeyError: 'missing'"}
    assert lines[2]["id"] == 2 and "the answer is not JSON" in lines[2]["error"]
    assert lines[3] == {"id": 3}
    assert "Traceback" in stderr and "KeyError" in stderr


def test_a_handler_that_is_not_a_function_is_refused_before_the_ready_line(tmp_path):
    lines, stderr, status = converse(driver(tmp_path, 'netplug.serve({"Join": 42})\n'), [])
    assert status != 0 and lines == []
    assert "the handler for 'Join' is not a function" in stderr
