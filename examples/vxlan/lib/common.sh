# Shared by the vxlan hooks (sourced, not run). A network is one VXLAN segment: on every node a
# VXLAN device (npvx<VNI>) in a bridge (npvb<VNI>) that carries the gateway; nodes find each
# other through a multicast group on their uplink. The VNI is chosen once, on the manager,
# by AllocateNetwork, and reaches every node's CreateNetwork in its options.
set -eu

fail() { echo "$*" >&2; exit 1; }

GROUP=239.1.1.1        # the multicast group every node joins on its uplink
PORT=4789              # the IANA VXLAN port
FIRST_VNI=256          # Docker's own overlay takes VNIs from 4096 on the same port: stay below
LAST_VNI=4095
OVERHEAD=50            # VXLAN over IPv4: outer IP, UDP, VXLAN and inner Ethernet headers

# The network's CreateNetwork request, as the host recorded it ({} if there is no record).
network_request() {
    if [ -n "${NETPLUG_NETWORK_FILE:-}" ] && [ -r "$NETPLUG_NETWORK_FILE" ]; then
        jq -c '.Request' "$NETPLUG_NETWORK_FILE"
    else
        echo '{}'
    fi
}

# What AllocateNetwork handed on, as CreateNetwork receives it.
vni_of() { printf '%s' "$1" | jq -r '(.Options // {})["com.docker.network.generic"] // {} | .vni // empty'; }
mtu_of() { printf '%s' "$1" | jq -r '(.Options // {})["com.docker.network.generic"] // {} | .mtu // empty'; }

vxlan_dev() { echo "npvx$1"; }
bridge_dev() { echo "npvb$1"; }
host_veth() { echo "nph$(printf '%s' "$NETPLUG_ENDPOINT_ID" | cut -c1-11)"; }
container_veth() { echo "npc$(printf '%s' "$NETPLUG_ENDPOINT_ID" | cut -c1-11)"; }

link_exists() { ip link show "$1" >/dev/null 2>&1; }

# The interface that reaches the other nodes: the one holding the address this node advertises
# to the swarm (DiscoverNew keeps it in $NETPLUG_STATE_DIR/node-address), else the default
# route's.
uplink() {
    address=$(cat "$NETPLUG_STATE_DIR/node-address" 2>/dev/null || true)
    if [ -n "$address" ]; then
        dev=$(ip -o -4 addr show | awk -v a="$address" '{ split($4, p, "/"); if (p[1] == a) { print $2; exit } }')
        [ -n "$dev" ] && { echo "$dev"; return; }
    fi
    dev=$(ip -4 route show default | awk '{ for (i = 1; i < NF; i++) if ($i == "dev") { print $(i + 1); exit } }')
    [ -n "$dev" ] && { echo "$dev"; return; }
    fail "cannot tell which interface reaches the other nodes: this node has no default route and Docker has not told the driver its swarm address yet"
}
