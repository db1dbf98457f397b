#!/bin/sh
# docker network create -d NAME: stdin is {"NetworkID", "Options", "IPv4Data": [{"Pool", "Gateway"}], ...}.
# Build the network here (a bridge, a VLAN, ...). Print nothing (or {}) on success;
# to refuse, print a message on stderr and exit non-zero: the user sees that message.
request=$(cat)
echo "creating network $NETPLUG_NETWORK_ID: $request" >&2
