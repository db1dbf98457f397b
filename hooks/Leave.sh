#!/bin/sh
# The container stops: stdin is {"NetworkID", "EndpointID"}. Undo what Join did: deleting the
# host end of the veth pair removes both ends.
set -eu
cat >/dev/null
host="nph$(printf '%s' "$NETPLUG_ENDPOINT_ID" | cut -c1-11)"
if ip link show "$host" >/dev/null 2>&1; then ip link del "$host"; fi
