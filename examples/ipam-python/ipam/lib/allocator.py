"""The address book behind the IPAM hooks: pools and addresses, kept in one JSON file under
$NETPLUG_STATE_DIR and changed only under an exclusive lock, so that hooks running at the
same time never hand out the same address twice."""
import contextlib
import fcntl
import ipaddress
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))


class IpamError(Exception):
    """A refusal whose text the user sees in `docker network create` / `docker run`."""


def load_config():
    """Where pools come from: NETPLUG_IPAM_CONFIG, else pools.json beside this file."""
    path = os.environ.get("NETPLUG_IPAM_CONFIG") or os.path.join(HERE, "pools.json")
    with open(path) as f:
        config = json.load(f)
    ranges = [ipaddress.ip_network(r) for r in config["ranges"]]
    prefix = int(config.get("poolPrefix", 24))
    return ranges, prefix


class Book:
    """The state file, open and locked for one hook's transaction."""

    def __init__(self, state_dir):
        self.path = os.path.join(state_dir, "ipam.json")
        self.lock_path = os.path.join(state_dir, "ipam.lock")
        os.makedirs(state_dir, exist_ok=True)

    @contextlib.contextmanager
    def transaction(self):
        with open(self.lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                with open(self.path) as f:
                    data = json.load(f)
            except FileNotFoundError:
                data = {"pools": {}}
            yield data
            temporary = self.path + ".tmp"
            with open(temporary, "w") as f:
                json.dump(data, f, indent=1, sort_keys=True)
                f.flush()
                os.fsync(f.fileno())
            os.replace(temporary, self.path)

    # Pools

    def request_pool(self, pool="", v6=False):
        if v6:
            raise IpamError("this IPAM driver hands out IPv4 pools only; create the network without --ipv6")
        with self.transaction() as data:
            taken = [ipaddress.ip_network(p["pool"]) for p in data["pools"].values()]
            if pool:
                try:
                    wanted = ipaddress.ip_network(pool)
                except ValueError:
                    raise IpamError(f"--subnet {pool} is not a subnet in CIDR form (like 10.200.1.0/24)")
                if wanted.version != 4:
                    raise IpamError(f"--subnet {pool}: this IPAM driver hands out IPv4 pools only")
                for other in taken:
                    if wanted.overlaps(other):
                        raise IpamError(f"--subnet {pool} overlaps {other}, which another network uses")
                chosen = wanted
            else:
                chosen = self._free_pool(taken)
            pool_id = "np-" + str(chosen).replace("/", "-")
            data["pools"][pool_id] = {"pool": str(chosen), "addresses": []}
            return pool_id, str(chosen)

    def _free_pool(self, taken):
        ranges, prefix = load_config()
        for r in ranges:
            for candidate in r.subnets(new_prefix=max(prefix, r.prefixlen)):
                if not any(candidate.overlaps(t) for t in taken):
                    return candidate
        raise IpamError(f"no free /{prefix} pool is left in {', '.join(map(str, ranges))}; "
                        "remove a network or add a range to the IPAM configuration")

    def release_pool(self, pool_id):
        with self.transaction() as data:
            data["pools"].pop(pool_id, None)  # releasing twice is fine

    # Addresses

    def request_address(self, pool_id, address=""):
        with self.transaction() as data:
            entry = data["pools"].get(pool_id)
            if entry is None:
                raise IpamError(f"unknown pool {pool_id}: was the network created with this IPAM driver?")
            net = ipaddress.ip_network(entry["pool"])
            used = set(entry["addresses"])
            if address:
                try:
                    ip = ipaddress.ip_address(address.split("/")[0])
                except ValueError:
                    raise IpamError(f"--ip {address} is not an IPv4 address")
                if ip not in net or ip in (net.network_address, net.broadcast_address):
                    raise IpamError(f"--ip {ip} is not a usable address of {net}")
                if str(ip) in used:
                    raise IpamError(f"--ip {ip} is already in use on {net}")
            else:
                ip = next((h for h in net.hosts() if str(h) not in used), None)
                if ip is None:
                    raise IpamError(f"pool {net} is exhausted: all {net.num_addresses - 2} addresses are in use")
            entry["addresses"].append(str(ip))
            return f"{ip}/{net.prefixlen}"

    def release_address(self, pool_id, address):
        with self.transaction() as data:
            entry = data["pools"].get(pool_id)
            if entry is None:
                return
            ip = address.split("/")[0]
            entry["addresses"] = [a for a in entry["addresses"] if a != ip]

    def snapshot(self):
        with self.transaction() as data:
            return json.loads(json.dumps(data))


def run(handler):
    """A hook's main: request on stdin, answer on stdout; refusals go to IPAM's `Error`."""
    import sys
    request = json.load(sys.stdin)
    book = Book(os.environ.get("NETPLUG_STATE_DIR", "/var/lib/netplug/ipam"))
    try:
        answer = handler(book, request)
    except IpamError as e:
        answer = {"Error": str(e)}
    json.dump(answer or {}, sys.stdout)
