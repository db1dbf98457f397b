#!/bin/sh
# Docker tells each node its own swarm address ({"DiscoveryType": 1, "DiscoveryData":
# {"Address": "10.250.0.11", "self": true}}): the uplink is the interface that holds it.
. "$(dirname "$0")/lib/common.sh"
request=$(cat)
address=$(printf '%s' "$request" | jq -r 'if .DiscoveryType == 1 and (.DiscoveryData.self // .DiscoveryData.Self // false) then .DiscoveryData.Address // empty else empty end')
[ -z "$address" ] && exit 0
mkdir -p "$NETPLUG_STATE_DIR"
printf '%s\n' "$address" >"$NETPLUG_STATE_DIR/node-address.new"
mv "$NETPLUG_STATE_DIR/node-address.new" "$NETPLUG_STATE_DIR/node-address"
