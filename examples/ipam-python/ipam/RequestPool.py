#!/usr/bin/env python3
import os, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)), "lib"))
from allocator import run


def request_pool(book, request):
    """docker network create --ipam-driver NAME [--subnet CIDR]: Pool is --subnet, or "" for any."""
    pool_id, pool = book.request_pool(request.get("Pool", ""), request.get("V6", False))
    return {"PoolID": pool_id, "Pool": pool, "Data": {}}


run(request_pool)
