#!/usr/bin/env python3
import os, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)), "lib"))
from allocator import run


def release_address(book, request):
    """A container left the network, or the network goes and takes its gateway."""
    book.release_address(request["PoolID"], request["Address"])


run(release_address)
