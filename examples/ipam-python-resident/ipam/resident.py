#!/usr/bin/env python3
"""examples/ipam-python as one resident hook: the same address book (lib/allocator.py), served
by a process netplug-host starts once, instead of a Python start for every call.

What changes from the hook files: nothing Docker or the user sees. The four hooks' bodies
become the four functions below, and a refusal is raised as netplug.Error instead of printed.
The book stays on disk under its lock, so it survives a restart and stays right if
netplug-host runs more than one instance (--resident-instances)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import netplug  # noqa: E402
from allocator import Book, IpamError  # noqa: E402

book = Book(os.environ.get("NETPLUG_STATE_DIR", "/var/lib/netplug/ipam"))


def request_pool(request):
    """docker network create --ipam-driver NAME [--subnet CIDR]: Pool is --subnet, or "" for any."""
    pool_id, pool = book.request_pool(request.get("Pool", ""), request.get("V6", False))
    return {"PoolID": pool_id, "Pool": pool, "Data": {}}


def release_pool(request):
    book.release_pool(request["PoolID"])
    return {}


def request_address(request):
    """The gateway (Options.RequestAddressType) and each container: Address is --ip, or "" for any."""
    return {"Address": book.request_address(request["PoolID"], request.get("Address", "")), "Data": {}}


def release_address(request):
    book.release_address(request["PoolID"], request["Address"])
    return {}


def refusals_for_the_user(handler):
    """The allocator's refusals are sentences for the user: they become the call's error."""
    def serve(request, env):
        try:
            return handler(request)
        except IpamError as error:
            raise netplug.Error(str(error))
    return serve


netplug.serve({name: refusals_for_the_user(handler) for name, handler in {
    "RequestPool": request_pool,
    "ReleasePool": release_pool,
    "RequestAddress": request_address,
    "ReleaseAddress": release_address,
}.items()})
