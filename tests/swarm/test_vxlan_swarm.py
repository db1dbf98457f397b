"""examples/vxlan on a three-node swarm: a service's tasks on different nodes reach each other
by address and by task name over the driver's VXLAN segment, through scaling, removal and a
worker's restart."""
import itertools

from conftest import IMAGE, PLUGIN, wait_until

SERVICE = "vxweb"
NETWORK = "vxnet"


def tasks(swarm):
    """Every running task: (node, container name, address on the network)."""
    found = []
    for node in swarm.nodes:
        names = node.cli("ps", "--filter", f"label=com.docker.swarm.service.name={SERVICE}",
                         "--format", "{{.Names}}").stdout.split()
        for name in names:
            networks = node.inspect("inspect", name)[0]["NetworkSettings"]["Networks"]
            address = networks.get(NETWORK, {}).get("IPAddress")
            if address:
                found.append((node, name, address))
    return found


def running(swarm, count, per_node=None):
    def check():
        found = tasks(swarm)
        if len(found) != count:
            return None
        if per_node is not None:
            nodes = [node.name for node, _, _ in found]
            if any(nodes.count(n.name) != per_node for n in swarm.nodes):
                return None
        return found
    return wait_until(f"{count} running tasks", check, 180)


def assert_all_talk(found):
    failures = []
    for (node, name, _), (_, other, address) in itertools.permutations(found, 2):
        for target in (address, other):
            r = node.cli("exec", name, "ping", "-c", "1", "-W", "2", target, check=False)
            if r.returncode != 0:
                failures.append(f"{name} on {node.name} -> {target}: {r.stdout.strip()[-120:]} {r.stderr.strip()}")
    assert not failures, "\n".join(failures)


def test_tasks_on_every_node_talk_through_scaling_removal_and_a_worker_restart(swarm):
    m = swarm.manager
    # The option reaches the manager's AllocateNetwork, whose answer reaches every node.
    m.cli("network", "create", "-d", f"{PLUGIN}:latest", "--scope", "swarm", "--subnet", "10.253.1.0/24",
          "-o", "vni=300", NETWORK)
    m.cli("service", "create", "--name", SERVICE, "--replicas", "3", "--replicas-max-per-node", "1",
          "--endpoint-mode", "dnsrr", "--network", NETWORK, "--no-resolve-image", IMAGE, "sleep", "100000")
    found = running(swarm, 3, per_node=1)
    addresses = [address for _, _, address in found]
    assert len(set(addresses)) == 3 and all(a.startswith("10.253.1.") for a in addresses), addresses
    assert_all_talk(found)
    for node in swarm.nodes:
        assert {"npvx300", "npvb300"} <= node.links(), node.links()

    # Six tasks, two a node, then three again.
    m.cli("service", "update", "--detach", "--replicas-max-per-node", "2", "--replicas", "6", SERVICE)
    assert_all_talk(running(swarm, 6, per_node=2))
    m.cli("service", "update", "--detach", "--replicas", "3", SERVICE)
    assert_all_talk(running(swarm, 3))

    # A worker's dockerd restarts: the node rejoins and its tasks talk again.
    m.cli("service", "update", "--detach", "--replicas-max-per-node", "1", SERVICE)
    worker = swarm.nodes[1]
    worker.stop()
    worker.start()
    wait_until("the worker Ready again", lambda: m.cli("node", "inspect", "-f", "{{.Status.State}}", worker.name)
               .stdout.strip() == "ready", 120, detail=lambda: swarm_log_tail(m, worker))
    assert_all_talk(running(swarm, 3, per_node=1))

    # Nothing left on any node: no VXLAN device, bridge, veth or record.
    m.cli("service", "rm", SERVICE)
    wait_until("every task gone", lambda: not tasks(swarm) and all(
        not node.cli("ps", "-aq", "--filter", f"label=com.docker.swarm.service.name={SERVICE}").stdout.strip()
        for node in swarm.nodes), 120)
    m.cli("network", "rm", NETWORK)

    def clean():
        for node in swarm.nodes:
            leftovers = [l for l in node.links() if l.startswith(("npvx", "npvb", "nph", "npc"))]
            if leftovers or node.records():
                return None
        return True
    wait_until("no device, bridge, veth or record on any node", clean, 120)


def swarm_log_tail(manager, worker):
    """What the manager says of the worker, and the last lines of the worker's and the
    manager's dockerd logs about the swarm."""
    lines = [manager.cli("node", "inspect", worker.name, check=False).stdout[-1500:]]
    for node in (worker, manager):
        with open(node.log_path) as f:
            wanted = [l for l in f if "module=node" in l or "level=error" in l or "plugin" in l]
        lines.append(f"--- {node.name} dockerd.log:\n" + "".join(wanted[-40:]))
    return "\n".join(lines)
