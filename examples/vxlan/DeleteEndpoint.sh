#!/bin/sh
# The endpoint is gone: make sure no veth of it is left (Leave normally removed it).
. "$(dirname "$0")/lib/common.sh"
cat >/dev/null
for link in "$(host_veth)" "$(container_veth)"; do
    if link_exists "$link"; then ip link del "$link"; fi
done
