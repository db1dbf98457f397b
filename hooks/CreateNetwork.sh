#!/bin/sh
# docker network create -d NAME --subnet 10.20.0.0/24 mynet
# stdin: {"NetworkID", "Options", "IPv4Data": [{"Pool", "Gateway"}], "IPv6Data": [...]}.
# This starter makes one Linux bridge per network, named np-<first 12 digits of the id>, and
# gives it the gateway address Docker's IPAM chose. Print nothing (or {}) on success; to
# refuse, print a sentence on stderr and exit non-zero: `docker network create` shows it.
set -eu
request=$(cat)
bridge="np-$(printf '%s' "$NETPLUG_NETWORK_ID" | cut -c1-12)"
gateway=$(printf '%s' "$request" | jq -r '.IPv4Data[0].Gateway // empty')   # e.g. 10.20.0.1/24

# Docker may call again after a failure: a bridge of this network that already exists is fine.
ip link show "$bridge" >/dev/null 2>&1 || ip link add "$bridge" type bridge
[ -z "$gateway" ] || ip addr replace "$gateway" dev "$bridge"
ip link set "$bridge" up
