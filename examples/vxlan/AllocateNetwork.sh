#!/bin/sh
# On the manager, once per network: pick the VXLAN id (-o vni=N, else the lowest free one) and
# hand it to every node in Options, with the MTU (-o mtu=N). Nodes see only this answer, not
# the user's options, so everything a node needs goes in it.
. "$(dirname "$0")/lib/common.sh"
request=$(cat)
options=$(printf '%s' "$request" | jq -c '(.Options // {}) as $o | ($o["com.docker.network.generic"] // {}) + ($o | with_entries(select(.value | type == "string")))')
unknown=$(printf '%s' "$options" | jq -r 'keys[] | select(startswith("com.docker.") | not) | select(. != "vni" and . != "mtu")' | head -n 1)
[ -z "$unknown" ] || fail "unknown option -o $unknown: this driver takes -o vni=N ($FIRST_VNI to $LAST_VNI) and -o mtu=N"
wanted=$(printf '%s' "$options" | jq -r '.vni // empty')
mtu=$(printf '%s' "$options" | jq -r '.mtu // empty')
if [ -n "$mtu" ]; then
    case "$mtu" in *[!0-9]*) fail "option mtu=\"$mtu\" is not a number: use an MTU from 68 to 65535" ;; esac
    [ "$mtu" -ge 68 ] && [ "$mtu" -le 65535 ] || fail "option mtu=$mtu is out of range: use an MTU from 68 to 65535"
fi

claims="$NETPLUG_STATE_DIR/vni"
mkdir -p "$claims"
# The network's own claim from an earlier, interrupted AllocateNetwork is reused.
vni=$(grep -lx "$NETPLUG_NETWORK_ID" "$claims"/* 2>/dev/null | head -n 1 | xargs -r basename)
claim() { (set -C; echo "$NETPLUG_NETWORK_ID" >"$claims/$1") 2>/dev/null; }
if [ -z "$vni" ] && [ -n "$wanted" ]; then
    case "$wanted" in *[!0-9]*|'') fail "option vni=\"$wanted\" is not a number: use a VXLAN id from $FIRST_VNI to $LAST_VNI" ;; esac
    [ "$wanted" -ge "$FIRST_VNI" ] && [ "$wanted" -le "$LAST_VNI" ] ||
        fail "option vni=$wanted is out of range: use a VXLAN id from $FIRST_VNI to $LAST_VNI (Docker's overlay uses 4096 and up)"
    claim "$wanted" || fail "option vni=$wanted: network $(cut -c1-12 "$claims/$wanted") already uses that VXLAN id; pick another or leave the option out"
    vni=$wanted
elif [ -z "$vni" ]; then
    candidate=$FIRST_VNI
    until claim "$candidate"; do
        candidate=$((candidate + 1))
        [ "$candidate" -le "$LAST_VNI" ] || fail "every VXLAN id from $FIRST_VNI to $LAST_VNI is in use: remove a network first"
    done
    vni=$candidate
fi
jq -n --arg vni "$vni" --arg mtu "$mtu" '{Options: ({vni: $vni} + (if $mtu == "" then {} else {mtu: $mtu} end))}'
