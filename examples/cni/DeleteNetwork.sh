#!/bin/sh
# docker network rm: whatever this network's chains still hold (an endpoint whose DEL never
# came, after a crash), and what the chain's plugins made for the network itself: a bridge
# plugin's bridge once no port is left on it. portmap's shared CNI-HOSTPORT-* chains stay.
. "$(dirname "$0")/lib/cni.sh"
cat >/dev/null
status=0
for kept in "$KEPT_DIR"/*.json; do
    [ -r "$kept" ] || continue
    [ "$(jq -r '.network // empty' "$kept")" = "$NETPLUG_NETWORK_ID" ] || continue
    endpoint=$(basename "$kept" .json)
    delete_chain "$endpoint" || status=1
    src=$(src_name "$endpoint")
    if link_exists "$src"; then ip link del "$src"; fi
done
# Namespaces an interrupted ADD left (its result was never kept).
for ns in $(ip netns list 2>/dev/null | cut -d' ' -f1 | grep "^cni-$(short "$NETPLUG_NETWORK_ID")-" || true); do
    ip netns del "$ns" || status=1
done
network=$(network_request)
name=$(option "$network" cni.config)
if [ -n "$name" ] && chain=$(load_chain "$name" 2>/dev/null); then
    for bridge in $(printf '%s' "$chain" | jq -r '.plugins[] | select(.type == "bridge") | .bridge // "cni0"'); do
        if link_exists "$bridge" && [ -z "$(ls "/sys/class/net/$bridge/brif" 2>/dev/null)" ]; then
            ip link del "$bridge" || status=1
        fi
    done
fi
[ $status -eq 0 ] || fail "some of what network $(short "$NETPLUG_NETWORK_ID")'s CNI chains made could not be removed (see above); docker network rm again retries"
echo '{}'
