#!/bin/sh
# docker network rm: stdin is {"NetworkID"}. Remove what CreateNetwork built, and succeed when
# it is already gone (Docker may call again). Only the bridge this network made is deleted.
set -eu
cat >/dev/null
bridge="np-$(printf '%s' "$NETPLUG_NETWORK_ID" | cut -c1-12)"
if ip link show "$bridge" >/dev/null 2>&1; then ip link del "$bridge"; fi
