#!/bin/sh
# The container stops: remove the veth pair (deleting one end removes both).
. "$(dirname "$0")/lib/common.sh"
cat >/dev/null
host=$(host_veth)
if link_exists "$host"; then ip link del "$host"; fi
