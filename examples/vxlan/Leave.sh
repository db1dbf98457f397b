#!/bin/sh
# The task stops: remove its veth pair (deleting one end removes both).
. "$(dirname "$0")/lib/common.sh"
cat >/dev/null
host=$(host_veth)
if link_exists "$host"; then ip link del "$host"; fi
