#!/bin/sh
# docker network rm: remove the bridge. Succeeds when it is already gone.
. "$(dirname "$0")/lib/common.sh"
cat >/dev/null
bridge=$(bridge_of "$(network_request)")
if link_exists "$bridge"; then ip link del "$bridge"; fi
