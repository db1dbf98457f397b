#!/bin/sh
# The container is detached: stdin is {"NetworkID", "EndpointID"}. Remove what Join made, and
# succeed when it is already gone: Docker calls this after Leave, but also after a Join that
# failed (with no Leave), and may call it again.
set -eu
cat >/dev/null
id=$(printf '%s' "$NETPLUG_ENDPOINT_ID" | cut -c1-11)
for link in "nph$id" "npc$id"; do
    if ip link show "$link" >/dev/null 2>&1; then ip link del "$link"; fi
done
