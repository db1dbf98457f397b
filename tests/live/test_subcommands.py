"""init, check, call, exercise, serve --record / replay, schema, through the binary."""
import json
import os
import re
import subprocess

from conftest import BINARY, ROOT, Host, run_host


def test_init_then_check_then_exercise_sh(workdir):
    folder = os.path.join(workdir, "drv")
    r = run_host("init", folder)
    assert r.returncode == 0, r.stderr
    assert sorted(os.listdir(folder))[:3] == ["AllocateNetwork.sh", "CreateEndpoint.sh", "CreateNetwork.sh"]
    assert len(os.listdir(folder)) == 15
    join = open(os.path.join(folder, "Join.sh")).read()
    assert join.startswith("#!/bin/sh\n# NetworkDriver.Join: The container starts")
    assert "SandboxKey" in join and '"InterfaceName"' in join and "Without this file netplug-host answers: {}" in join
    r = run_host("check", "--hooks", folder)
    assert r.returncode == 0 and "0 error(s), 0 warning(s), 15 hook(s)" in r.stdout, r.stdout
    # The starting point answers every call, and makes no interface yet: exercise says so.
    r = run_host("exercise", "--hooks", folder, timeout=120)
    assert r.returncode == 1 and "FAILED: all 16 steps answered, 2 with a warning, 4 of 4 pings failed" in r.stdout, r.stdout + r.stderr
    assert "delete network (again)" in r.stdout and "Join gave no InterfaceName.SrcName" in r.stdout


def test_init_python_with_ipam_passes_exercise(workdir):
    folder = os.path.join(workdir, "py")
    assert run_host("init", folder, "--lang", "python", "--ipam").returncode == 0
    assert os.path.exists(os.path.join(folder, "ipam", "RequestPool.py"))
    r = run_host("check", "--hooks", folder)
    assert r.returncode == 0, r.stdout
    r = run_host("exercise", "--hooks", folder, "--ipam", timeout=300)
    assert "FAILED: all 30 steps answered, 2 with a warning, 4 of 4 pings failed" in r.stdout, r.stdout + r.stderr
    assert "request pool" in r.stdout and "release pool (again)" in r.stdout
    # The pool and addresses came from the IPAM hooks.
    assert "10.99.0.2 " in r.stdout


def test_init_refuses_a_folder_with_files(workdir, hooks):
    hooks.answer("Join", {})
    r = run_host("init", hooks.path)
    assert r.returncode != 0 and "already exists" in r.stderr and r.stderr.count("\n") == 1


def test_check_finds_what_serve_would_and_more(workdir, hooks):
    hooks.add("Jion.sh", "echo {}\n")
    hooks.add("Leave", "echo {}\n", shell="")  # no #! line
    hooks.add("Join.py", "print('{}')\n", shell="#!/usr/bin/env python-does-not-exist\n")
    hooks.add("CreateNetwork", "echo\n", shell="#!/opt/nothing/sh\n")
    hooks.add("DeleteNetwork", "echo\n", mode=0o644)
    r = run_host("check", "--hooks", hooks.path)
    assert r.returncode == 1
    out = r.stdout
    assert "warning:" in out and "Jion.sh" in out and "did you mean Join?" in out
    assert "hook Leave has no #! line" in out
    assert "python-does-not-exist is not on PATH" in out
    assert "names the interpreter /opt/nothing/sh, which is not installed" in out
    assert "hook DeleteNetwork is not executable" in out
    assert "default: NetworkDriver.EndpointOperInfo answers {\"Value\":{}}" in out
    report = json.loads(run_host("check", "--hooks", hooks.path, "--json").stdout)
    assert report["hooks"]["NetworkDriver.Join"] == "Join.py"
    assert "NetworkDriver.GwAllocCheck" in report["defaults"]
    assert any("Jion.sh" in w for w in report["warnings"]) and len(report["errors"]) == 4


def test_call_prints_the_answer_and_status(workdir, hooks):
    state = os.path.join(workdir, "state")
    hooks.add("Join", 'read r; echo "{\\"Gateway\\": \\"10.1.0.1\\"}"; echo "saw $NETPLUG_NETWORK_ID" >&2\n')
    r = run_host("call", "Join", "--hooks", hooks.path, "--state-dir", state)
    assert r.returncode == 0 and r.stdout.strip() == '200 {"Gateway":"10.1.0.1"}', r.stdout
    assert "saw " + "3f" * 32 in r.stderr  # the realistic request's network, logged as serve does
    hooks.add("CreateNetwork", "cat >/dev/null; echo 'option mtu is not a number' >&2; exit 1\n")
    body = os.path.join(workdir, "req.json")
    with open(body, "w") as f:
        json.dump({"NetworkID": "n1"}, f)
    r = run_host("call", "NetworkDriver.CreateNetwork", "--hooks", hooks.path, "--state-dir", state, "--request", body)
    assert r.returncode == 1 and r.stdout.strip() == '500 {"Err":"option mtu is not a number"}'
    r = subprocess.run([BINARY, "call", "CreateNetwork", "--hooks", hooks.path, "--state-dir", state, "--request", "-"],
                       input='{"NetworkID": 7}', capture_output=True, text=True)
    assert r.returncode == 1 and r.stdout.startswith("400 ") and "NetworkID must be a string" in r.stdout
    r = run_host("call", "Jion", "--hooks", hooks.path)
    assert r.returncode != 0 and "did you mean Join?" in r.stderr and r.stderr.count("\n") == 1


def test_call_keeps_records_like_serve(workdir, hooks):
    state = os.path.join(workdir, "state")
    assert run_host("call", "CreateNetwork", "--hooks", hooks.path, "--state-dir", state).returncode == 0
    assert os.listdir(os.path.join(state, "networks")) == ["3f" * 32 + ".json"]


def test_exercise_passes_network_options(workdir, hooks):
    seen = os.path.join(workdir, "seen")
    hooks.add("CreateNetwork.sh", f"jq -c '.Options[\"com.docker.network.generic\"]' > {seen}\n")
    r = run_host("exercise", "--hooks", hooks.path, "-o", "mtu=1400", "--option", "color=blue", timeout=120)
    assert "all 16 steps answered" in r.stdout, r.stdout
    assert json.load(open(seen)) == {"mtu": "1400", "color": "blue"}
    r = run_host("exercise", "--hooks", hooks.path, "-o", "nothing")
    assert r.returncode != 0 and "use KEY=VALUE" in r.stderr


def test_exercise_reports_a_failing_step(workdir, hooks):
    hooks.add("Join.sh", "cat >/dev/null; echo 'no bridge for this network' >&2; exit 1\n")
    r = run_host("exercise", "--hooks", hooks.path, timeout=120)
    assert r.returncode == 1
    line = [l for l in r.stdout.splitlines() if l.startswith("join c1 ")][0]
    assert "500" in line and "fail: no bridge for this network" in line
    assert "FAILED: 2 of 12 steps failed, nothing left behind" in r.stdout


def test_record_and_replay(workdir, hooks):
    calls = os.path.join(workdir, "calls")
    hooks.answer("Join", {"Gateway": "10.1.0.1"})
    host = Host(workdir, hooks, ["--record", calls])
    host.call("/NetworkDriver.CreateNetwork", {"NetworkID": "n1"})
    host.call("/NetworkDriver.Join", {"NetworkID": "n1", "EndpointID": "e1"})
    host.call("/NetworkDriver.Join", b"not json")
    host.stop()
    files = sorted(os.listdir(calls))
    assert files == ["000001-NetworkDriver.CreateNetwork.json", "000002-NetworkDriver.Join.json",
                     "000003-NetworkDriver.Join.json"]
    second = json.load(open(os.path.join(calls, files[1])))
    assert second == {"Path": "/NetworkDriver.Join", "Status": 200, "Response": {"Gateway": "10.1.0.1"},
                      "Request": {"NetworkID": "n1", "EndpointID": "e1"}}
    r = run_host("replay", calls, "--hooks", hooks.path)
    assert r.returncode == 0 and "all 3 answers are the same" in r.stdout, r.stdout
    hooks.answer("Join", {"Gateway": "10.1.0.254"})
    r = run_host("replay", calls, "--hooks", hooks.path)
    assert r.returncode == 1 and "000002-NetworkDriver.Join.json: differs" in r.stdout
    assert '"Gateway":"10.1.0.254"' in r.stdout and "1 of 3 answers differ" in r.stdout


def test_schema(workdir):
    r = run_host("schema", "Join")
    assert r.returncode == 0
    assert "NetworkDriver.Join  (hook: Join[.ext])" in r.stdout and '"SrcName": string' in r.stdout
    assert "example request:" in r.stdout and "default (no hook): {}" in r.stdout
    assert "IpamDriver.RequestPool" in run_host("schema", "ipam/RequestPool").stdout


def test_docs_hooks_md_is_made_from_the_method_table():
    r = run_host("schema", "--markdown")
    with open(os.path.join(ROOT, "docs", "HOOKS.md")) as f:
        assert f.read() == r.stdout, "docs/HOOKS.md is stale: run netplug-host schema --markdown > docs/HOOKS.md"


def test_every_subcommand_has_help_with_an_example():
    for sub in ["serve", "init", "check", "call", "exercise", "replay", "schema", "state"]:
        r = run_host(sub, "--help")
        assert r.returncode == 0 and "Example" in r.stdout, sub


def test_check_names_crlf_a_bom_and_blanks_after_the_interpreter(hooks):
    hooks.add("Join.sh", "echo {}\r\n", shell="#!/bin/sh\r\n")
    hooks.add("Leave.sh", "echo {}\n", shell="\ufeff#!/bin/sh\n")
    hooks.add("CreateNetwork.sh", "echo {}\n", shell="#!/bin/sh  \n")
    r = run_host("check", "--hooks", hooks.path)
    assert r.returncode == 1
    assert "error: hook Join.sh has Windows (CRLF) line endings" in r.stdout and "dos2unix" in r.stdout
    assert "error: hook Leave.sh starts with a byte order mark (UTF-8 BOM) before #!" in r.stdout
    assert "warning: hook CreateNetwork.sh has spaces or tabs at the end of its #! line" in r.stdout
    assert "names the interpreter" not in r.stdout, r.stdout


def test_version():
    r = run_host("--version")
    assert r.returncode == 0 and re.fullmatch(r"netplug-host \d+\.\d+\.\d+\n", r.stdout), r.stdout
