#!/bin/sh
# docker network create -d NAME [-o bridge=br0] [-o mtu=1400] --subnet ...:
# make the Linux bridge and give it the gateway address Docker's IPAM chose.
. "$(dirname "$0")/lib/common.sh"
request=$(cat)
bridge=$(bridge_of "$request")
mtu=$(mtu_of "$request")

printf '%s' "$bridge" | grep -Eq '^[A-Za-z0-9_.-]{1,15}$' ||
    fail "option bridge=\"$bridge\" is not a valid interface name: use 1 to 15 letters, digits, '_', '.' or '-'"
case "$mtu" in ''|*[!0-9]*) fail "option mtu=\"$mtu\" is not a number: use an MTU from 68 to 65535" ;; esac
[ "$mtu" -ge 68 ] && [ "$mtu" -le 65535 ] || fail "option mtu=$mtu is out of range: use an MTU from 68 to 65535"

# Idempotent: after a crash halfway through, running again finishes the job.
link_exists "$bridge" || ip link add "$bridge" type bridge
ip link set "$bridge" mtu "$mtu"
gateway=$(printf '%s' "$request" | jq -r '.IPv4Data[0].Gateway // empty')
[ -z "$gateway" ] || ip addr replace "$gateway" dev "$bridge"
ip link set "$bridge" up
