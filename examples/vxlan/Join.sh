#!/bin/sh
# A task starts on this node: a veth pair, one end on the network's bridge, the other handed
# to Docker, which moves it into the task's container.
. "$(dirname "$0")/lib/common.sh"
cat >/dev/null
network=$(network_request)
vni=$(vni_of "$network")
bridge=$(bridge_dev "$vni")
link_exists "$bridge" || fail "bridge $bridge of network $NETPLUG_NETWORK_ID is missing on this node; remove the task so that Docker creates the network again"
mtu=$(cat "/sys/class/net/$bridge/mtu" 2>/dev/null || echo 1450)
host=$(host_veth)
peer=$(container_veth)
mac=$(jq -r '.Response.Interface.MacAddress // .Request.Interface.MacAddress // empty' "${NETPLUG_ENDPOINT_FILE:-/dev/null}" 2>/dev/null || true)
if link_exists "$host"; then ip link del "$host"; fi
ip link add "$host" mtu "$mtu" type veth peer name "$peer" mtu "$mtu"
[ -z "$mac" ] || ip link set "$peer" address "$mac"
ip link set "$host" master "$bridge"
ip link set "$host" up
gateway=$(printf '%s' "$network" | jq -r '.IPv4Data[0].Gateway // empty' | cut -d/ -f1)
jq -n --arg src "$peer" --arg gw "$gateway" \
    '{InterfaceName: {SrcName: $src, DstPrefix: "eth"}} + (if $gw == "" then {} else {Gateway: $gw} end)'
