#!/bin/sh
# The container starts: make a veth pair, put the host end on the bridge, and hand the other
# end to Docker, which moves it into the container as eth0, eth1, ... with the address its
# IPAM chose and the MAC CreateEndpoint answered. The gateways are the bridge's addresses.
. "$(dirname "$0")/lib/common.sh"
cat >/dev/null
network=$(network_request)
bridge=$(bridge_of "$network")
mtu=$(mtu_of "$network")
link_exists "$bridge" || fail "bridge $bridge of network $NETPLUG_NETWORK_ID is missing; recreate the network"
host=$(host_veth)
peer=$(container_veth)
mac=$(endpoint_record | jq -r '.Response.Interface.MacAddress // .Request.Interface.MacAddress // empty')

# Idempotent: a pair left by an earlier, interrupted Join is replaced.
if link_exists "$host"; then ip link del "$host"; fi
ip link add "$host" mtu "$mtu" type veth peer name "$peer" mtu "$mtu"
[ -z "$mac" ] || ip link set "$peer" address "$mac"
ip link set "$host" master "$bridge"
ip link set "$host" up

gateway=$(gateway4_of "$network" | cut -d/ -f1)
gateway6=$(gateway6_of "$network" | cut -d/ -f1)
jq -n --arg src "$peer" --arg gw "$gateway" --arg gw6 "$gateway6" \
    '{InterfaceName: {SrcName: $src, DstPrefix: "eth"}}
     + (if $gw == "" then {} else {Gateway: $gw} end)
     + (if $gw6 == "" then {} else {GatewayIPv6: $gw6} end)'
