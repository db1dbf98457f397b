#!/bin/sh
# docker network create -d NAME [-o bridge=br0] [-o mtu=1400] --subnet ... [--ipv6 --subnet ...]:
# make the Linux bridge and give it the gateway addresses Docker's IPAM chose. A bridge that
# already exists is used as it is (never reconfigured, never deleted); any other existing
# interface, or a bridge another network uses, is refused.
. "$(dirname "$0")/lib/common.sh"
request=$(cat)
check_options "$request"
bridge=$(bridge_of "$request")
mtu=$(mtu_of "$request")

printf '%s' "$bridge" | grep -Eq '^[A-Za-z0-9_.-]{1,15}$' ||
    fail "option bridge=\"$bridge\" is not a valid interface name: use 1 to 15 letters, digits, '_', '.' or '-'"
case "$mtu" in ''|*[!0-9]*) fail "option mtu=\"$mtu\" is not a number: use an MTU from 68 to 65535" ;; esac
[ "$mtu" -ge 68 ] && [ "$mtu" -le 65535 ] || fail "option mtu=$mtu is out of range: use an MTU from 68 to 65535"

mkdir -p "$(claims_dir)"
claim="$(claims_dir)/$bridge"
owner=$(claim_of "$bridge" | cut -d' ' -f1)
if [ -n "$owner" ] && [ "$owner" != "$NETPLUG_NETWORK_ID" ]; then
    fail "option bridge=$bridge: that bridge is already used by network $(printf '%s' "$owner" | cut -c1-12); give each network its own bridge"
fi
if [ -z "$owner" ]; then
    how=made
    if link_exists "$bridge"; then
        is_bridge "$bridge" ||
            fail "option bridge=$bridge names an existing interface that is not a bridge; this driver never takes over other interfaces: pick a new name, or leave the option out"
        how=adopted
    fi
    # Claimed before anything is made (noclobber: of two networks at once, one wins), so that
    # a crash halfway leaves a claim DeleteNetwork or a second try can finish.
    (set -C; echo "$NETPLUG_NETWORK_ID $how" >"$claim") 2>/dev/null ||
        fail "option bridge=$bridge: another network is claiming that bridge right now; give each network its own bridge"
    # A failed CreateNetwork gets no DeleteNetwork: undo the claim and what was made.
    trap 'status=$?; if [ $status -ne 0 ]; then [ "$how" = adopted ] || ip link del "$bridge" 2>/dev/null; rm -f "$claim"; fi' EXIT
else
    how=$(claim_of "$bridge" | cut -d' ' -f2)
fi

[ "$how" = adopted ] && exit 0
# Idempotent: after a crash halfway through, running again finishes the job.
link_exists "$bridge" || ip link add "$bridge" type bridge
ip link set "$bridge" mtu "$mtu"
gateway=$(gateway4_of "$request")
[ -z "$gateway" ] || ip addr replace "$gateway" dev "$bridge"
gateway6=$(gateway6_of "$request")
if [ -n "$gateway6" ]; then
    # No duplicate address detection: the gateway answers at once, not a second later.
    ip -6 addr replace "$gateway6" dev "$bridge" nodad
fi
ip link set "$bridge" up
