#!/usr/bin/env python3
import os, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)), "lib"))
from allocator import run


def request_address(book, request):
    """The gateway (Options.RequestAddressType) and each container: Address is --ip, or "" for any."""
    return {"Address": book.request_address(request["PoolID"], request.get("Address", "")), "Data": {}}


run(request_address)
