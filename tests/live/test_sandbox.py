"""exercise, call and replay in the sandbox: verdicts on real drivers, and proof that nothing
outside the sandbox is touched. Each driver here is written for the verdict it shows."""
import json
import os
import shutil
import subprocess

import pytest

from conftest import BINARY, ROOT, run_host

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the sandbox tests make namespaces and run as another user")


def driver(workdir, source="hooks", name="drv", edits=()):
    """A copy of a hooks folder (the starter by default), with (file, old, new) text edits."""
    folder = os.path.join(workdir, name)
    shutil.copytree(os.path.join(ROOT, source), folder)
    for file, old, new in edits:
        path = os.path.join(folder, file)
        text = open(path).read()
        assert old in text, (file, old)
        open(path, "w").write(text.replace(old, new))
    subprocess.run(["chmod", "-R", "go-w,a+rX", folder], check=True)
    return folder


def add_hook(folder, name, body):
    path = os.path.join(folder, name)
    with open(path, "w") as f:
        f.write("#!/bin/sh\n" + body)
    os.chmod(path, 0o755)


def exercise(*args, timeout=120, env=None):
    r = run_host("exercise", "--json", *args, timeout=timeout, env=env)
    assert r.stdout, r.stderr
    return r, json.loads(r.stdout)


def step(report, name):
    return next(s for s in report["steps"] if s["step"] == name)


def test_bridge_example_connects_two_containers_and_cleans_up(workdir):
    r, report = exercise("--hooks", os.path.join(ROOT, "examples", "bridge"))
    assert r.returncode == 0 and report["ok"] is True, r.stdout
    pairs = {(p["from"], p["to"], p["address"]) for p in report["pings"]}
    assert pairs == {("c1", "c2", "172.29.0.3"), ("c2", "c1", "172.29.0.2"),
                     ("c1", "gateway", "172.29.0.1"), ("c2", "gateway", "172.29.0.1")}
    assert all(p["ok"] for p in report["pings"]) and report["leftovers"] == []
    order = [s["step"] for s in report["steps"] if s["container"] == "c1"]
    assert order == ["create endpoint c1", "join c1", "external connectivity c1", "endpoint info c1",
                     "revoke connectivity c1", "leave c1", "delete endpoint c1", "delete endpoint c1 (again)"]
    assert step(report, "delete network (again)")["verdict"] == "ok"
    assert all(set(s) == {"step", "method", "container", "status", "ms", "verdict", "message"} for s in report["steps"])


def test_a_veth_attached_to_nothing_fails_the_pings(workdir):
    folder = driver(workdir, edits=[("Join.sh", 'ip link set "$host" master "$bridge"\n', "")])
    r, report = exercise("--hooks", folder)
    assert r.returncode == 1 and report["ok"] is False
    assert len(report["pings"]) == 4 and not any(p["ok"] for p in report["pings"])
    assert all(s["verdict"] == "ok" for s in report["steps"]), report["steps"]
    text = run_host("exercise", "--hooks", folder, timeout=120).stdout
    assert "c1         c2        172.29.0.3                                FAIL: no answer" in text
    assert "FAILED: all 20 steps answered, 4 of 4 pings failed, nothing left behind" in text


def test_what_the_deletes_leave_behind_is_named(workdir):
    folder = driver(workdir, edits=[("DeleteNetwork.sh", 'then ip link del "$bridge"; fi', "then :; fi")])
    add_hook(folder, "ProgramExternalConnectivity.sh",
             "cat >/dev/null\n"
             "iptables -A FORWARD -i np-leak -j ACCEPT\n"
             "sysctl -qw net.ipv4.ip_forward=1\n"
             "setsid sleep 1000 </dev/null >/dev/null 2>&1 &\n")
    r, report = exercise("--hooks", folder, "--containers", "1")
    assert r.returncode == 1 and report["ok"] is False
    assert all(p["ok"] for p in report["pings"]), report["pings"]
    kinds = {(l["kind"], l["name"]) for l in report["leftovers"]}
    bridge = [l["name"] for l in report["leftovers"] if l["kind"] == "link"]
    assert len(bridge) == 1 and bridge[0].startswith("np-"), report["leftovers"]
    assert ("address", "172.29.0.1/24") in kinds and ("route", "172.29.0.0/24") in kinds
    assert ("sysctl", "net.ipv4.ip_forward") in kinds
    assert any(k == "rule" and 'iifname "np-leak"' in n for k, n in kinds), kinds
    assert any(l["kind"] == "process" and "sleep 1000" in l["detail"] for l in report["leftovers"])
    # The sandbox took the process with it.
    assert "sleep 1000" not in subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout


def test_unknown_keys_warn_and_strict_fails_on_them(workdir):
    folder = driver(workdir, edits=[("Join.sh", "{Gateway: $gw}", "{Gatway: $gw}")])
    r, report = exercise("--hooks", folder)
    join = step(report, "join c1")
    assert join["verdict"] == "warn" and "Gatway (did you mean Gateway?)" in join["message"]
    assert "docker_gwbridge" in join["message"]
    assert r.returncode == 0 and report["ok"] is True, r.stdout
    r, report = exercise("--hooks", folder, "--strict")
    assert r.returncode == 1 and report["ok"] is False


def test_a_failed_join_is_followed_by_delete_endpoint_and_no_leave(workdir):
    # Join makes the veth pair, then fails; only DeleteEndpoint can clean up.
    failing = driver(workdir, name="failing", edits=[("Join.sh", "jq -n", "echo 'no room on the bridge' >&2; exit 1\njq -n")])
    r, report = exercise("--hooks", failing, "--containers", "1")
    steps = [s["step"] for s in report["steps"] if s["container"] == "c1"]
    assert steps == ["create endpoint c1", "join c1", "delete endpoint c1", "delete endpoint c1 (again)"]
    assert step(report, "join c1")["message"] == "no room on the bridge" and report["pings"] == []
    # The starter's DeleteEndpoint removes what Join made, so nothing is left.
    assert report["leftovers"] == [], report["leftovers"]
    leaky = driver(workdir, name="leaky")
    add_hook(leaky, "Join.sh", "cat >/dev/null\nip link add npfail0 type veth peer name npfail1\nexit 1\n")
    add_hook(leaky, "DeleteEndpoint.sh", "cat >/dev/null\n")
    r, report = exercise("--hooks", leaky, "--containers", "1")
    assert r.returncode == 1
    links = sorted(l["name"] for l in report["leftovers"] if l["kind"] == "link")
    assert links == ["npfail0", "npfail1"], report["leftovers"]


def test_ipv6_and_three_containers(workdir):
    r, report = exercise("--hooks", os.path.join(ROOT, "examples", "bridge"), "--subnet", "10.9.0.0/24",
                         "--subnet", "fd00:9::/64", "--containers", "3")
    assert r.returncode == 0 and report["ok"] is True, r.stdout
    six = [p for p in report["pings"] if ":" in p["address"]]
    assert len(six) == 6 and all(p["ok"] for p in six)
    assert {p["address"] for p in report["pings"] if p["to"] == "c3"} == {"10.9.0.4", "fd00:9::4"}
    assert len([p for p in report["pings"] if p["to"] == "gateway"]) == 3


def test_bad_subnet_and_container_counts_are_refused(workdir):
    r = run_host("exercise", "--hooks", os.path.join(ROOT, "hooks"), "--subnet", "10.9.0.0")
    assert r.returncode != 0 and "--subnet \"10.9.0.0\": give a pool in CIDR form" in r.stderr and r.stderr.count("\n") == 1
    r = run_host("exercise", "--hooks", os.path.join(ROOT, "hooks"), "--containers", "0")
    assert r.returncode != 0 and "--containers 0: give a number from 1 to 16" in r.stderr


def in_private_namespace(script, timeout=120):
    """Runs a shell script in a network namespace of the test's own, standing for the machine."""
    return subprocess.run(["unshare", "--net", "sh", "-ec", script], capture_output=True, text=True, timeout=timeout)


def test_call_and_replay_leave_a_same_named_link_outside_alone(workdir, hooks):
    hooks.add("Join", "cat >/dev/null\nip link del victim0 2>/dev/null || true\n"
                      "ip link add victim0 type veth peer name victim1\n"
                      'echo \'{"InterfaceName": {"SrcName": "victim1", "DstPrefix": "eth"}}\'\n')
    calls = os.path.join(workdir, "calls")
    os.makedirs(calls)
    with open(os.path.join(calls, "000001-NetworkDriver.Join.json"), "w") as f:
        json.dump({"Path": "/NetworkDriver.Join", "Status": 200,
                   "Request": {"NetworkID": "n1", "EndpointID": "e1", "SandboxKey": "/var/run/docker/netns/live"},
                   "Response": {"InterfaceName": {"SrcName": "victim1", "DstPrefix": "eth"}}}, f)
    r = in_private_namespace(f"""
        ip link add victim0 type veth peer name victim1
        before=$(ip -o link show victim0 | cut -d: -f1)
        {BINARY} call Join --hooks {hooks.path} --state-dir {workdir}/s1
        {BINARY} replay {calls} --hooks {hooks.path}
        test "$(ip -o link show victim0 | cut -d: -f1)" = "$before" && ip -br link show victim1 && echo untouched
    """)
    assert r.returncode == 0 and "untouched" in r.stdout, r.stdout + r.stderr
    assert "all 1 answers are the same" in r.stdout


def test_call_writes_no_record_outside_the_sandbox(workdir):
    record = "/var/lib/netplug/netplug/networks/" + "3f" * 32 + ".json"
    existed = os.path.exists(record)
    r = run_host("call", "CreateNetwork", "--hooks", os.path.join(ROOT, "hooks"))
    assert r.returncode == 0 and r.stdout.startswith("200 "), r.stderr
    assert os.path.exists(record) == existed
    state = os.path.join(workdir, "state")
    r = run_host("call", "CreateNetwork", "--hooks", os.path.join(ROOT, "hooks"), "--state-dir", state)
    assert os.listdir(os.path.join(state, "networks")) == ["3f" * 32 + ".json"]


def test_on_host_runs_in_the_callers_namespace(workdir, hooks):
    hooks.add("CreateNetwork", "cat >/dev/null\nip link add np-onhost type bridge\n")
    r = in_private_namespace(f"""
        {BINARY} call CreateNetwork --on-host --hooks {hooks.path} --state-dir {workdir}/s
        ip -br link show np-onhost
    """)
    assert r.returncode == 0 and "np-onhost" in r.stdout, r.stdout + r.stderr


def test_keep_leaves_the_sandbox_and_says_how_to_enter_it(workdir):
    folder = driver(workdir, edits=[("DeleteNetwork.sh", 'then ip link del "$bridge"; fi', "then :; fi")])
    r = run_host("exercise", "--hooks", folder, "--keep", "--containers", "1", timeout=120)
    lines = r.stdout.splitlines()
    enter = next(l for l in lines if l.startswith("sandbox kept: enter its host with: "))
    command = enter.split("with: ")[1].split()
    kill = next(l for l in lines if l.startswith("remove it with: ")).split("with: ")[1]
    try:
        assert any(l.startswith("  container c1: nsenter --net=/proc/") for l in lines)
        assert any(l.startswith("state folder: /tmp/netplug-exercise-") for l in lines)
        inside = subprocess.run(command + ["ip", "-br", "link"], capture_output=True, text=True)
        assert inside.returncode == 0 and "np-" in inside.stdout, inside.stdout + inside.stderr
        assert "np-" not in subprocess.run(["ip", "-br", "link"], capture_output=True, text=True).stdout
    finally:
        subprocess.run(["sh", "-c", kill])
    assert subprocess.run(command + ["true"], capture_output=True).returncode != 0


def test_another_user_gets_a_sandbox_of_user_namespaces(workdir):
    folder = driver(workdir, source="examples/bridge")
    r = subprocess.run(["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups", BINARY, "exercise",
                        "--hooks", folder, "--json"], capture_output=True, text=True, timeout=120, cwd="/tmp")
    if r.returncode == 2 and "user namespaces" in r.stderr:
        pytest.skip("this kernel gives unprivileged users no user namespaces")
    report = json.loads(r.stdout)
    assert r.returncode == 0 and report["ok"] is True, r.stdout + r.stderr


def test_no_namespace_no_run_and_one_line_naming_on_host(workdir):
    # A user namespace where nobody may make namespaces: no capability, no user namespaces left.
    r = subprocess.run(["unshare", "--user", "--map-root-user", "sh", "-c",
                        "echo 0 > /proc/sys/user/max_user_namespaces && exec setpriv --inh-caps=-all --bounding-set=-all "
                        f"{BINARY} exercise --hooks {ROOT}/hooks"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2, r.stdout + r.stderr
    assert r.stdout == "" and r.stderr.count("\n") == 1 and "--on-host" in r.stderr, r.stderr


def test_the_first_driver_guide_works_as_written(workdir):
    """docs/FIRST-DRIVER.md: init, then each hook body the guide gives, then exercise says what it says."""
    guide = open(os.path.join(ROOT, "docs", "FIRST-DRIVER.md")).read()
    folder = os.path.join(workdir, "mydriver")
    assert run_host("init", folder).returncode == 0
    r, report = exercise("--hooks", folder)
    assert r.returncode == 1 and not any(p["ok"] for p in report["pings"])
    blocks = guide.split("```")
    bodies = {}
    for before, block in zip(blocks[0::2], blocks[1::2]):
        named = [w.rstrip(":`,.").lstrip("`") for w in before.split() if w.startswith("`mydriver/")]
        if named and named[-1].endswith(".sh"):
            bodies[os.path.basename(named[-1])] = block[len("sh\n"):]
    assert sorted(bodies) == ["CreateNetwork.sh", "DeleteEndpoint.sh", "DeleteNetwork.sh", "Join.sh"], sorted(bodies)

    def apply(name):
        path = os.path.join(folder, name)
        text = open(path).read()
        assert text.endswith("request=$(cat)\necho '{}'\n")
        open(path, "w").write(text[: -len("request=$(cat)\necho '{}'\n")] + bodies[name])

    apply("CreateNetwork.sh")
    apply("Join.sh")
    r, report = exercise("--hooks", folder)
    assert all(p["ok"] for p in report["pings"]) and len(report["pings"]) == 4, report
    assert len([l for l in report["leftovers"] if l["kind"] == "link"]) == 5 and r.returncode == 1
    apply("DeleteEndpoint.sh")
    apply("DeleteNetwork.sh")
    r, report = exercise("--hooks", folder)
    assert r.returncode == 0 and report["ok"] is True, report
    assert "passed: all 20 steps answered, all 4 pings answered, nothing left behind" in guide
