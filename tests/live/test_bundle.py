"""`netplug-host bundle` without Docker: what it writes (config.json, the rootfs) and what it
refuses. tests/e2e/test_managed.py runs the bundles as managed plugins on a real dockerd."""
import json
import os
import stat
import subprocess

from conftest import ROOT, run_host


def bundle(out, hooks, *args):
    return run_host("bundle", "--hooks", hooks, "--output", out, *args, timeout=120)


def test_config_declares_the_socket_types_caps_mount_env_and_args(workdir):
    out = os.path.join(workdir, "b")
    r = bundle(out, os.path.join(ROOT, "examples", "bridge-ipam"), "--name", "mybr", "--tool", "ip", "--tool", "jq",
               "--env", "NETPLUG_IPAM_CONFIG", "--env", "LOG_STYLE=short", "--scope", "global", "--timeout", "12")
    assert r.returncode == 0, r.stderr
    config = json.load(open(os.path.join(out, "config.json")))
    assert config["interface"] == {"types": ["docker.networkdriver/1.0", "docker.ipamdriver/1.0"], "socket": "mybr.sock"}
    assert config["network"] == {"type": "host"}
    assert config["linux"]["capabilities"] == ["CAP_NET_ADMIN"]
    assert config["entrypoint"][:2] == ["/usr/bin/netplug-host", "serve"]
    entry = " ".join(config["entrypoint"])
    # The log on stdout, which dockerd records at info.
    assert "--hooks /hooks" in entry and "--log-stream stdout" in entry and "--writable-net-sysctls" not in entry
    assert "warning" not in r.stderr, r.stderr
    assert "--socket /run/docker/plugins/mybr.sock" in entry and "--scope global" in entry and "--timeout 12" in entry
    (mount,) = config["mounts"]
    assert (mount["name"], mount["source"], mount["destination"], mount["settable"]) == \
        ("state", "/var/lib/netplug/mybr", "/var/lib/netplug/mybr", ["source"])
    assert {e["name"]: e["value"] for e in config["env"]} == {"NETPLUG_IPAM_CONFIG": "", "LOG_STYLE": "short"}
    assert all(e["settable"] == ["value"] for e in config["env"])
    assert config["args"] == {"name": "args", "description": config["args"]["description"], "settable": ["value"], "value": []}
    # What to run next is printed, the state folder first.
    assert "mkdir -p /var/lib/netplug/mybr" in r.stdout and "docker plugin create mybr " + out in r.stdout


def test_rootfs_holds_the_host_a_real_shell_utilities_tools_interpreters_and_hooks(workdir):
    out = os.path.join(workdir, "b")
    r = bundle(out, os.path.join(ROOT, "examples", "bridge-ipam"), "--name", "mybr", "--tool", "ip", "--tool", "jq")
    assert r.returncode == 0, r.stderr
    rootfs = os.path.join(out, "rootfs")
    for path in ("usr/bin/netplug-host", "bin/sh", "usr/bin/env", "bin/cat", "bin/sed", "bin/grep", "proc", "tmp",
                 "hooks/CreateNetwork.sh", "hooks/lib/common.sh", "hooks/ipam/RequestPool.py", "var/lib/netplug/mybr"):
        assert os.path.exists(os.path.join(rootfs, path)), path
    # /bin/sh is a shell that runs programs from PATH, never busybox.
    assert "busybox" not in os.path.realpath(os.path.join(rootfs, "bin", "sh"))
    # The hooks are files (the example's symlinks followed), and writable by their owner only.
    for folder, _, files in os.walk(os.path.join(rootfs, "hooks")):
        for name in files:
            path = os.path.join(folder, name)
            assert not os.path.islink(path)
            assert os.stat(path).st_mode & (stat.S_IWGRP | stat.S_IWOTH) == 0, path
    # Each program runs in the rootfs alone, with only the libraries bundled beside it.
    run = lambda *argv: subprocess.run(["chroot", rootfs, *argv], capture_output=True, text=True, timeout=30)
    assert run("/bin/sh", "-c", "echo a-b | cut -d- -f2 | tr b B").stdout == "B\n"
    assert run("/usr/bin/env", "jq", "-n", "1+1").stdout == "2\n"
    assert run("/usr/bin/env", "ip", "-V").returncode == 0
    r = run("/usr/bin/env", "python3", "-c", "import json, ipaddress, fcntl; print(json.dumps([1]))")
    assert r.stdout == "[1]\n", r.stderr
    request = json.dumps({"AddressSpace": "LocalDefault", "Pool": "", "SubPool": "", "Options": {}, "V6": False})
    r = subprocess.run(["chroot", rootfs, "/hooks/ipam/RequestPool.py"], input=request, capture_output=True, text=True,
                       env=dict(os.environ, NETPLUG_STATE_DIR="/tmp"), timeout=30)
    assert json.loads(r.stdout)["Pool"] == "10.200.0.0/24", r.stderr


def test_a_second_bundle_into_the_same_folder_replaces_the_first(workdir):
    out = os.path.join(workdir, "b")
    assert bundle(out, os.path.join(ROOT, "examples", "bridge"), "--tool", "ip").returncode == 0
    assert os.path.exists(os.path.join(out, "rootfs", "usr", "bin", "ip"))
    r = bundle(out, os.path.join(ROOT, "hooks"), "--tool", "jq")
    assert r.returncode == 0, r.stderr
    assert not os.path.exists(os.path.join(out, "rootfs", "usr", "bin", "ip"))
    assert os.path.exists(os.path.join(out, "rootfs", "hooks", "GetCapabilities.sh"))


def test_refusals_are_one_line_each(workdir, hooks):
    out = os.path.join(workdir, "b")
    hooks.add("Join.sh", "echo '{}'\n")
    r = bundle(out, hooks.path, "--tool", "no-such-tool-here")
    assert r.returncode != 0 and r.stderr.count("\n") == 1
    assert "--tool no-such-tool-here: no such program on PATH" in r.stderr, r.stderr

    hooks.add("Leave.py", "print('{}')\n", shell="#!/usr/bin/no-such-interpreter\n")
    r = bundle(out, hooks.path)
    assert r.returncode != 0
    assert "hook Leave.py names the interpreter /usr/bin/no-such-interpreter, which is not installed" in r.stderr, r.stderr
    hooks.remove("Leave.py")

    hooks.add("Join", "echo '{}'\n")
    r = bundle(out, hooks.path)
    assert r.returncode != 0 and "two hooks claim NetworkDriver.Join: Join and Join.sh" in r.stderr, r.stderr
    hooks.remove("Join")

    hooks.add("lib/helper.sh", "echo hi\n", shell="#!/usr/bin/no-such-shell\n")
    r = bundle(out, hooks.path)
    assert r.returncode != 0 and "lib/helper.sh names the interpreter /usr/bin/no-such-shell" in r.stderr, r.stderr
    hooks.remove("lib/helper.sh")

    os.chmod(os.path.join(hooks.path, "Join.sh"), 0o775)
    r = bundle(out, hooks.path)
    assert r.returncode != 0 and "is writable by group or others" in r.stderr, r.stderr
    assert bundle(out, hooks.path, "--allow-insecure-hooks").returncode == 0
    assert os.stat(os.path.join(out, "rootfs", "hooks", "Join.sh")).st_mode & 0o777 == 0o755
    os.chmod(os.path.join(hooks.path, "Join.sh"), 0o755)
    subprocess.run(["rm", "-rf", out])

    os.makedirs(os.path.join(workdir, "taken"))
    open(os.path.join(workdir, "taken", "notes.txt"), "w").close()
    r = bundle(os.path.join(workdir, "taken"), hooks.path)
    assert r.returncode != 0 and "holds files that are not a plugin bundle" in r.stderr, r.stderr

    for args, message in ((("--env", "1BAD"), "--env \"1BAD\": give NAME or NAME=DEFAULT"),
                          (("--env", "NETPLUG_METHOD"), "--env NETPLUG_METHOD: netplug-host sets that variable itself"),
                          (("--name", "bad/name"), "--name \"bad/name\""),
                          (("--capability", "net_admin"), "--capability \"net_admin\"")):
        r = bundle(out, hooks.path, *args)
        assert r.returncode != 0 and message in r.stderr and r.stderr.count("\n") == 1, (args, r.stderr)
    assert not os.path.exists(out)


def test_a_resident_driver_bundles_with_its_module_and_its_instances_flag(workdir):
    out = os.path.join(workdir, "b")
    r = bundle(out, os.path.join(ROOT, "examples", "bridge-ipam-resident"), "--name", "myres", "--tool", "ip",
               "--tool", "jq", "--resident-instances", "2")
    assert r.returncode == 0, r.stderr
    config = json.load(open(os.path.join(out, "config.json")))
    assert "--resident-instances 2" in " ".join(config["entrypoint"])
    rootfs = os.path.join(out, "rootfs")
    for path in ("hooks/ipam/resident.py", "hooks/ipam/lib/netplug.py", "hooks/ipam/lib/allocator.py"):
        assert os.path.isfile(os.path.join(rootfs, path)) and not os.path.islink(os.path.join(rootfs, path)), path
    # The resident hook runs in the rootfs alone: ready line, then a pool from the allocator.
    call = {"id": 1, "method": "IpamDriver.RequestPool", "request": {"Pool": "", "V6": False}, "env": {}}
    r = subprocess.run(["chroot", rootfs, "/hooks/ipam/resident.py", "resident"], input=json.dumps(call) + "\n",
                       capture_output=True, text=True, env=dict(os.environ, NETPLUG_STATE_DIR="/tmp"), timeout=30)
    lines = [json.loads(line) for line in r.stdout.splitlines()]
    assert lines[0] == {"netplug": 1}, r.stderr
    assert lines[1]["id"] == 1 and lines[1]["answer"]["Pool"] == "10.200.0.0/24", r.stderr
    refused = bundle(os.path.join(workdir, "c"), os.path.join(ROOT, "examples", "bridge"), "--resident-instances", "0")
    assert refused.returncode != 0 and "--resident-instances 0: give a number of instances from 1 to 64" in refused.stderr


def test_programs_the_hooks_run_without_a_tool_are_named(workdir, hooks):
    hooks.add("Join.sh", "set -eu\n# ip is named in this comment only: no warning for it here\n"
                         "peer=$(jq -r .EndpointID)\nif [ -n \"$peer\" ]; then tc qdisc show; fi\n"
                         "bridge=br0   # a variable, not the program\n")
    hooks.add("lib/net.sh", "add() { iptables -A FORWARD -j ACCEPT; }\n", mode=0o644, shell="")
    hooks.add("Leave.py", "import subprocess\nsubprocess.run(['ethtool', '-k', 'eth0'])\n", shell="#!/usr/bin/env python3\n")
    out = os.path.join(workdir, "b")
    r = bundle(out, hooks.path, "--tool", "jq")
    assert r.returncode == 0, r.stderr
    warnings = [l for l in r.stderr.splitlines() if "warning:" in l]
    assert sorted(warnings) == sorted([
        "netplug-host: warning: the hooks run iptables (lib/net.sh), which the plugin will not have: add --tool iptables",
        "netplug-host: warning: the hooks run tc (Join.sh), which the plugin will not have: add --tool tc",
        "netplug-host: warning: the hooks run ethtool (Leave.py), which the plugin will not have: add --tool ethtool",
    ]), r.stderr


def test_sysctls_gives_the_capability_and_the_flag(workdir):
    out = os.path.join(workdir, "b")
    r = bundle(out, os.path.join(ROOT, "examples", "bridge"), "--tool", "ip", "--tool", "jq", "--sysctls")
    assert r.returncode == 0, r.stderr
    config = json.load(open(os.path.join(out, "config.json")))
    assert config["linux"]["capabilities"] == ["CAP_NET_ADMIN", "CAP_SYS_ADMIN"]
    assert "--writable-net-sysctls" in config["entrypoint"]
