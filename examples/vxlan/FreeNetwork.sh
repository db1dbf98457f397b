#!/bin/sh
# On the manager, when the network is removed: its VXLAN id is free again.
. "$(dirname "$0")/lib/common.sh"
cat >/dev/null
for claim in "$NETPLUG_STATE_DIR"/vni/*; do
    [ -f "$claim" ] && [ "$(cat "$claim")" = "$NETPLUG_NETWORK_ID" ] && rm -f "$claim"
done
exit 0
