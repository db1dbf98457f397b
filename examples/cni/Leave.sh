#!/bin/sh
# The container stops: the chain's DEL, last plugin first, with what ADD answered. Docker
# gives the interface back to the host afterwards; DeleteEndpoint (or the next Join, after a
# `docker restart`) removes it.
. "$(dirname "$0")/lib/cni.sh"
cat >/dev/null
delete_chain "$NETPLUG_ENDPOINT_ID"
echo '{}'
