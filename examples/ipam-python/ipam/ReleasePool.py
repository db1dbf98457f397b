#!/usr/bin/env python3
import os, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)), "lib"))
from allocator import run


def release_pool(book, request):
    """docker network rm: the pool, and any address still in it, is free again."""
    book.release_pool(request["PoolID"])


run(release_pool)
