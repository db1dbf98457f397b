"""The Python IPAM allocator on its own: exhaustion, release, requested values, and many
hook processes at once never sharing an address."""
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
IPAM = os.path.join(ROOT, "examples", "ipam-python", "ipam")
sys.path.insert(0, os.path.join(IPAM, "lib"))
from allocator import Book, IpamError  # noqa: E402


@pytest.fixture
def book(tmp_path, monkeypatch):
    config = tmp_path / "pools.json"
    config.write_text(json.dumps({"ranges": ["10.201.0.0/28"], "poolPrefix": 29}))
    monkeypatch.setenv("NETPLUG_IPAM_CONFIG", str(config))
    return Book(str(tmp_path / "state"))


def test_pools_come_from_the_ranges_and_run_out(book):
    first = book.request_pool()
    second = book.request_pool()
    assert [first[1], second[1]] == ["10.201.0.0/29", "10.201.0.8/29"]
    with pytest.raises(IpamError, match="no free /29 pool is left in 10.201.0.0/28"):
        book.request_pool()
    book.release_pool(first[0])
    assert book.request_pool()[1] == "10.201.0.0/29"


def test_requested_pool_must_not_overlap(book):
    book.request_pool("10.9.0.0/24")
    with pytest.raises(IpamError, match="overlaps 10.9.0.0/24"):
        book.request_pool("10.9.0.128/25")
    with pytest.raises(IpamError, match="not a subnet"):
        book.request_pool("10.9.0.0/99")
    with pytest.raises(IpamError, match="IPv4 pools only"):
        book.request_pool("", v6=True)


def test_addresses_exhaust_and_come_back(book):
    pool_id, _ = book.request_pool("10.9.1.0/29")
    got = [book.request_address(pool_id) for _ in range(6)]
    assert got == [f"10.9.1.{i}/29" for i in range(1, 7)]
    with pytest.raises(IpamError, match="pool 10.9.1.0/29 is exhausted: all 6 addresses are in use"):
        book.request_address(pool_id)
    book.release_address(pool_id, "10.9.1.3/29")
    book.release_address(pool_id, "10.9.1.3/29")  # twice is fine
    assert book.request_address(pool_id) == "10.9.1.3/29"


def test_requested_address(book):
    pool_id, _ = book.request_pool("10.9.2.0/24")
    assert book.request_address(pool_id, "10.9.2.50") == "10.9.2.50/24"
    with pytest.raises(IpamError, match="already in use"):
        book.request_address(pool_id, "10.9.2.50")
    with pytest.raises(IpamError, match="not a usable address of 10.9.2.0/24"):
        book.request_address(pool_id, "10.9.3.1")
    with pytest.raises(IpamError, match="not a usable address"):
        book.request_address(pool_id, "10.9.2.255")
    with pytest.raises(IpamError, match="unknown pool"):
        book.request_address("np-nope", "")


def test_concurrent_hook_processes_never_share_an_address(tmp_path, monkeypatch):
    state = tmp_path / "state"
    env = dict(os.environ, NETPLUG_STATE_DIR=str(state))
    book = Book(str(state))
    pool_id, _ = book.request_pool("10.9.4.0/24")

    def request(_):
        r = subprocess.run([os.path.join(IPAM, "RequestAddress.py")], input=json.dumps({"PoolID": pool_id}),
                           capture_output=True, text=True, env=env, timeout=60)
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)["Address"]

    with ThreadPoolExecutor(max_workers=16) as pool:
        addresses = list(pool.map(request, range(60)))
    assert len(set(addresses)) == 60
    assert sorted(book.snapshot()["pools"][pool_id]["addresses"]) == sorted(a.split("/")[0] for a in addresses)


def test_refusals_are_printed_as_ipam_error(tmp_path):
    env = dict(os.environ, NETPLUG_STATE_DIR=str(tmp_path))
    r = subprocess.run([os.path.join(IPAM, "RequestAddress.py")], input='{"PoolID": "np-missing"}',
                       capture_output=True, text=True, env=env)
    assert r.returncode == 0 and json.loads(r.stdout)["Error"].startswith("unknown pool np-missing")
