#!/bin/sh
# A container starts: stdin is {"NetworkID", "EndpointID", "SandboxKey", "Options"}.
# Make a veth pair, put one end on the network's bridge, and name the other in
# InterfaceName.SrcName: Docker moves it into the container, renames it eth0 (DstPrefix "eth"
# plus a number) and gives it the address its IPAM chose. Gateway is a plain IP.
# What CreateNetwork was given (the gateway) is in the record $NETPLUG_NETWORK_FILE.
set -eu
cat >/dev/null
bridge="np-$(printf '%s' "$NETPLUG_NETWORK_ID" | cut -c1-12)"
id=$(printf '%s' "$NETPLUG_ENDPOINT_ID" | cut -c1-11)     # interface names: 15 bytes at most
host="nph$id"
peer="npc$id"
ip link del "$host" 2>/dev/null || true                   # left by an interrupted Join
# A Join that fails gets no Leave from Docker: whatever it made goes with it.
trap '[ $? -eq 0 ] || ip link del "$host" 2>/dev/null' EXIT
ip link add "$host" type veth peer name "$peer"
ip link set "$host" master "$bridge"
ip link set "$host" up
gateway=$(jq -r '.Request.IPv4Data[0].Gateway // empty' "$NETPLUG_NETWORK_FILE" | cut -d/ -f1)
jq -n --arg src "$peer" --arg gw "$gateway" \
    '{InterfaceName: {SrcName: $src, DstPrefix: "eth"}} + (if $gw == "" then {} else {Gateway: $gw} end)'
