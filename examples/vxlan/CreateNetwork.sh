#!/bin/sh
# On every node that runs a task of the network: the VXLAN device on the uplink, in a bridge
# that carries the gateway. A CreateNetwork that fails gets no DeleteNetwork, so whatever was
# made is undone before failing.
. "$(dirname "$0")/lib/common.sh"
request=$(cat)
vni=$(vni_of "$request")
[ -n "$vni" ] || fail "no VXLAN id in the network's options: create the network on a swarm manager (docker network create --scope swarm -d ...), whose AllocateNetwork picks one"
vxlan=$(vxlan_dev "$vni")
bridge=$(bridge_dev "$vni")
dev=$(uplink)
uplink_mtu=$(cat "/sys/class/net/$dev/mtu" 2>/dev/null || ip -o link show "$dev" | awk '{ for (i = 1; i < NF; i++) if ($i == "mtu") print $(i + 1) }')
mtu=$(mtu_of "$request")
[ -n "$mtu" ] || mtu=$((uplink_mtu - OVERHEAD))

made=""
trap 'status=$?; if [ $status -ne 0 ]; then for link in $made; do ip link del "$link" 2>/dev/null || true; done; fi' EXIT
# Idempotent: what an interrupted CreateNetwork left is reused.
if ! link_exists "$bridge"; then ip link add "$bridge" mtu "$mtu" type bridge; made="$bridge $made"; fi
if ! link_exists "$vxlan"; then
    ip link add "$vxlan" mtu "$mtu" type vxlan id "$vni" group "$GROUP" dev "$dev" dstport "$PORT"
    made="$vxlan $made"
fi
ip link set "$vxlan" master "$bridge"
gateway=$(printf '%s' "$request" | jq -r '.IPv4Data[0].Gateway // empty')
[ -z "$gateway" ] || ip addr replace "$gateway" dev "$bridge"
ip link set "$vxlan" up
ip link set "$bridge" up
