#!/bin/sh
# The node's last task of the network is gone, or the network is removed: remove the VXLAN
# device and the bridge. Succeeds when they are already gone.
. "$(dirname "$0")/lib/common.sh"
cat >/dev/null
vni=$(vni_of "$(network_request)")
[ -n "$vni" ] || exit 0
for link in "$(vxlan_dev "$vni")" "$(bridge_dev "$vni")"; do
    if link_exists "$link"; then ip link del "$link"; fi
done
